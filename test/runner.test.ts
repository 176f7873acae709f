import { describe, expect, it } from 'vitest';
import { DistillDocument } from '../src/document.js';
import { runDocuments, runStages } from '../src/runner.js';
import type { Stage, StageContext } from '../src/stage.js';
import { o200k } from '../src/tokens.js';

const context: StageContext = { task: 'test', model: 'gpt-4o', tokenizer: o200k };

// Tiny stand-in stages: the runner's contract is what is under test here, not any real stage.
const dropFirstWord: Stage = {
  name: 'drop-first-word',
  run(doc) {
    doc.value = doc.value.replace(/^\S+\s*/, '');
    doc.data.ruleSavings = [{ rule: 'drop-first-word:word', hits: 1, tokensRemoved: 1 }];
  },
};
const explode: Stage = {
  name: 'explode',
  run(doc) {
    if (doc.value.includes('boom')) throw new Error('kaboom');
  },
};
const sleepy = (ms: (doc: DistillDocument) => number): Stage => ({
  name: 'sleepy',
  async run(doc) {
    await new Promise((resolve) => setTimeout(resolve, ms(doc)));
  },
});

const makeDoc = (id: string, text: string) => new DistillDocument({ id, text });

describe('runner', () => {
  it('counts o200k tokens before and after each stage and moves rule savings onto the metric', async () => {
    const doc = await runStages(makeDoc('a', 'Hello wonderful world'), { stages: [dropFirstWord, dropFirstWord], context });
    expect(doc.value).toBe('world');
    expect(doc.stages.map((metric) => [metric.tokensIn, metric.tokensOut])).toEqual([
      [o200k.count('Hello wonderful world'), o200k.count('wonderful world')],
      [o200k.count('wonderful world'), o200k.count('world')],
    ]);
    expect(doc.stages[0]!.rules).toEqual([{ rule: 'drop-first-word:word', hits: 1, tokensRemoved: 1 }]);
    expect(doc.data.ruleSavings).toBeUndefined();
  });

  it('turns a throw into that document’s error and skips its later stages', async () => {
    const doc = await runStages(makeDoc('b', 'boom goes here'), { stages: [explode, dropFirstWord], context });
    expect(doc.status).toBe('error');
    expect(doc.messages[0]).toMatchObject({ origin: 'explode:crash', fatal: true, code: 'E_STAGE' });
    expect(doc.messages[0]!.reason).toContain('kaboom');
    expect(doc.stages[1]).toMatchObject({ stage: 'drop-first-word', skipped: true });
    expect(doc.value).toBe('boom goes here');
  });

  it('yields in input order while running documents concurrently, within the bound', async () => {
    let running = 0;
    let peak = 0;
    const tracking: Stage = {
      name: 'tracking',
      async run(doc) {
        running++;
        peak = Math.max(peak, running);
        await new Promise((resolve) => setTimeout(resolve, Number(doc.id) % 3 === 0 ? 30 : 5));
        running--;
      },
    };
    const ids = Array.from({ length: 12 }, (_, index) => String(index));
    const out: string[] = [];
    for await (const doc of runDocuments(ids, async (id) => makeDoc(id, `doc ${id}`), { stages: [tracking], context, concurrency: 3 })) out.push(doc.id);
    expect(out).toEqual(ids);
    expect(peak).toBe(3);
  });

  it('keeps going after a failed document', async () => {
    const texts = ['fine one', 'boom', 'fine two'];
    const statuses: string[] = [];
    for await (const doc of runDocuments(texts, async (text) => makeDoc(text, text), { stages: [explode, sleepy(() => 1)], context })) statuses.push(doc.status);
    expect(statuses).toEqual(['ok', 'error', 'ok']);
  });

  it.each([0, -1, 1.5])('rejects concurrency %s with a message naming the option', async (concurrency) => {
    const run = runDocuments([], async () => makeDoc('x', 'x'), { stages: [], context, concurrency });
    await expect(run.next()).rejects.toThrow(/Expected `concurrency` to be a positive integer/);
  });
});
