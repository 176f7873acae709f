import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { LocalThreads } from '../src/local-threads.js';
import { createPipeline, type PipelineOptions } from '../src/pipeline.js';
import type { StageEvent } from '../src/runner.js';
import { readablePath, walkFiles } from '../src/loaders/walk.js';

/**
 * `threads`: the local stages on worker threads, a document per thread at a
 * time. Real stages, real model, real files: a thread must give exactly what
 * the calling thread gives.
 */

const root = new URL('..', import.meta.url).pathname;
const task = 'Who is involved, and what dates and figures are given?';
// Run-wide dedupe included: the sections stage sees the documents in input order whatever the threads do.
const base: PipelineOptions = { task, budget: 400, dryRun: true, llm: false };

async function fixtureFiles(): Promise<string[]> {
  const files: string[] = [];
  for await (const file of walkFiles(join(root, 'fixtures/docs'))) files.push(readablePath(file));
  return files.sort();
}

async function records(options: PipelineOptions, inputs: { path: string }[]) {
  const events: StageEvent[] = [];
  const pipeline = createPipeline({ ...options, onStage: (event) => events.push(event) });
  try {
    const out = [];
    for await (const record of pipeline.run(inputs)) out.push(record);
    return { out, events };
  } finally {
    await pipeline.close();
  }
}

describe('createPipeline threads', () => {
  it('gives the same records on two threads as in the calling thread', async () => {
    const inputs = (await fixtureFiles()).map((path) => ({ path }));
    expect(inputs.length).toBeGreaterThanOrEqual(5);
    const single = await records(base, inputs);
    const routed = vi.spyOn(LocalThreads.prototype, 'run');
    const threaded = await records({ ...base, threads: 2 }, inputs);
    expect(routed).toHaveBeenCalledTimes(inputs.length);
    routed.mockRestore();
    const comparable = (record: (typeof single.out)[number]) => ({
      id: record.id,
      status: record.status,
      tokens: record.tokens,
      distilled: record.distilled,
      stages: record.stages.map(({ stage, tokensIn, tokensOut }) => ({ stage, tokensIn, tokensOut })),
      messages: record.messages,
    });
    expect(threaded.out.map(comparable)).toEqual(single.out.map(comparable));
    expect(threaded.out.every((record) => record.status === 'ok')).toBe(true);
  }, 180_000);

  it('reports every local stage of every document to onStage, with the document', async () => {
    const inputs = (await fixtureFiles()).slice(0, 3).map((path) => ({ path }));
    const { out, events } = await records({ ...base, threads: 2 }, inputs);
    expect(events.map((event) => `${event.doc.id}:${event.stage}`).sort()).toEqual(
      out.flatMap((record) => ['regex', 'entities', 'classify', 'sections'].map((stage) => `${record.id}:${stage}`)).sort(),
    );
    for (const event of events) expect(event.tokensOut).toBeLessThanOrEqual(event.tokensIn);
  }, 180_000);

  it('keeps a document that cannot be read in the output, as an error with its reason', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'distill-threads-'));
    await writeFile(join(folder, 'broken.pdf'), 'not a pdf at all');
    await writeFile(join(folder, 'fine.txt'), 'The treaty was signed on 4 July 1976 for $13 million.');
    const { out } = await records({ ...base, threads: 2 }, [{ path: join(folder, 'broken.pdf') }, { path: join(folder, 'fine.txt') }]);
    expect(out.map((record) => record.status)).toEqual(['error', 'ok']);
    expect(out[0]!.messages[0]!.reason).toMatch(/pdf/i);
    expect(out[1]!.distilled).toContain('$13 million');
  }, 180_000);

  it('fails ready() once, with the model path, when a thread cannot load the classifier', async () => {
    const pipeline = createPipeline({ ...base, threads: 2, classify: { model: join(root, 'fixtures/no-such-model') } });
    try {
      await expect(pipeline.ready()).rejects.toThrow(/no-such-model/);
    } finally {
      await pipeline.close();
    }
  }, 60_000);

  it.each([
    [{ threads: 0 }, 'a positive integer'],
    [{ threads: 1.5 }, 'a positive integer'],
    [{ threads: 2, tokenizer: { count: () => 0, encode: () => new Uint32Array(), decode: () => '' } }, 'custom tokenizer'],
    [{ threads: 2, classify: { classifier: { model: 'm', labels: [], classify: async () => [] } } }, 'injected objects'],
  ])('rejects %j naming `threads`', (extra, expected) => {
    expect(() => createPipeline({ ...base, ...extra } as PipelineOptions)).toThrow(TypeError);
    expect(() => createPipeline({ ...base, ...extra } as PipelineOptions)).toThrow(expected);
  });
});
