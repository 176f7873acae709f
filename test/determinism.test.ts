import { describe, expect, it } from 'vitest';
import { spamAssassin } from '../bench/corpora.js';
import { createPipeline, type PipelineInput, type PipelineOptions } from '../src/pipeline.js';
import type { DistillRecord } from '../src/record.js';

/**
 * The same input, options and version give the same records, whatever the
 * thread count, the concurrency or which document was quickest: what a
 * rerun sends must be what the first run sent, or the response cache (keyed
 * on the prompt) misses and the answer is bought again. Real stages and
 * model over real emails, dry (nothing sent, no key).
 *
 * Run-wide dedupe and the classifier's memo of labels both carry state from
 * one document to the next, so both are exercised: the sample is one whose
 * emails repeat each other's quotes and footers.
 */

const corpus = await spamAssassin(200);
const options: PipelineOptions = { task: corpus.task, budget: corpus.budget, dryRun: true, cache: false };

/** A record without what may differ between identical runs: the stages' timings. */
function comparable(record: DistillRecord): unknown {
  return { ...record, stages: record.stages.map(({ ms: _ms, ...stage }) => stage) };
}

/** One document at a time, in the calling thread: each is done before the next is read. */
async function oneAtATime(inputs: readonly PipelineInput[]): Promise<unknown[]> {
  const pipeline = createPipeline({ ...options, threads: 1 });
  try {
    const records: unknown[] = [];
    for (const input of inputs) records.push(comparable(await pipeline.process(input)));
    return records;
  } finally {
    await pipeline.close();
  }
}

/** Eight documents in flight at once, finishing in whatever order the threads and the model make. */
async function eightAtOnce(threads: number, inputs: readonly PipelineInput[]): Promise<unknown[]> {
  const pipeline = createPipeline({ ...options, threads, concurrency: 8 });
  try {
    const records: unknown[] = [];
    for await (const record of pipeline.run(inputs)) records.push(comparable(record));
    return records;
  } finally {
    await pipeline.close();
  }
}

describe('determinism', () => {
  it('gives identical records, timings aside, at 1 and 2 threads and at concurrency 1 and 8', async () => {
    expect(corpus.inputs.length).toBeGreaterThanOrEqual(200);
    const reference = await oneAtATime(corpus.inputs);
    const records = reference as DistillRecord[];
    // The sample must exercise what carries over between documents, or agreeing would prove nothing.
    const acrossDocuments = records.flatMap((record) => ((record.selection as { duplicates: { of: string }[] }).duplicates ?? []).filter((duplicate) => duplicate.of.includes('#')));
    expect(acrossDocuments.length).toBeGreaterThan(20);
    expect(records.filter((record) => record.labels !== undefined).length).toBeGreaterThan(150);

    // Concurrency 8 in one thread, then on two threads, each thread with its own memo of labels.
    expect(await eightAtOnce(1, corpus.inputs)).toEqual(reference);
    expect(await eightAtOnce(2, corpus.inputs)).toEqual(reference);
  }, 300_000);
});
