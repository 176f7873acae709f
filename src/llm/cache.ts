/**
 * The response cache: a paid answer is never paid for twice. The key is a
 * hash of everything that shapes the answer (model, messages, parameters),
 * so a rerun over the same folder and task finds every document already
 * answered. Stores: files on disk (the default, `.distill-cache/`), Redis
 * with a TTL, or memory.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { invalidOption } from '../errors.js';
import { CacheError } from './errors.js';

export interface CachedUsage {
  promptTokens: number;
  cachedTokens: number;
  completionTokens: number;
}

export interface CacheEntry {
  key: string;
  model: string;
  /** The answer text. */
  response: string;
  usage: CachedUsage;
  finishReason?: string | null;
  /** What the answer cost when it was bought; null for an unpriced model. */
  costUsd: number | null;
  /** Bought through the Batch API (at batch prices). */
  batch?: boolean;
  createdAt: string;
}

/** A store for answers by key. Injectable: pass one as `cache`. */
export interface ResponseCache {
  readonly kind: string;
  /** Where it lives, for messages: a folder or a Redis URL. */
  readonly location: string;
  get(key: string): Promise<CacheEntry | undefined>;
  set(key: string, entry: CacheEntry): Promise<void>;
  close(): Promise<void>;
}

/** The parameters that shape an answer; anything else (timeouts, ids) stays out of the key. */
export interface CacheKeyInput {
  model: string;
  messages: readonly { role: string; content: string }[];
  [parameter: string]: unknown;
}

/** sha256 over a canonical JSON (sorted keys), so the same request hashes the same in any process. */
export function cacheKey(request: CacheKeyInput): string {
  return createHash('sha256').update(canonicalJson(request)).digest('hex');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([name, item]) => `${JSON.stringify(name)}:${canonicalJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * One JSON file per answer, under a two-letter fan-out. Each file is written
 * to a temporary name, flushed, then renamed: a crash leaves either the
 * whole answer or nothing, never half a file.
 */
export class DiskCache implements ResponseCache {
  readonly kind = 'disk';
  readonly location: string;

  constructor(directory: string) {
    this.location = resolve(directory);
  }

  #path(key: string): string {
    if (!/^[0-9a-f]{16,128}$/.test(key)) throw new CacheError(`bad cache key \`${key}\``);
    return join(this.location, key.slice(0, 2), `${key}.json`);
  }

  async get(key: string): Promise<CacheEntry | undefined> {
    let text: string;
    try {
      text = await readFile(this.#path(key), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new CacheError(`cannot read the cache at ${this.location}: ${(error as Error).message}`, { cause: error });
    }
    try {
      const entry = JSON.parse(text) as CacheEntry;
      return entry.key === key && typeof entry.response === 'string' ? entry : undefined;
    } catch {
      // Only a file written outside us can be torn; treat it as a miss, the answer is bought again.
      return undefined;
    }
  }

  async set(key: string, entry: CacheEntry): Promise<void> {
    const path = this.#path(key);
    const temporary = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      await mkdir(dirname(path), { recursive: true });
      const handle = await open(temporary, 'w');
      try {
        await handle.writeFile(JSON.stringify(entry));
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temporary, path);
    } catch (error) {
      await rm(temporary, { force: true }).catch(() => undefined);
      throw new CacheError(`cannot write the cache at ${this.location}: ${(error as Error).message}`, {
        cause: error,
        fix: 'Check the folder is writable, or pass `--cache <dir>` / `--no-cache`.',
      });
    }
  }

  async close(): Promise<void> {}
}

export class MemoryCache implements ResponseCache {
  readonly kind = 'memory';
  readonly location = 'memory';
  readonly entries = new Map<string, CacheEntry>();
  async get(key: string) {
    return this.entries.get(key);
  }
  async set(key: string, entry: CacheEntry) {
    this.entries.set(key, entry);
  }
  async close() {}
}

export interface RedisCacheOptions {
  /** Seconds an answer is kept. @default 2592000 (30 days) */
  ttlSeconds?: number;
  /** @default 'distill:llm:' */
  prefix?: string;
}

type RedisClient = {
  connect(): Promise<unknown>;
  get(key: string): Promise<string | null | unknown>;
  set(key: string, value: string, options: { expiration: { type: 'EX'; value: number } }): Promise<unknown>;
  quit?(): Promise<unknown>;
  close?(): Promise<unknown>;
  destroy?(): void;
  on(event: 'error', listener: (error: unknown) => void): unknown;
  isOpen: boolean;
};

/** Redis (`redis://host:port`), each answer under `prefix + key` with a TTL. Connects on first use. */
export class RedisCache implements ResponseCache {
  readonly kind = 'redis';
  readonly location: string;
  readonly ttlSeconds: number;
  readonly prefix: string;
  #client: Promise<RedisClient> | undefined;
  #lastError: unknown;

  constructor(url: string, options: RedisCacheOptions = {}) {
    this.location = url;
    this.ttlSeconds = options.ttlSeconds ?? 30 * 24 * 3600;
    if (!Number.isInteger(this.ttlSeconds) || this.ttlSeconds < 1) throw invalidOption('cacheTtlSeconds', 'a positive integer', options.ttlSeconds);
    this.prefix = options.prefix ?? 'distill:llm:';
  }

  #connect(): Promise<RedisClient> {
    this.#client ??= (async () => {
      const { createClient } = await import('redis');
      // Fail fast instead of queueing commands forever against a dead server.
      const client = createClient({
        url: this.location,
        socket: { connectTimeout: 5000, reconnectStrategy: (retries: number) => (retries > 3 ? false : 200 * (retries + 1)) },
        disableOfflineQueue: true,
      }) as unknown as RedisClient;
      client.on('error', (error) => {
        this.#lastError = error;
      });
      try {
        await client.connect();
      } catch (error) {
        this.#client = undefined;
        throw new CacheError(`cannot connect to Redis at ${this.location}: ${(error as Error).message ?? String(error)}`, {
          cause: error,
          fix: 'Start Redis, correct `--cache redis://host:port`, or pass `--no-cache`.',
        });
      }
      return client;
    })();
    return this.#client;
  }

  async get(key: string): Promise<CacheEntry | undefined> {
    const client = await this.#connect();
    let text: unknown;
    try {
      text = await client.get(this.prefix + key);
    } catch (error) {
      throw new CacheError(`Redis GET failed at ${this.location}: ${(error as Error).message}`, { cause: error ?? this.#lastError });
    }
    if (typeof text !== 'string') return undefined;
    try {
      const entry = JSON.parse(text) as CacheEntry;
      return entry.key === key ? entry : undefined;
    } catch {
      return undefined;
    }
  }

  async set(key: string, entry: CacheEntry): Promise<void> {
    const client = await this.#connect();
    try {
      await client.set(this.prefix + key, JSON.stringify(entry), { expiration: { type: 'EX', value: this.ttlSeconds } });
    } catch (error) {
      throw new CacheError(`Redis SET failed at ${this.location}: ${(error as Error).message}`, { cause: error ?? this.#lastError });
    }
  }

  async close(): Promise<void> {
    if (!this.#client) return;
    const pending = this.#client;
    this.#client = undefined;
    const client = await pending.catch(() => undefined);
    if (client?.isOpen) {
      if (client.close) await client.close();
      else await client.quit?.();
    }
  }
}

/** What `cache` may be: off, the default folder, a folder, a Redis URL, or a store. */
export type CacheSetting = boolean | string | ResponseCache;

/** The default folder, in the current project folder. */
export const defaultCacheDirectory = '.distill-cache';

export function openCache(setting: CacheSetting | undefined, options: RedisCacheOptions & { cwd?: string } = {}): ResponseCache | undefined {
  if (setting === false) return undefined;
  if (setting === undefined || setting === true) return new DiskCache(resolve(options.cwd ?? process.cwd(), defaultCacheDirectory));
  if (typeof setting === 'string') {
    if (setting.trim() === '') throw invalidOption('cache', 'a folder, a redis:// URL, or false', setting);
    if (/^rediss?:\/\//.test(setting)) {
      const redisOptions: RedisCacheOptions = {};
      if (options.ttlSeconds !== undefined) redisOptions.ttlSeconds = options.ttlSeconds;
      if (options.prefix !== undefined) redisOptions.prefix = options.prefix;
      return new RedisCache(setting, redisOptions);
    }
    return new DiskCache(resolve(options.cwd ?? process.cwd(), setting));
  }
  if (typeof setting === 'object' && setting !== null && typeof setting.get === 'function' && typeof setting.set === 'function') return setting;
  throw invalidOption('cache', 'a folder, a redis:// URL, false, or a store with get/set', setting);
}
