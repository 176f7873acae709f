import { describe, expect, it } from 'vitest';
import { diffText } from '../src/spans/diff.js';
import { keptText, recordEdit, spanRecord, startTrace, tracedText } from '../src/spans/trace.js';
import { createPipeline, walkInputs } from '../src/index.js';

/** `before` with the diff's ops applied: must be `after`. */
function applyDiff(before: string, after: string): string {
  let out = '';
  let cursor = 0;
  for (const op of diffText(before, after)) {
    if (op.kind === 'equal') out += before.slice(cursor, (cursor += op.length));
    else if (op.kind === 'delete') cursor += op.length;
    else out += op.text;
  }
  return cursor === before.length ? out : `(ops covered ${cursor} of ${before.length} characters)`;
}

/** A fixed-seed generator, so a failure reproduces. */
function random(seed: number): () => number {
  return () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
}

const words = ['budget', 'the', 'Q3', 'is', '$48,000', 'confirm', 'by', '30', 'September', '.', '\n', '\n\n', 'Received:', 'from', 'mx'];

function randomText(next: () => number, length: number): string {
  return Array.from({ length }, () => words[Math.floor(next() * words.length)]).join(' ');
}

/** Delete some words, rewrite a few, keep the rest: what stages do. */
function randomEdit(next: () => number, text: string): string {
  return text
    .split(' ')
    .filter(() => next() > 0.4)
    .map((word) => (next() < 0.05 ? word.toUpperCase() : word))
    .join(next() < 0.5 ? ' ' : '  ');
}

describe('diffText', () => {
  it.each([
    ['', ''],
    ['abc', ''],
    ['', 'abc'],
    ['Sentence A. Sentence B. Sentence C.', 'Sentence A. Sentence C.'],
    ['line one\nline two\nline three\n', 'line one\nline three\n'],
    ['a &amp; b', 'a & b'],
  ])('turns %j into %j', (before, after) => {
    expect(applyDiff(before, after)).toBe(after);
  });

  it('turns random texts into random edits of them', () => {
    const next = random(7);
    for (let round = 0; round < 200; round++) {
      const before = randomText(next, 1 + Math.floor(next() * 120));
      const after = randomEdit(next, before);
      expect(applyDiff(before, after)).toBe(after);
    }
  });

  it('cuts on word boundaries, not inside words, when a sentence goes', () => {
    const ops = diffText('Sentence A. Sentence B. Sentence C.', 'Sentence A. Sentence C.');
    expect(ops.filter((op) => op.kind !== 'equal')).toEqual([{ kind: 'delete', length: 'Sentence B. '.length }]);
  });

  it('stays right past its edit limit (coarser, not wrong)', () => {
    const before = Array.from({ length: 6000 }, (_, index) => `line ${index}\n`).join('');
    const after = Array.from({ length: 6000 }, (_, index) => (index % 2 ? `line ${index}\n` : `changed ${index}\n`)).join('');
    expect(applyDiff(before, after)).toBe(after);
  });
});

describe('span trace', () => {
  it('keeps the current text equal to the last edit through many edits', () => {
    const next = random(11);
    for (let round = 0; round < 40; round++) {
      const original = randomText(next, 80);
      const trace = startTrace(original);
      let current = original;
      for (let edit = 0; edit < 4; edit++) {
        current = randomEdit(next, current);
        recordEdit(trace, original, current, `stage-${edit}`);
        expect(tracedText(trace, original)).toBe(current);
      }
      expect(keptText(spanRecord(trace, original))).toBe(current);
    }
  });

  it('credits hinted removals to their reasons, and the rest to the stage', () => {
    const original = 'Received: from mx\nSubject: Rent\n\nRent is due. Spam here. Bye.';
    const trace = startTrace(original);
    const headers = 'Received: from mx\n';
    recordEdit(trace, original, original.slice(headers.length), 'regex', [{ start: 0, end: headers.length, reason: 'regex:email-transport-headers' }]);
    const current = tracedText(trace, original);
    const spam = current.indexOf('Spam here.');
    recordEdit(trace, original, current.replace('Spam here. ', ''), 'sections', [{ start: spam, end: spam + 'Spam here.'.length, reason: 'not selected (score 0.10)' }]);
    const record = spanRecord(trace, original);
    const removed: [string, string][] = [];
    for (let index = 0; index < record.removed.length; index += 3) removed.push([original.slice(record.removed[index], record.removed[index + 1]), record.reasons[record.removed[index + 2]!]!]);
    // The space after the hinted sentence went with it (the diff's deletion beside a hint takes the hint's reason).
    expect(removed).toEqual([
      [headers, 'regex:email-transport-headers'],
      ['Spam here. ', 'not selected (score 0.10)'],
    ]);
    expect(keptText(record)).toBe('Subject: Rent\n\nRent is due. Bye.');
  });

  it('records text a stage added, in its place', () => {
    const original = 'a &lt;b&gt;\n\n\n\nc';
    const trace = startTrace(original);
    recordEdit(trace, original, 'a <b>\n\nc', 'regex:noise-markup');
    const record = spanRecord(trace, original);
    expect(record.added.map(([, text, reason]) => [text, record.reasons[reason]])).toEqual([
      ['<', 'regex:noise-markup'],
      ['>', 'regex:noise-markup'],
    ]);
    expect(keptText(record)).toBe('a <b>\n\nc');
  });
});

describe('span capture through the pipeline', () => {
  const task = 'Who is involved, and what dates and figures are given?';

  it.each([1, 2])('gives every fixture a trace whose kept text is its distilled text (threads %i)', async (threads) => {
    const pipeline = createPipeline({ task, budget: 500, dryRun: true, spans: true, threads, llm: { cache: false } });
    try {
      const records = [];
      for await (const record of pipeline.run(walkInputs('fixtures/docs'))) records.push(record);
      expect(records.length).toBeGreaterThan(4);
      for (const record of records) {
        expect(record.spans, record.source).toBeDefined();
        expect(keptText(record.spans!), record.source).toBe(record.distilled);
      }
      // The email's transport headers are credited to the rule that removed them, the text as loaded kept in full.
      const email = records.find((record) => record.source.endsWith('forteana-reply.eml'))!;
      const spans = email.spans!;
      const received = spans.text.indexOf('Received:');
      expect(received).toBeGreaterThanOrEqual(0);
      const covering = Array.from({ length: spans.removed.length / 3 }, (_, index) => spans.removed.slice(index * 3, index * 3 + 3)).find(([start, end]) => start! <= received && received < end!);
      expect(spans.reasons[covering![2]!]).toBe('regex:email-transport-headers');
    } finally {
      await pipeline.close();
    }
  });

  it('adds nothing to records when it is off', async () => {
    const pipeline = createPipeline({ task, budget: 500, dryRun: true, threads: 1, llm: { cache: false } });
    try {
      const record = await pipeline.process({ path: 'fixtures/docs/email/forteana-reply.eml' });
      expect(record).not.toHaveProperty('spans');
    } finally {
      await pipeline.close();
    }
  });
});
