import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DistillDocument } from '../src/document.js';
import { RedisCache } from '../src/llm/cache.js';
import type { StageContext } from '../src/stage.js';
import { o200k } from '../src/tokens.js';
import { callModel } from '../stages/llm.js';
import { startOpenAIServer, type OpenAIServer } from './helpers/openai-server.js';

const context: StageContext = { task: 'List the figures.', model: 'gpt-4o', tokenizer: o200k };

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** A real redis-server of our own, in memory only, on a free 127.0.0.1 port. */
async function startRedis(): Promise<{ url: string; process: ChildProcess }> {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`redis-server did not start: ${output}`)), 10_000);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`cannot run redis-server (apt-get install -y redis-server): ${error.message}`));
    });
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  return { url: `redis://127.0.0.1:${port}`, process: child };
}

let redis: { url: string; process: ChildProcess };
let server: OpenAIServer;

beforeAll(async () => {
  redis = await startRedis();
  server = await startOpenAIServer();
});

afterAll(async () => {
  await server?.close();
  if (redis?.process.exitCode === null) {
    const exited = new Promise((resolve) => redis.process.once('exit', resolve));
    redis.process.kill('SIGTERM');
    await exited;
  }
});

function docs(count: number) {
  return Array.from({ length: count }, (_, index) => new DistillDocument({ id: `r${index}`, source: `r${index}.txt`, text: `Order ${index} shipped 3 crates on 2024-05-0${index + 1}.` }));
}

describe('callModel with a Redis cache', () => {
  it('stores answers in Redis with a TTL, and a rerun sends nothing', async () => {
    const stageOptions = { apiKey: 'sk-test', baseURL: server.url, cache: redis.url, cacheTtlSeconds: 3600 };
    const first = callModel(stageOptions);
    const firstDocs = docs(4);
    await Promise.all(firstDocs.map((doc) => first.run(doc, context)));
    await first.close();
    expect(server.requests).toHaveLength(4);
    expect(first.summary().cache).toBe(redis.url);

    const client = createClient({ url: redis.url });
    await client.connect();
    const keys = await client.keys('distill:llm:*');
    expect(keys).toHaveLength(4);
    const ttl = await client.ttl(keys[0]!);
    expect(ttl).toBeGreaterThan(3500);
    expect(ttl).toBeLessThanOrEqual(3600);
    await client.close();

    const second = callModel(stageOptions);
    const secondDocs = docs(4);
    await Promise.all(secondDocs.map((doc) => second.run(doc, context)));
    await second.close();
    expect(server.requests).toHaveLength(4);
    expect(secondDocs.map((doc) => doc.data.response)).toEqual(firstDocs.map((doc) => doc.data.response));
    expect(second.summary()).toMatchObject({ cacheHits: 4, requests: 0 });
    expect(second.summary().savedByCacheUsd).toBeCloseTo(first.summary().spentUsd, 12);
  });

  it('fails the documents plainly, and sends nothing, when Redis is unreachable', async () => {
    const port = await freePort();
    const before = server.requests.length;
    const stage = callModel({ apiKey: 'sk-test', baseURL: server.url, cache: `redis://127.0.0.1:${port}` });
    const batch = docs(2);
    for (const doc of batch) await stage.run(doc, context);
    await stage.close();
    expect(server.requests.length).toBe(before);
    expect(batch.map((doc) => doc.status)).toEqual(['error', 'error']);
    expect(batch[0]!.messages.at(-1)).toMatchObject({ origin: 'llm:cache', code: 'E_LLM_CACHE' });
    expect(batch[0]!.messages.at(-1)!.reason).toContain(`cannot connect to Redis at redis://127.0.0.1:${port}`);
  });

  it('round-trips an entry through RedisCache directly', async () => {
    const cache = new RedisCache(redis.url, { ttlSeconds: 60, prefix: 'direct:' });
    const entry = { key: 'ab'.repeat(32), model: 'gpt-4o', response: 'Ok.', usage: { promptTokens: 10, cachedTokens: 0, completionTokens: 2 }, costUsd: 0.000045, createdAt: new Date(0).toISOString() };
    expect(await cache.get(entry.key)).toBeUndefined();
    await cache.set(entry.key, entry);
    expect(await cache.get(entry.key)).toEqual(entry);
    await cache.close();
  });
});
