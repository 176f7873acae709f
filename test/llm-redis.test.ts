import { createServer, type Server } from 'node:net';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DistillDocument } from '../src/document.js';
import { RedisCache } from '../src/llm/cache.js';
import type { StageContext } from '../src/stage.js';
import { o200k } from '../src/tokens.js';
import { callModel } from '../stages/llm.js';
import { startOpenAIServer, type OpenAIServer } from './helpers/openai-server.js';
import { freePort, startRedisServer, type RedisServer } from './helpers/redis-server.js';
import { service } from './helpers/services.js';

const context: StageContext = { task: 'List the figures.', model: 'gpt-4o', tokenizer: o200k };
const redisServer = service('redis-server');

let server: OpenAIServer;

beforeAll(async () => {
  server = await startOpenAIServer();
});

afterAll(async () => {
  await server?.close();
});

function docs(count: number) {
  return Array.from({ length: count }, (_, index) => new DistillDocument({ id: `r${index}`, source: `r${index}.txt`, text: `Order ${index} shipped 3 crates on 2024-05-0${index + 1}.` }));
}

describe.skipIf(!redisServer.path)('callModel with a Redis cache', () => {
  let redis: RedisServer;

  beforeAll(async () => {
    redis = await startRedisServer(redisServer.path!);
  });

  afterAll(async () => {
    await redis?.close();
  });

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

  it('round-trips an entry through RedisCache directly', async () => {
    const cache = new RedisCache(redis.url, { ttlSeconds: 60, prefix: 'direct:' });
    const entry = { key: 'ab'.repeat(32), model: 'gpt-4o', response: 'Ok.', usage: { promptTokens: 10, cachedTokens: 0, completionTokens: 2 }, costUsd: 0.000045, createdAt: new Date(0).toISOString() };
    expect(await cache.get(entry.key)).toBeUndefined();
    await cache.set(entry.key, entry);
    expect(await cache.get(entry.key)).toEqual(entry);
    await cache.close();
  });

  it('starts redis-server on another port when the probed one is taken', async () => {
    const taken: Server = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const takenPort = (taken.address() as { port: number }).port;
    const ports = [takenPort];
    const tried: number[] = [];
    const second = await startRedisServer(redisServer.path!, {
      choosePort: async () => {
        const port = ports.shift() ?? (await freePort());
        tried.push(port);
        return port;
      },
    });
    try {
      expect(tried).toHaveLength(2);
      expect(tried[0]).toBe(takenPort);
      expect(second.port).toBe(tried[1]);
      const cache = new RedisCache(second.url, { ttlSeconds: 60 });
      expect(await cache.get('cd'.repeat(32))).toBeUndefined();
      await cache.close();
    } finally {
      await second.close();
      await new Promise((resolve) => taken.close(resolve));
    }
  });
});

describe('callModel with an unreachable Redis', () => {
  it('fails the documents plainly, and sends nothing', async () => {
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
});
