import { describe, expect, it } from 'vitest';
import { spamAssassin } from '../bench/corpora.js';
import { createPipeline } from '../src/pipeline.js';
import type { DistillRecord } from '../src/record.js';

/**
 * Per-rule and per-label savings are what users read to decide which rule
 * or label to turn off, so they must add up to what each stage removed:
 * for every stage with rules, the tokens its rules removed sum to its
 * tokens in minus its tokens out, exactly. Real stages and model over real
 * emails, with the classifier dropping noise labels, at a budget and without.
 */

const corpus = await spamAssassin(60);

async function recordsOf(budget: number | undefined): Promise<DistillRecord[]> {
  const pipeline = createPipeline({
    task: corpus.task,
    ...(budget === undefined ? {} : { budget }),
    dryRun: true,
    llm: false,
    classify: { drop: ['signature', 'legal', 'footer', 'navigation', 'quoted'] },
  });
  try {
    const records: DistillRecord[] = [];
    for await (const record of pipeline.run(corpus.inputs)) records.push(record);
    return records;
  } finally {
    await pipeline.close();
  }
}

/** Per stage, the documents whose rules do not add up to the stage's change, and the rules that ran at all. */
function reconcile(records: readonly DistillRecord[]) {
  const mismatches: string[] = [];
  const rules = new Set<string>();
  for (const record of records) {
    for (const stage of record.stages) {
      const credited = (stage.rules ?? []).reduce((sum, rule) => sum + rule.tokensRemoved, 0);
      for (const rule of stage.rules ?? []) rules.add(rule.rule.startsWith('classify:') ? 'classify:*' : rule.rule);
      // Every stage, also one that reports no rules: a change nobody is credited with is a mismatch too.
      if (credited !== stage.tokensIn - stage.tokensOut) mismatches.push(`${record.id} ${stage.stage}: ${stage.tokensIn} → ${stage.tokensOut}, rules ${credited}`);
    }
  }
  return { mismatches, rules: [...rules].sort() };
}

describe('per-rule accounting', () => {
  it.each([
    ['at a budget', corpus.budget, ['regex:email-transport-headers', 'classify:*', 'sections:budget', 'sections:dedupe']],
    ['without a budget', undefined, ['classify:*', 'sections:dedupe', 'sections:noise']],
  ])('sums each stage’s rule and label savings to its token change, %s', async (_, budget, exercised) => {
    const { mismatches, rules } = reconcile(await recordsOf(budget));
    // The figures are only worth checking if the labels and rules in question removed something.
    expect(rules).toEqual(expect.arrayContaining(exercised));
    expect(mismatches).toEqual([]);
  }, 180_000);
});
