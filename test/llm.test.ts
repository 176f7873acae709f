import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DistillDocument } from '../src/document.js';
import { cacheKey, DiskCache } from '../src/llm/cache.js';
import { costOf } from '../src/pricing.js';
import type { StageContext } from '../src/stage.js';
import { o200k } from '../src/tokens.js';
import { callModel, type CallModelOptions } from '../stages/llm.js';
import { startOpenAIServer, type OpenAIServer, type OpenAIServerOptions } from './helpers/openai-server.js';

const context: StageContext = { task: 'Summarise the budget figures.', model: 'gpt-4o', tokenizer: o200k };
let server: OpenAIServer | undefined;
let folder: string;

beforeEach(async () => {
  folder = await mkdtemp(join(tmpdir(), 'distill-llm-'));
});

afterEach(async () => {
  await server?.close();
  server = undefined;
  await rm(folder, { recursive: true, force: true });
});

async function serve(options: OpenAIServerOptions = {}) {
  server = await startOpenAIServer(options);
  return server;
}

/** A stage against the test server, with a cache in this test's own folder and fast backoff. */
function stageFor(target: OpenAIServer, options: CallModelOptions = {}) {
  return callModel({
    apiKey: 'sk-test',
    baseURL: target.url,
    cache: join(folder, 'cache'),
    retryBaseDelayMs: 5,
    retryMaxDelayMs: 50,
    ...options,
  });
}

function documents(count: number, prefix = 'doc') {
  return Array.from(
    { length: count },
    (_, index) => new DistillDocument({ id: `${prefix}-${index}`, source: `${prefix}-${index}.txt`, text: `Item ${index}: revenue rose to $${index + 1} million in 2024.` }),
  );
}

describe('callModel', () => {
  it('sends the distilled text through the SDK and records answer, usage and cost', async () => {
    const target = await serve();
    const doc = new DistillDocument({ id: 'a', source: 'a.txt', text: 'Revenue rose to $13 million in 2024.' });
    await stageFor(target).run(doc, context);
    expect(target.requests).toHaveLength(1);
    const sent = target.requests[0]!.body;
    expect(sent.messages[1]!.content).toContain('<document source="a.txt">\nRevenue rose to $13 million in 2024.\n</document>');
    expect(sent).toMatchObject({ model: 'gpt-4o', max_tokens: 1024 });
    expect(doc.data.response).toMatch(/^Answer [0-9a-f]{12} to "Summarise the budget figures\."/);
    const usage = doc.data.usage!;
    expect(usage.promptTokens).toBeGreaterThan(40);
    expect(doc.data.llm).toMatchObject({ dryRun: false, cached: false, model: 'gpt-4o', attempts: 1 });
    expect(doc.data.llm?.costUsd).toBeCloseTo(costOf('gpt-4o', usage)!, 12);
    expect(doc.data.request).toEqual(sent);
  });

  it('sends nothing for a document the local stages emptied, and says so', async () => {
    const target = await serve();
    const doc = new DistillDocument({ id: 'dup', source: 'dup.txt', text: 'x' });
    doc.value = '\n\n';
    await stageFor(target).run(doc, context);
    expect(target.requests).toHaveLength(0);
    expect(doc.status).toBe('skipped');
    expect(doc.messages.at(-1)).toMatchObject({ origin: 'llm:empty', reason: expect.stringMatching(/nothing left to send/) });
  });

  it('turns the SDK retries off, so every attempt is ours', async () => {
    const target = await serve({ serverErrorEvery: 1 });
    const doc = documents(1)[0]!;
    const stage = stageFor(target, { maxRetries: 0 });
    await stage.run(doc, context);
    expect(target.requests).toHaveLength(1);
    expect(doc.status).toBe('error');
    expect(doc.messages.at(-1)).toMatchObject({ origin: 'llm:api', code: 'E_LLM_SERVER', fatal: true });
  });

  it('sends nothing in a dry run and records the estimate', async () => {
    const target = await serve();
    const doc = new DistillDocument({ id: 'a', text: 'Some text.' });
    const stage = stageFor(target, { dryRun: true });
    await stage.run(doc, context);
    expect(target.log).toHaveLength(0);
    const prompt = o200k.count('system') + o200k.count('user') + 9;
    expect(doc.data.llm).toMatchObject({ dryRun: true, estimated: true, attempts: 0 });
    expect(doc.data.llm!.costUsd).toBeGreaterThan(costOf('gpt-4o', { promptTokens: prompt, completionTokens: 1024 })!);
    expect(doc.data.request).toMatchObject({ model: 'gpt-4o', max_tokens: 1024 });
    expect(stage.summary()).toMatchObject({ dryRun: true, requests: 0, estimatedUsd: doc.data.llm!.costUsd });
  });

  it('is a dry run when there is no API key', async () => {
    const saved = process.env.OPENAI_API_KEY;
    delete process.env.OPENAI_API_KEY;
    try {
      const target = await serve();
      const doc = documents(1)[0]!;
      await callModel({ baseURL: target.url, cache: false }).run(doc, context);
      expect(target.log).toHaveLength(0);
      expect(doc.data.llm?.dryRun).toBe(true);
    } finally {
      if (saved !== undefined) process.env.OPENAI_API_KEY = saved;
    }
  });

  it('uses an injected client', async () => {
    const target = await serve();
    const client = new OpenAI({ apiKey: 'x', baseURL: target.url, maxRetries: 0 });
    const doc = documents(1)[0]!;
    await callModel({ client, cache: false }).run(doc, context);
    expect(target.requests).toHaveLength(1);
    expect(doc.data.llm?.dryRun).toBe(false);
  });

  it.each([
    ['maxTokens', { maxTokens: 0 }],
    ['timeoutMs', { timeoutMs: -1 }],
    ['concurrency', { concurrency: 0 }],
    ['rpm', { rpm: 0 }],
    ['tpm', { tpm: 0 }],
    ['maxRetries', { maxRetries: 1.5 }],
    ['maxCost', { maxCost: -1 }],
    ['temperature', { temperature: 3 }],
    ['cache', { cache: '' }],
    ['batch', { batch: 'yes' as unknown as boolean }],
    ['route.maxPromptTokens', { route: { maxPromptTokens: 0 } }],
    ['route.complexTask', { route: { complexTask: '(' } }],
  ])('throws a TypeError naming `%s`', (name, options) => {
    expect(() => callModel(options as CallModelOptions)).toThrow(TypeError);
    expect(() => callModel(options as CallModelOptions)).toThrow(`Expected \`${name}\``);
  });
});

describe('callModel retries', () => {
  it.each([
    ['429 with Retry-After', { rateLimitEvery: 2, retryAfterMs: 30 }, 'E_LLM_RATE_LIMIT'],
    ['500', { serverErrorEvery: 2 }, 'E_LLM_SERVER'],
    ['a connection reset', { resetEvery: 2 }, 'E_LLM_CONNECTION'],
    ['a timeout', { fault: (n: number) => (n === 2 ? { kind: 'hang' as const } : undefined) }, 'E_LLM_TIMEOUT'],
  ])('retries %s and answers', async (_, faults, code) => {
    const target = await serve(faults);
    const docs = documents(3);
    // Only the hung request may time out: the others must answer well within the timeout, even on a loaded machine.
    const stage = stageFor(target, { concurrency: 1, timeoutMs: 3000 });
    for (const doc of docs) await stage.run(doc, context);
    expect(docs.map((doc) => doc.status)).toEqual(['ok', 'ok', 'ok']);
    expect(docs.every((doc) => typeof doc.data.response === 'string' && doc.data.response.startsWith('Answer'))).toBe(true);
    const summary = stage.summary();
    expect(summary.retries).toBeGreaterThanOrEqual(1);
    expect(summary.retriesByCode[code]).toBeGreaterThanOrEqual(1);
    expect(summary.requests).toBe(target.requests.length);
    expect(docs[1]!.data.llm!.attempts).toBe(2);
  });

  it('waits out Retry-After before the next attempt', async () => {
    const target = await serve({ fault: (n) => (n === 1 ? { kind: 'status', status: 429, code: 'rate_limit_exceeded', retryAfterMs: 400 } : undefined) });
    const doc = documents(1)[0]!;
    await stageFor(target).run(doc, context);
    expect(doc.status).toBe('ok');
    expect(target.requests).toHaveLength(2);
    expect(target.requests[1]!.at - target.requests[0]!.at).toBeGreaterThanOrEqual(390);
  });

  it('stops the run instead of stalling when Retry-After is hours away', async () => {
    const target = await serve({ fault: () => ({ kind: 'status', status: 429, code: 'rate_limit_exceeded', retryAfterMs: 3_600_000 }) });
    const docs = documents(3);
    const stage = stageFor(target, { concurrency: 1 });
    for (const doc of docs) await stage.run(doc, context);
    expect(target.requests).toHaveLength(1);
    expect(docs[0]!.messages.at(-1)).toMatchObject({ code: 'E_LLM_RATE_LIMIT' });
    expect(docs[0]!.messages.at(-1)!.reason).toContain('the API asks to wait 3600 s, more than 600 s');
    expect(docs[2]!.messages.at(-1)).toMatchObject({ code: 'E_LLM_STOPPED' });
  });

  it('gives up after maxRetries with the last error', async () => {
    const target = await serve({ serverErrorEvery: 1 });
    const doc = documents(1)[0]!;
    const stage = stageFor(target, { maxRetries: 3 });
    await stage.run(doc, context);
    expect(target.requests).toHaveLength(4);
    expect(doc.status).toBe('error');
    expect(doc.data.llm?.attempts).toBe(4);
    expect(doc.messages.at(-1)?.code).toBe('E_LLM_SERVER');
  });

  it.each([
    [400, 'invalid_value', 'E_LLM_BAD_REQUEST'],
    [401, 'invalid_api_key', 'E_LLM_AUTH'],
    [403, 'unsupported_country_region_territory', 'E_LLM_AUTH'],
    [404, 'model_not_found', 'E_LLM_NOT_FOUND'],
    [429, 'insufficient_quota', 'E_LLM_QUOTA'],
  ])('never retries %i %s, and the run stops sending', async (status, code, expected) => {
    const target = await serve({ fault: () => ({ kind: 'status', status, code, type: code === 'insufficient_quota' ? 'insufficient_quota' : 'invalid_request_error' }) });
    const docs = documents(4);
    const stage = stageFor(target, { concurrency: 1 });
    for (const doc of docs) await stage.run(doc, context);
    expect(target.requests).toHaveLength(1);
    expect(docs.map((doc) => doc.status)).toEqual(['error', 'error', 'error', 'error']);
    expect(docs[0]!.messages.at(-1)).toMatchObject({ origin: 'llm:api', code: expected });
    expect(docs[3]!.messages.at(-1)).toMatchObject({ origin: 'llm:stopped', code: 'E_LLM_STOPPED' });
    expect(docs[3]!.messages.at(-1)!.reason).toContain(`the run stopped sending after ${expected}`);
    expect(stage.summary().stopped).toMatchObject({ code: expected });
  });

  it('still serves cached answers after the run stopped sending', async () => {
    const warm = await serve();
    const docs = documents(3);
    await stageFor(warm).run(docs[2]!, context);
    await warm.close();
    const target = await serve({ fault: () => ({ kind: 'status', status: 401, code: 'invalid_api_key' }) });
    const stage = stageFor(target, { concurrency: 1 });
    const again = documents(3);
    for (const doc of again) await stage.run(doc, context);
    expect(again.map((doc) => doc.status)).toEqual(['error', 'error', 'ok']);
    expect(again[2]!.data.llm?.cached).toBe(true);
    expect(target.requests).toHaveLength(1);
  });

  it('fails only the document whose prompt is too long', async () => {
    const target = await serve({ fault: (n) => (n === 1 ? { kind: 'status', status: 400, code: 'context_length_exceeded', message: "This model's maximum context length is 128000 tokens." } : undefined) });
    const docs = documents(3);
    const stage = stageFor(target, { concurrency: 1 });
    for (const doc of docs) await stage.run(doc, context);
    expect(docs.map((doc) => doc.status)).toEqual(['error', 'ok', 'ok']);
    expect(target.requests).toHaveLength(3);
    expect(stage.summary().stopped).toBeNull();
  });
});

describe('callModel cache', () => {
  it('answers a rerun from the disk cache, sending nothing, and records what it saved', async () => {
    const target = await serve();
    const first = stageFor(target);
    const firstDocs = documents(5);
    await Promise.all(firstDocs.map((doc) => first.run(doc, context)));
    await first.close();
    expect(target.requests).toHaveLength(5);
    const spent = first.summary().spentUsd;
    expect(spent).toBeGreaterThan(0);

    const second = stageFor(target);
    const secondDocs = documents(5);
    await Promise.all(secondDocs.map((doc) => second.run(doc, context)));
    expect(target.requests).toHaveLength(5);
    expect(secondDocs.map((doc) => doc.data.response)).toEqual(firstDocs.map((doc) => doc.data.response));
    expect(secondDocs.every((doc) => doc.data.llm?.cached === true && doc.data.llm.costUsd === 0)).toBe(true);
    const summary = second.summary();
    expect(summary).toMatchObject({ cacheHits: 5, sent: 0, requests: 0, spentUsd: 0 });
    expect(summary.savedByCacheUsd).toBeCloseTo(spent, 12);
    expect(secondDocs[0]!.data.llm!.savedUsd).toBeCloseTo(firstDocs[0]!.data.llm!.costUsd!, 12);
  });

  it('writes one complete file per answer and leaves no temporary file', async () => {
    const target = await serve();
    const stage = stageFor(target);
    const docs = documents(3);
    await Promise.all(docs.map((doc) => stage.run(doc, context)));
    const directory = join(folder, 'cache');
    const files = (await readdir(directory, { recursive: true })).filter((name) => name.endsWith('.json'));
    expect(files).toHaveLength(3);
    expect((await readdir(directory, { recursive: true })).filter((name) => name.endsWith('.tmp'))).toEqual([]);
    const entry = await new DiskCache(directory).get(docs[0]!.data.llm!.cacheKey!);
    expect(entry?.response).toBe(docs[0]!.data.response);
  });

  it('misses when the model, max_tokens or text change', async () => {
    const target = await serve();
    const base = documents(1)[0]!;
    await stageFor(target).run(base, context);
    const changes: [CallModelOptions, string][] = [
      [{ model: 'gpt-4o-mini' }, base.value],
      [{ maxTokens: 200 }, base.value],
      [{}, `${base.value} And costs fell.`],
    ];
    for (const [options, text] of changes) {
      await stageFor(target, options).run(new DistillDocument({ id: base.id, source: base.source, text }), context);
    }
    expect(target.requests).toHaveLength(4);
    const key = (request: unknown) => cacheKey(request as Parameters<typeof cacheKey>[0]);
    expect(new Set(target.requests.map((request) => key(request.body))).size).toBe(4);
  });

  it('sends identical documents in flight once', async () => {
    const target = await serve({ delayMs: 100 });
    const stage = stageFor(target, { cache: false });
    const docs = [0, 1, 2].map((index) => new DistillDocument({ id: `same-${index}`, source: 'same.txt', text: 'The same text.' }));
    await Promise.all(docs.map((doc) => stage.run(doc, context)));
    expect(target.requests).toHaveLength(1);
    expect(docs.map((doc) => doc.data.llm?.cached)).toEqual([false, true, true]);
    expect(new Set(docs.map((doc) => doc.data.response)).size).toBe(1);
  });

  it('with `cache: false` pays again', async () => {
    const target = await serve();
    for (let round = 0; round < 2; round += 1) await stageFor(target, { cache: false }).run(documents(1)[0]!, context);
    expect(target.requests).toHaveLength(2);
  });
});

describe('callModel maxCost', () => {
  it('stops before the request that would pass the limit and skips the rest', async () => {
    const target = await serve();
    const docs = documents(30);
    const estimateOf = (doc: DistillDocument) => {
      const probe = callModel({ dryRun: true, cache: false, maxTokens: 200 });
      const copy = new DistillDocument({ id: doc.id, source: doc.source, text: doc.value });
      return Promise.resolve(probe.run(copy, context)).then(() => probe.summary().estimatedUsd);
    };
    const estimates = await Promise.all(docs.map(estimateOf));
    // Room for two requests at their full max_tokens estimate; answers are short, so more go through.
    const maxCost = estimates[0]! * 2;
    const stage = stageFor(target, { maxCost, maxTokens: 200, concurrency: 1 });
    for (const doc of docs) await stage.run(doc, context);
    const statuses = docs.map((doc) => doc.status);
    const firstSkipped = statuses.indexOf('skipped');
    expect(firstSkipped).toBeGreaterThan(2);
    expect(statuses.slice(0, firstSkipped).every((status) => status === 'ok')).toBe(true);
    expect(statuses.slice(firstSkipped).every((status) => status === 'skipped')).toBe(true);
    expect(target.requests).toHaveLength(firstSkipped);
    // Each sent request fitted with its estimate; the first skipped one would not have.
    let spent = 0;
    for (let index = 0; index < firstSkipped; index += 1) {
      expect(spent + estimates[index]!).toBeLessThanOrEqual(maxCost);
      spent += docs[index]!.data.llm!.costUsd!;
    }
    expect(spent + estimates[firstSkipped]!).toBeGreaterThan(maxCost);
    const skipped = docs[firstSkipped]!.messages.at(-1)!;
    expect(skipped).toMatchObject({ origin: 'llm:max-cost', fatal: false });
    expect(skipped.reason).toMatch(/^max cost \$[\d.e-]+ reached/);
    const summary = stage.summary();
    expect(summary.skippedByMaxCost).toBe(30 - firstSkipped);
    expect(summary.spentUsd).toBeCloseTo(spent, 12);
    expect(summary.spentUsd).toBeLessThanOrEqual(maxCost);
    console.log(`maxCost $${maxCost.toFixed(6)}: ${firstSkipped} sent for $${spent.toFixed(6)}, ${30 - firstSkipped} skipped`);
  });

  it('still serves cached answers after the limit, for free', async () => {
    const target = await serve();
    const docs = documents(3);
    const warm = stageFor(target);
    await warm.run(docs[2]!, context);
    const stage = stageFor(target, { maxCost: 0 });
    const again = documents(3);
    for (const doc of again) await stage.run(doc, context);
    expect(again.map((doc) => doc.status)).toEqual(['skipped', 'skipped', 'ok']);
    expect(again[2]!.data.llm?.cached).toBe(true);
    expect(target.requests).toHaveLength(1);
  });
});

describe('callModel routing', () => {
  it('sends small simple prompts to gpt-4o-mini and the rest to gpt-4o, and reports the split', async () => {
    const target = await serve();
    const stage = stageFor(target, { route: { maxPromptTokens: 120 } });
    const short = documents(3);
    const long = [new DistillDocument({ id: 'long', source: 'long.txt', text: 'Revenue and costs by quarter. '.repeat(40) })];
    for (const doc of [...short, ...long]) await stage.run(doc, context);
    const why = new DistillDocument({ id: 'why', source: 'why.txt', text: 'Costs fell.' });
    await stage.run(why, { ...context, task: 'Explain why costs fell.' });
    expect(target.requests.map((request) => request.body.model)).toEqual(['gpt-4o-mini', 'gpt-4o-mini', 'gpt-4o-mini', 'gpt-4o', 'gpt-4o']);
    expect(why.data.llm?.route).toMatchObject({ tier: 'large', reason: 'task asks to "Explain"' });
    const { models } = stage.summary();
    expect(models['gpt-4o-mini']?.documents).toBe(3);
    expect(models['gpt-4o']?.documents).toBe(2);
    expect(models['gpt-4o-mini']!.spentUsd).toBeGreaterThan(0);
    expect(models['gpt-4o']!.spentUsd).toBeGreaterThan(models['gpt-4o-mini']!.spentUsd);
  });
});

describe('callModel limits', () => {
  it('pauses when x-ratelimit-remaining-requests reaches 0, so the server never has to refuse', async () => {
    const target = await serve({ rpm: 3, windowMs: 1000 });
    const stage = stageFor(target, { concurrency: 1 });
    const docs = documents(8);
    for (const doc of docs) await stage.run(doc, context);
    expect(docs.every((doc) => doc.status === 'ok')).toBe(true);
    expect(target.requests.filter((request) => request.outcome === 'rpm')).toHaveLength(0);
    expect(target.requests).toHaveLength(8);
    expect(stage.summary().rateLimit.pauses).toBeGreaterThanOrEqual(2);
  });

  it('keeps prompt tokens plus max_tokens under tpm', async () => {
    const target = await serve({ tpm: 3000, windowMs: 1000 });
    const stage = stageFor(target, { tpm: 3000, windowMs: 1000, maxTokens: 500, concurrency: 4 });
    const docs = documents(12);
    await Promise.all(docs.map((doc) => stage.run(doc, context)));
    expect(docs.every((doc) => doc.status === 'ok')).toBe(true);
    expect(target.requests.filter((request) => request.outcome === 'tpm')).toHaveLength(0);
    expect(target.requests).toHaveLength(12);
  });

  it('fails a request larger than tpm plainly, without sending it', async () => {
    const target = await serve();
    const doc = documents(1)[0]!;
    const stage = stageFor(target, { tpm: 600, maxTokens: 1000 });
    await stage.run(doc, context);
    expect(target.requests).toHaveLength(0);
    expect(doc.messages.at(-1)).toMatchObject({ code: 'E_LLM_TPM', fatal: true });
  });
});

describe('callModel resume', () => {
  it('on abort, stops sending but keeps every answer already on the wire; a rerun sends only the rest', async () => {
    const controller = new AbortController();
    const target = await serve({ delayMs: 40, fault: (n) => (n === 5 ? (controller.abort(), undefined) : undefined) });
    const docs = documents(10);
    const first = stageFor(target, { concurrency: 2 });
    await Promise.all(docs.map((doc) => first.run(doc, { ...context, signal: controller.signal })));
    await first.close();
    const answered = docs.filter((doc) => doc.status === 'ok');
    const aborted = docs.filter((doc) => doc.status === 'error');
    expect(answered.length).toBeGreaterThanOrEqual(3);
    expect(aborted.length).toBeGreaterThanOrEqual(4);
    expect(aborted.every((doc) => doc.messages.at(-1)?.code === 'E_LLM_ABORTED')).toBe(true);
    // Every request that reached the server was answered and kept: nothing paid is lost.
    expect(target.requests).toHaveLength(answered.length);
    const sentBefore = target.requests.length;

    const rerun = stageFor(target, { concurrency: 2 });
    const again = documents(10);
    await Promise.all(again.map((doc) => rerun.run(doc, context)));
    expect(again.every((doc) => doc.status === 'ok')).toBe(true);
    const answeredPrompts = new Set(answered.map((doc) => JSON.stringify((doc.data.request as { messages: unknown }).messages)));
    const resent = target.requests.slice(sentBefore).filter((request) => answeredPrompts.has(JSON.stringify(request.body.messages)));
    expect(resent).toEqual([]);
    expect(rerun.summary().cacheHits).toBe(answered.length);
    expect(rerun.summary().sent).toBe(10 - answered.length);
  });
});

describe('callModel crash safety', () => {
  it('loses no paid answer when the process is killed mid-run', async () => {
    const { spawn } = await import('node:child_process');
    const { writeFile } = await import('node:fs/promises');
    const target = await serve({ delayMs: 30 });
    const root = process.cwd();
    const child = join(folder, 'child.mts');
    await writeFile(
      child,
      `import { callModel } from ${JSON.stringify(join(root, 'stages/llm.js'))};
import { DistillDocument } from ${JSON.stringify(join(root, 'src/document.js'))};
import { o200k } from ${JSON.stringify(join(root, 'src/tokens.js'))};
const stage = callModel({ apiKey: 'sk-test', baseURL: process.env.BASE_URL, cache: process.env.CACHE_DIR, concurrency: 3 });
const context = { task: ${JSON.stringify(context.task)}, model: 'gpt-4o', tokenizer: o200k };
await Promise.all(Array.from({ length: 20 }, async (_, index) => {
  const doc = new DistillDocument({ id: 'doc-' + index, source: 'doc-' + index + '.txt', text: 'Item ' + index + ': revenue rose to $' + (index + 1) + ' million in 2024.' });
  await stage.run(doc, context);
  process.stdout.write('answered ' + doc.source + '\\n');
}));
`,
    );
    const process_ = spawn(process.execPath, ['--import', 'tsx', child], {
      env: { ...process.env, BASE_URL: target.url, CACHE_DIR: join(folder, 'cache') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const answered: string[] = [];
    let errors = '';
    process_.stderr!.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    await new Promise<void>((resolve, reject) => {
      process_.stdout!.on('data', (chunk: Buffer) => {
        for (const line of chunk.toString().split('\n')) if (line.startsWith('answered ')) answered.push(line.slice(9));
        if (answered.length >= 6 && process_.exitCode === null) process_.kill('SIGKILL');
      });
      process_.once('exit', () => (answered.length >= 6 ? resolve() : reject(new Error(`child exited early: ${errors}`))));
    });
    expect(answered.length).toBeLessThan(20);
    const paid = target.answered().length;

    const rerun = stageFor(target, { concurrency: 3 });
    const docs = documents(20);
    await Promise.all(docs.map((doc) => rerun.run(doc, context)));
    expect(docs.every((doc) => doc.status === 'ok')).toBe(true);
    const hits = docs.filter((doc) => doc.data.llm?.cached).map((doc) => doc.source);
    // Everything the killed process saw answered is served from the cache, not bought again.
    expect(hits).toEqual(expect.arrayContaining(answered));
    // At most the requests in flight at the kill (up to `concurrency`) were paid and lost.
    expect(paid - hits.length).toBeLessThanOrEqual(3);
    expect(rerun.summary().sent).toBe(20 - hits.length);
  }, 30_000);
});

describe('callModel pricing', () => {
  it('shows an unpriced model as unknown, never as free', async () => {
    const target = await serve();
    const stage = stageFor(target, { model: 'my-fine-tune' });
    const doc = documents(1)[0]!;
    await stage.run(doc, context);
    expect(doc.status).toBe('ok');
    expect(doc.data.llm?.costUsd).toBeNull();
    expect(stage.summary()).toMatchObject({ unpriced: 1, spentUsd: 0 });
  });

  it('refuses to guess under maxCost when the model has no price', async () => {
    const target = await serve();
    const doc = documents(1)[0]!;
    await stageFor(target, { model: 'my-fine-tune', maxCost: 1 }).run(doc, context);
    expect(target.requests).toHaveLength(0);
    expect(doc.messages.at(-1)).toMatchObject({ origin: 'llm:max-cost', code: 'E_LLM_UNPRICED', fatal: true });
  });

  it('prices cached prompt tokens at the cached rate', async () => {
    const target = await serve();
    const stage = stageFor(target, { cache: false });
    // Two long prompts with the same 1024+ token prefix: the server reports the prefix as cached.
    const long = 'The committee reviewed appropriations line by line. '.repeat(150);
    const docs = [0, 1].map((index) => new DistillDocument({ id: `p${index}`, source: 'report.txt', text: `${long}\nSection ${index}.` }));
    for (const doc of docs) await stage.run(doc, context);
    const usage = docs[1]!.data.usage!;
    expect(usage.cachedTokens).toBeGreaterThanOrEqual(1024);
    expect(docs[1]!.data.llm!.costUsd).toBeCloseTo(costOf('gpt-4o', usage)!, 12);
    expect(docs[1]!.data.llm!.costUsd!).toBeLessThan(costOf('gpt-4o', { ...usage, cachedTokens: 0 })!);
  });
});

describe('callModel on a hung server', () => {
  // Timing only bounds the hang: a stage that waited out every document's attempts, or six retries, would take far longer.
  it('gives up within timeoutMs × attempts plus a margin, stops sending, and every record names --timeout', async () => {
    const target = await serve({ fault: () => ({ kind: 'hang' }) });
    const docs = documents(6);
    const stage = stageFor(target, { concurrency: 3, timeoutMs: 300 });
    const started = Date.now();
    await Promise.all(docs.map((doc) => stage.run(doc, context)));
    const elapsed = Date.now() - started;
    expect(docs.map((doc) => doc.status)).toEqual(Array(6).fill('error'));
    for (const doc of docs) {
      const failure = doc.messages.at(-1)!;
      expect(failure.code === 'E_LLM_TIMEOUT' || failure.code === 'E_LLM_STOPPED').toBe(true);
      expect(failure.reason).toContain('did not answer in 0.3 s (--timeout 0.3)');
      expect(failure.fix).toContain('--timeout');
      expect(failure.reason).not.toMatch(/--budget/);
      expect(failure.fix).not.toMatch(/--budget/);
    }
    // One timeout retry per document, and the three documents waiting for a slot never went on the wire.
    expect(target.requests.length).toBeLessThanOrEqual(3 * 2);
    expect(stage.summary().stopped).toMatchObject({ code: 'E_LLM_TIMEOUT' });
    expect(elapsed).toBeLessThan(300 * 2 + 30_000);
  });

  it('retries a timeout once by default, not maxRetries times', async () => {
    const target = await serve({ fault: () => ({ kind: 'hang' }) });
    const doc = documents(1)[0]!;
    await stageFor(target, { timeoutMs: 200, maxRetries: 6 }).run(doc, context);
    expect(doc.data.llm?.attempts).toBe(2);
    expect(target.requests).toHaveLength(2);
  });

  it('fails only the slow document when the server answers the others meanwhile', async () => {
    const target = await serve({ fault: (n, body) => (JSON.stringify(body.messages).includes('Item 0:') ? { kind: 'hang' } : { kind: 'delay', ms: 50 }) });
    const docs = documents(8);
    // A timeout the quick answers never come near, on a loaded machine too.
    const stage = stageFor(target, { concurrency: 2, timeoutMs: 3000 });
    await Promise.all(docs.map((doc) => stage.run(doc, context)));
    expect(docs.map((doc) => doc.status)).toEqual(['error', ...Array(7).fill('ok')]);
    expect(docs[0]!.messages.at(-1)).toMatchObject({ code: 'E_LLM_TIMEOUT' });
    expect(stage.summary().stopped).toBeNull();
  });

  it('reports the requests on the wire and the oldest one’s age while it waits', async () => {
    const target = await serve({ fault: () => ({ kind: 'hang' }) });
    // Long enough that the requests are still waiting when their age is read, however slowly this test gets there.
    const stage = stageFor(target, { concurrency: 2, timeoutMs: 5000, maxTimeoutRetries: 0 });
    expect(stage.activity()).toEqual({ inFlight: 0, oldestMs: 0 });
    const running = Promise.all(documents(2).map((doc) => stage.run(doc, context)));
    while (target.requests.length < 2) await new Promise((resolve) => setTimeout(resolve, 20));
    await new Promise((resolve) => setTimeout(resolve, 300));
    const activity = stage.activity();
    expect(activity.inFlight).toBe(2);
    expect(activity.oldestMs).toBeGreaterThanOrEqual(250);
    await running;
    expect(stage.activity().inFlight).toBe(0);
  });
});

describe('callModel flush', () => {
  it('resolves only once the answers already received are written to the cache', async () => {
    const target = await serve();
    let finishWrite: (() => void) | undefined;
    const written: string[] = [];
    const slowCache = {
      kind: 'memory',
      location: 'memory',
      get: async () => undefined,
      set: (key: string) =>
        new Promise<void>((resolve) => {
          finishWrite = () => {
            written.push(key);
            resolve();
          };
        }),
      close: async () => undefined,
    };
    const stage = stageFor(target, { cache: slowCache });
    const running = stage.run(documents(1)[0]!, context);
    // Wait for the write itself to start, not for a guessed time after the answer.
    while (!finishWrite) await new Promise((resolve) => setTimeout(resolve, 10));
    let flushed = false;
    const flushing = stage.flush().then(() => (flushed = true));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(flushed).toBe(false);
    finishWrite();
    await flushing;
    expect(written).toHaveLength(1);
    await running;
  });
});

describe('callModel secrets', () => {
  const key = 'sk-proj-LEAKCANARY0123456789abcdef';

  it('keeps a key the server echoes out of messages, the summary, answers and the cache', async () => {
    const target = await serve({
      fault: (n, _body, headers) =>
        n === 1 ? { kind: 'status', status: 500, message: `upstream failed for ${headers.authorization}` } : n === 3 ? { kind: 'status', status: 401, code: 'invalid_api_key', message: `Incorrect API key provided: ${key}.` } : undefined,
      reply: (_body, headers) => `You sent ${headers.authorization} (${key}).`,
    });
    const docs = documents(3);
    const stage = stageFor(target, { apiKey: key, concurrency: 1, maxRetries: 0 });
    for (const doc of docs) await stage.run(doc, context);
    expect(target.requests).toHaveLength(3);
    expect(docs.map((doc) => doc.status)).toEqual(['error', 'ok', 'error']);
    expect(docs[0]!.messages.at(-1)!.reason).toContain('Bearer [redacted]');
    expect(docs[1]!.data.response).toBe('You sent Bearer [redacted] ([redacted]).');
    expect(docs[2]!.messages.at(-1)!.reason).toContain('Incorrect API key provided: [redacted]');
    const { readFile } = await import('node:fs/promises');
    const cached = await Promise.all(
      (await readdir(join(folder, 'cache'), { recursive: true })).filter((name) => name.endsWith('.json')).map((name) => readFile(join(folder, 'cache', name), 'utf8')),
    );
    expect(cached).toHaveLength(1);
    const everything = JSON.stringify({ messages: docs.map((doc) => doc.messages), data: docs.map((doc) => doc.data.response), summary: stage.summary(), cached });
    expect(everything).not.toContain('LEAKCANARY');
  });
});
