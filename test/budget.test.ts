import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cutToBudget } from '../src/budget.js';
import { createPipeline } from '../src/pipeline.js';
import { o200k } from '../src/tokens.js';
import { localStageNames, type LocalStageName } from '../stages/names.js';

/**
 * The budget is the pipeline's promise for every subset of the local
 * stages, not only when the sections stage runs: each subset, at one
 * thread and at two, and every `distilled` recounted with o200k.
 */
const root = new URL('..', import.meta.url).pathname;
const subsets: LocalStageName[][] = Array.from({ length: 1 << localStageNames.length }, (_, mask) => localStageNames.filter((_, bit) => mask & (1 << bit)));
const budget = 60;

describe('budget at the pipeline boundary', () => {
  it.each(subsets.flatMap((stages) => [1, 2].map((threads) => [stages.join(',') || '(none)', threads, stages] as const)))(
    'stages %s, threads %i: no distilled text over the budget',
    async (_, threads, stages) => {
      const email = await readFile(join(root, 'fixtures/docs/email/forteana-reply.eml'));
      const long = Array.from({ length: 60 }, (_, index) => `Line ${index}: the shipment of ${index * 3} crates leaves on ${(index % 28) + 1} June.`).join('\n');
      const pipeline = createPipeline({ task: 'When does the shipment leave, and how many crates?', budget, stages, threads, llm: false });
      try {
        const records = [];
        for await (const record of pipeline.run([{ id: 'long', text: long }, { id: 'email', bytes: email, format: 'email' }, { id: 'short', text: 'Two crates leave on 3 June.' }])) records.push(record);
        expect(records.map((record) => record.status)).toEqual(['ok', 'ok', 'ok']);
        for (const record of records) {
          const tokens = o200k.count(record.distilled);
          expect(tokens).toBeLessThanOrEqual(budget);
          expect(record.tokens.distilled).toBe(tokens);
        }
        // The long text is over the budget whatever ran: without the sections stage it is cut, and says so.
        const long0 = records[0]!;
        expect(long0.distilled.length).toBeGreaterThan(0);
        const cut = long0.messages.some((message) => message.origin === 'budget:cut');
        expect(cut).toBe(!stages.includes('sections'));
        expect(records[2]!.distilled).toBe('Two crates leave on 3 June.');
      } finally {
        await pipeline.close();
      }
    },
    120_000,
  );
});

describe('cutToBudget', () => {
  const text = 'The first sentence is short. The second one is a little longer than the first. The third sentence ends it.';

  it('keeps a verbatim head that ends after a whole sentence', () => {
    const cut = cutToBudget(text, 20, o200k);
    expect(cut.boundary).toBe('sentence');
    expect(cut.text).toBe('The first sentence is short. The second one is a little longer than the first.');
    expect(cut.tokens).toBeLessThanOrEqual(20);
    expect(cut.tokens).toBe(o200k.count(cut.text));
  });

  it('cuts after a word when no sentence fits', () => {
    const cut = cutToBudget(text, 3, o200k);
    expect(cut).toEqual({ text: 'The first sentence', tokens: 3, boundary: 'word' });
  });

  it('cuts inside a word that is over the budget on its own, between code points', () => {
    const word = `https://example.org/${'a1b2c3'.repeat(40)}😀`;
    const cut = cutToBudget(word, 5, o200k);
    expect(cut.boundary).toBe('character');
    expect(word.startsWith(cut.text)).toBe(true);
    expect(o200k.count(cut.text)).toBeLessThanOrEqual(5);
    expect(cut.text.length).toBeGreaterThan(0);
  });

  it.each([1, 2, 5, 13, 40])('never exceeds a budget of %i on mixed text', (limit) => {
    const mixed = `# Title\n\n- item one, with $4,200\n- item two 😀 naïve café\n\n${'Word '.repeat(50)}\nLast line.`;
    const cut = cutToBudget(mixed, limit, o200k);
    expect(o200k.count(cut.text)).toBeLessThanOrEqual(limit);
    expect(mixed.startsWith(cut.text)).toBe(true);
  });
});
