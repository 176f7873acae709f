import { describe, expect, it } from 'vitest';
import { busyMs, headTruncate, measure, survives } from '../src/measure.js';
import { o200k } from '../src/tokens.js';

describe('measure', () => {
  it.each([
    [[], 0],
    [[[0, 10]], 10],
    [[[0, 10], [5, 15]], 15],
    [[[0, 10], [20, 25]], 15],
    [[[20, 25], [0, 10], [2, 3]], 15],
  ] as [[number, number][], number][])('busy time of %j is %d', (intervals, expected) => {
    expect(busyMs(intervals)).toBe(expected);
  });

  it('truncates to exactly the budget or less, never more', () => {
    const text = 'Costs rose 4.5% to $1,250,000 in Zürich — naïve estimates missed it. '.repeat(50);
    for (const budget of [1, 7, 50, 333]) {
      const head = headTruncate(text, budget);
      expect(o200k.count(head)).toBeLessThanOrEqual(budget);
      expect(text.startsWith(head)).toBe(true);
    }
  });

  it('folds whitespace when checking that a span survived', () => {
    expect(survives('due on\n3 May', 'It is due on 3   May.')).toBe(true);
    expect(survives('due on 3 May', 'It is due on 4 May.')).toBe(false);
  });

  it('reports per-stage tokens, the baselines and retention on the same documents', async () => {
    const text = `# Budget\n\nThe budget is $4,200 and is due on 3 May 2024.\n\n# History\n\n${'The committee met and talked about many unrelated things at length. '.repeat(60)}`;
    const result = await measure([{ id: 'a', text }], {
      name: 'tiny',
      task: 'How much is the budget and when is it due?',
      budget: 60,
      stages: ['regex', 'sections'],
      baselines: { head: (input, _task, budget) => headTruncate(input, budget) },
      mustKeep: new Map([['a', ['$4,200', '3 May 2024']]]),
    });
    expect(result.stages.map((row) => row.stage)).toEqual(['regex', 'sections']);
    expect(result.stages[1]!.tokensOut).toBeLessThanOrEqual(60);
    expect(result.methods.map((row) => row.method)).toEqual(['no distillation', 'head', 'distill to 60']);
    expect(result.methods[0]!.tokens).toBe(o200k.count(text));
    expect(result.methods[2]!.retention).toBe(1);
    expect(result.methods[2]!.gpt4oUsd!).toBeLessThan(result.methods[0]!.gpt4oUsd!);
  });
});
