/**
 * The `llm` stage: sends the distilled document, delimited as data, to the
 * chat model through the official `openai` SDK, cheaply and safely:
 * - never over the account's limits (sliding-window rpm/tpm, Retry-After,
 *   `x-ratelimit-*`), with our own retry policy (the SDK's is off);
 * - never a paid request repeated (a response cache, written the moment an
 *   answer arrives, so a rerun or a run after Ctrl-C sends nothing twice);
 * - never an unbounded bill (`maxCost` stops before the request that would
 *   pass it).
 * With no API key, or with `dryRun`, nothing goes on the network: the record
 * shows the request that would have been sent and its estimated cost.
 * Aborting `context.signal` (Ctrl-C) stops new sends; requests already on the
 * wire finish and are cached, because they are billed either way.
 */
import { join } from 'node:path';
import OpenAI from 'openai';
import type { DistillDocument } from '../src/document.js';
import { DistillError, invalidOption } from '../src/errors.js';
import { llmOptionsSchema, rejectUnknownOptions } from '../src/options.js';
import { costOf, type ModelPrice } from '../src/pricing.js';
import { buildMessages, countPromptTokens, type ChatMessage } from '../src/prompt.js';
import { redactSecrets } from '../src/redact.js';
import type { Stage, StageContext } from '../src/stage.js';
import { defaultBatchDirectory, pendingBatchKeys, submitBatch, type BatchItem, type BatchSubmission } from '../src/llm/batch.js';
import { cacheKey, openCache, type CacheEntry, type CacheSetting, type ResponseCache } from '../src/llm/cache.js';
import type { Clock } from '../src/llm/clock.js';
import { CacheError, RunStoppedError } from '../src/llm/errors.js';
import { Router, type Route, type RouteRule } from '../src/llm/route.js';
import { RequestScheduler, SendFailure, type SchedulerActivity, type SchedulerStats } from '../src/llm/scheduler.js';

/** The parts of the OpenAI client the stage uses (chat; files and batches in batch mode), so it can be injected. */
export type LlmClient = Pick<OpenAI, 'chat' | 'files' | 'batches'>;

export interface CallModelOptions {
  /** The chat model. @default context.model, else 'gpt-4o' */
  model?: string;
  /** Upper bound on the answer's tokens; cost estimates, `tpm` and `maxCost` assume it is used in full. @default 1024 */
  maxTokens?: number;
  temperature?: number;
  /** Record the request and its estimated cost, send nothing. @default false (true when there is no API key and no client) */
  dryRun?: boolean;
  /** @default process.env.OPENAI_API_KEY */
  apiKey?: string;
  /** @default process.env.OPENAI_BASE_URL */
  baseURL?: string;
  /**
   * Per-attempt timeout in milliseconds (`--timeout` in seconds on the CLI). A GPT-4o answer of 1,024 tokens
   * takes well under a minute, so a minute of silence means a hung or overloaded server, and an interactive
   * run should say so rather than wait: a timeout is retried `maxTimeoutRetries` times, and a document whose
   * every attempt timed out while the server answered nothing stops the run.
   * @default 60000
   */
  timeoutMs?: number;
  /** Retries of a timed-out attempt (at most `maxRetries`). @default 1 */
  maxTimeoutRetries?: number;
  /** Requests in flight at once. @default 8 */
  concurrency?: number;
  /** Requests per window (retries count). @default unlimited */
  rpm?: number;
  /** Tokens per window: each request counts its prompt tokens plus `maxTokens`. @default unlimited */
  tpm?: number;
  /** The rate-limit window that `rpm` and `tpm` apply to. @default 60000 */
  windowMs?: number;
  /** Retries after the first attempt, for 429, 5xx and connection resets (timeouts: `maxTimeoutRetries`). @default 6 */
  maxRetries?: number;
  /** Backoff: full jitter under min(`retryMaxDelayMs`, `retryBaseDelayMs`·2^retry). @default 500 */
  retryBaseDelayMs?: number;
  /** @default 30000 */
  retryMaxDelayMs?: number;
  /** A Retry-After longer than this (a daily limit) stops the run rather than stalling it. @default 600000 */
  maxRetryAfterMs?: number;
  /**
   * Response cache: `true` for `.distill-cache/` in the current folder, a folder, `redis://host:port`, `false` for none, or a store.
   * @default true
   */
  cache?: CacheSetting;
  /** TTL of Redis entries, in seconds. @default 2592000 (30 days) */
  cacheTtlSeconds?: number;
  /** Stop before a request that could take the run's spend past this many US dollars; later documents are skipped. */
  maxCost?: number;
  /** Queue requests for the Batch API (half price, within 24h) instead of sending them; submitted on `close()`. @default false */
  batch?: boolean;
  /** Where batch manifests go. @default '<cache folder>/batches', else '.distill-cache/batches' */
  batchDirectory?: string;
  /** Send small, simple prompts to a cheaper model. `true` uses the default rule. @default false */
  route?: boolean | RouteRule;
  prices?: Record<string, ModelPrice>;
  /** An OpenAI client to use instead of one built from `apiKey`/`baseURL`. */
  client?: LlmClient;
  /** Time source for the limiter and backoff (tests). */
  clock?: Clock;
  /** Jitter source in [0, 1) (tests). */
  random?: () => number;
}

export interface LlmRecord {
  dryRun: boolean;
  /** Answered from the cache (or by an identical request in flight): nothing paid. */
  cached: boolean;
  model: string;
  /** Dollars this document cost: actual usage when sent, the `max_tokens` estimate in a dry run or batch; null when unpriced. */
  costUsd: number | null;
  /** Dollars the cache saved: what the cached answer would cost now. */
  savedUsd?: number | null;
  /** Attempts on the wire for this document (0 from the cache or in a dry run). */
  attempts: number;
  /** True when `costUsd` is an estimate, not a billed usage. */
  estimated?: boolean;
  cacheKey?: string;
  finishReason?: string | null;
  route?: { tier: Route['tier']; reason: string };
  batch?: { customId: string; state: 'queued' | 'submitted'; batchId?: string };
}

declare module '../src/document.js' {
  interface DataMap {
    llm?: LlmRecord;
  }
}

/** Run totals for the CLI summary. */
export interface LlmSummary {
  dryRun: boolean;
  batch: boolean;
  /** Documents the stage saw. */
  documents: number;
  /** Documents with an answer (from the network or the cache). */
  answered: number;
  /** Documents answered over the network. */
  sent: number;
  cacheHits: number;
  /** Where the cache lives (`disk:/path`, `redis://…`), or null when off. */
  cache: string | null;
  failed: number;
  skippedByMaxCost: number;
  /** HTTP attempts on the wire, retries included. */
  requests: number;
  retries: number;
  retriesByCode: Record<string, number>;
  /** Billed dollars, from each response's usage. */
  spentUsd: number;
  /** Dry run or batch: the `max_tokens` estimate of what was (or would be) queued. */
  estimatedUsd: number;
  savedByCacheUsd: number;
  /** Documents whose cost is unknown (a model with no price). */
  unpriced: number;
  maxCostUsd: number | null;
  /** Why the run stopped sending, when it did. */
  stopped: { code: string; reason: string; fix?: string } | null;
  /** The split by model (routing), with each model's spend. */
  models: Record<string, { documents: number; spentUsd: number; estimatedUsd: number; savedByCacheUsd: number }>;
  rateLimit: { waitedMs: number; pauses: number };
  batches: BatchSubmission[];
  /** Documents whose request is in a submitted, uncollected batch (not resubmitted). */
  batchPending: number;
}

/** The stage plus its run totals and batch submission. */
export interface LlmStage extends Stage {
  summary(): LlmSummary;
  /** Requests on the wire now and the oldest one's age, for a progress line. */
  activity(): SchedulerActivity;
  /** Resolves once every answer already received is in the cache (what to wait for before a hard exit). */
  flush(): Promise<void>;
  /** Batch mode: upload what is queued and create the batches (also done by `close()`). */
  submitBatches(): Promise<BatchSubmission[]>;
  close(): Promise<void>;
}

export function callModel(options: CallModelOptions = {}): LlmStage {
  if (typeof options !== 'object' || options === null) throw invalidOption('options', 'an object', options);
  rejectUnknownOptions(options, llmOptionsSchema);
  const maxTokens = options.maxTokens ?? 1024;
  if (!Number.isInteger(maxTokens) || maxTokens < 1) throw invalidOption('maxTokens', 'a positive integer', options.maxTokens);
  const timeoutMs = options.timeoutMs ?? 60_000;
  if (!(timeoutMs > 0)) throw invalidOption('timeoutMs', 'a positive number', options.timeoutMs);
  if (options.model !== undefined && (typeof options.model !== 'string' || options.model === '')) throw invalidOption('model', 'a model name', options.model);
  if (options.temperature !== undefined && !(options.temperature >= 0 && options.temperature <= 2)) throw invalidOption('temperature', 'a number from 0 to 2', options.temperature);
  if (options.maxCost !== undefined && !(options.maxCost >= 0 && Number.isFinite(options.maxCost))) throw invalidOption('maxCost', 'a number of US dollars ≥ 0', options.maxCost);
  const batchMode = options.batch ?? false;
  if (typeof batchMode !== 'boolean') throw invalidOption('batch', 'a boolean', options.batch);
  const apiKey = options.apiKey ?? process.env.OPENAI_API_KEY;
  const baseURL = options.baseURL ?? process.env.OPENAI_BASE_URL;
  const dryRun = options.dryRun ?? (options.client === undefined && !apiKey);
  const scheduler = new RequestScheduler({
    ...defined({
      concurrency: options.concurrency,
      rpm: options.rpm,
      tpm: options.tpm,
      windowMs: options.windowMs,
      maxRetries: options.maxRetries,
      maxTimeoutRetries: options.maxTimeoutRetries,
      timeoutMs,
      baseDelayMs: options.retryBaseDelayMs,
      maxDelayMs: options.retryMaxDelayMs,
      maxRetryAfterMs: options.maxRetryAfterMs,
      clock: options.clock,
      random: options.random,
    }),
  });
  const cacheOptions = defined({ ttlSeconds: options.cacheTtlSeconds });
  const cache: ResponseCache | undefined = openCache(options.cache, cacheOptions);
  const router = options.route === undefined || options.route === false ? undefined : new Router(options.route === true ? {} : options.route);
  const prices = options.prices;
  const priceOptions = prices ? { prices } : {};
  // Manifests live beside the answers they will become, so one folder holds a run's whole state.
  const batchDirectory = options.batchDirectory ?? (cache?.kind === 'disk' ? join(cache.location, 'batches') : defaultBatchDirectory);

  let client = options.client;
  const getClient = (): LlmClient => {
    // Our own policy owns retries: with the SDK's on, its attempts would bypass the window.
    client ??= new OpenAI({ apiKey: apiKey ?? '', ...(baseURL ? { baseURL } : {}), maxRetries: 0, timeout: timeoutMs });
    return client;
  };

  // Cache writes under way: a hard exit (a second Ctrl-C) waits for them, so no answer already paid for is lost.
  const cacheWrites = new Set<Promise<void>>();
  // Identical requests in flight share one paid answer.
  const inFlight = new Map<string, Promise<CacheEntry>>();
  const batchQueue = new Map<string, BatchItem>();
  let pendingInBatches: Promise<Map<string, { batchId: string; customId: string }>> | undefined;
  const submissions: BatchSubmission[] = [];
  let cacheFailure: DistillError | undefined;
  let reservedUsd = 0;
  let costStopped = false;
  const totals = {
    documents: 0,
    answered: 0,
    sent: 0,
    cacheHits: 0,
    failed: 0,
    skippedByMaxCost: 0,
    spentUsd: 0,
    estimatedUsd: 0,
    savedByCacheUsd: 0,
    unpriced: 0,
    batchPending: 0,
  };
  const models: LlmSummary['models'] = {};
  const byModel = (model: string) => (models[model] ??= { documents: 0, spentUsd: 0, estimatedUsd: 0, savedByCacheUsd: 0 });

  // A server may echo the key it was sent; nothing it says reaches a record, the summary or the cache unredacted.
  const redact = (text: string) => redactSecrets(text, [apiKey]);

  function fail(doc: DistillDocument, error: DistillError, origin: string) {
    totals.failed += 1;
    doc.fail(redact(error.message), origin, { code: error.code, ...(error.fix ? { fix: redact(error.fix) } : {}) });
  }

  /** Reserve `estimate` under `maxCost`, or skip the document (and every later one) when it would not fit. */
  function reserve(doc: DistillDocument, model: string, estimate: number | null): boolean {
    if (options.maxCost === undefined) return true;
    if (estimate === null) {
      fail(doc, new DistillError('E_LLM_UNPRICED', `cannot keep under maxCost: no price for model ${model}`, { fix: 'Add the model to `prices` in the config.' }), 'llm:max-cost');
      return false;
    }
    const committed = totals.spentUsd + totals.estimatedUsd + reservedUsd;
    if (costStopped || committed + estimate > options.maxCost) {
      costStopped = true;
      totals.skippedByMaxCost += 1;
      doc.skip(
        `max cost $${options.maxCost} reached: $${committed.toFixed(6)} committed, this request could cost up to $${estimate.toFixed(6)}`,
        'llm:max-cost',
      );
      return false;
    }
    reservedUsd += estimate;
    return true;
  }

  async function lookup(key: string): Promise<CacheEntry | undefined> {
    if (!cache) return undefined;
    if (cacheFailure) throw cacheFailure;
    try {
      return await cache.get(key);
    } catch (error) {
      // An unreadable cache cannot tell us what was already paid for: stop rather than pay twice.
      cacheFailure = error instanceof DistillError ? error : new CacheError(String(error), { cause: error });
      throw cacheFailure;
    }
  }

  async function send(doc: DistillDocument, request: ChatRequest, key: string, tokens: number, signal: AbortSignal | undefined): Promise<{ entry: CacheEntry; attempts: number }> {
    const sent = await scheduler.send(
      tokens,
      async () => {
        // The abort signal stops new sends but never cuts one already on the wire: that answer is billed, so we keep it.
        // The timeout is passed per request too, so an injected client is held to it as well.
        const { data, response } = await getClient().chat.completions.create({ ...request, messages: request.messages }, { timeout: timeoutMs }).withResponse();
        const usage = {
          promptTokens: data.usage?.prompt_tokens ?? 0,
          cachedTokens: data.usage?.prompt_tokens_details?.cached_tokens ?? 0,
          completionTokens: data.usage?.completion_tokens ?? 0,
        };
        const entry: CacheEntry = {
          key,
          model: request.model,
          response: redact(data.choices[0]?.message.content ?? ''),
          usage,
          finishReason: data.choices[0]?.finish_reason ?? null,
          costUsd: costOf(request.model, usage, priceOptions),
          createdAt: new Date().toISOString(),
        };
        if (cache) {
          // Persisted before the slot is freed, so a crash loses at most the `concurrency` answers in flight.
          const writing = cache.set(key, entry);
          cacheWrites.add(writing);
          try {
            await writing;
          } catch (error) {
            doc.message(redact(`answer not cached: ${(error as Error).message}`), 'llm:cache', { code: 'E_LLM_CACHE' });
          } finally {
            cacheWrites.delete(writing);
          }
        }
        return { value: entry, headers: response.headers };
      },
      signal,
    );
    return { entry: sent.value, attempts: sent.attempts };
  }

  function recordAnswer(doc: DistillDocument, entry: CacheEntry, llm: LlmRecord) {
    doc.data.response = entry.response;
    doc.data.usage = { ...entry.usage };
    doc.data.llm = llm;
    totals.answered += 1;
  }

  /** A request that will not be sent now (dry run, batch queue) is charged at its estimate: reserve it under --max-cost, then count it. */
  function spendEstimate(doc: DistillDocument, model: string, estimate: number | null): boolean {
    if (!reserve(doc, model, estimate)) return false;
    reservedUsd -= options.maxCost === undefined ? 0 : estimate ?? 0;
    if (estimate === null) totals.unpriced += 1;
    else {
      totals.estimatedUsd += estimate;
      byModel(model).estimatedUsd += estimate;
    }
    return true;
  }

  const stage: LlmStage = {
    name: 'llm',
    async run(doc: DistillDocument, context: StageContext) {
      totals.documents += 1;
      // Paying for a prompt around an empty document buys nothing: the earlier stages' messages say why it is empty.
      if (doc.value.trim() === '') {
        doc.skip('nothing left to send: the local stages removed the whole document (see its other messages)', 'llm:empty');
        return;
      }
      const defaultModel = options.model ?? context.model ?? 'gpt-4o';
      const messages: ChatMessage[] = buildMessages(context.task, doc.value, doc.source);
      const promptTokens = countPromptTokens(messages, context.tokenizer);
      const route = router?.choose(context.task, promptTokens, defaultModel);
      const model = route?.model ?? defaultModel;
      const request: ChatRequest = { model, messages, max_tokens: maxTokens, ...(options.temperature === undefined ? {} : { temperature: options.temperature }) };
      const key = cacheKey(request);
      doc.data.request = request;
      const base = { model, cacheKey: key, ...(route ? { route: { tier: route.tier, reason: route.reason } } : {}) };
      byModel(model).documents += 1;

      const estimate = costOf(model, { promptTokens, completionTokens: maxTokens }, { ...priceOptions, batch: batchMode });
      if (dryRun) {
        if (!spendEstimate(doc, model, estimate)) return;
        doc.data.llm = { ...base, dryRun: true, cached: false, costUsd: estimate, attempts: 0, estimated: true };
        return;
      }

      let hit: CacheEntry | undefined;
      try {
        hit = await lookup(key);
      } catch (error) {
        return fail(doc, error as DistillError, 'llm:cache');
      }
      if (hit) {
        // An answer bought through the Batch API saved what it cost there: half, not the synchronous price.
        const savedUsd = costOf(model, hit.usage, { ...priceOptions, batch: hit.batch === true });
        totals.cacheHits += 1;
        if (savedUsd !== null) {
          totals.savedByCacheUsd += savedUsd;
          byModel(model).savedByCacheUsd += savedUsd;
        }
        return recordAnswer(doc, hit, { ...base, dryRun: false, cached: true, costUsd: 0, savedUsd, attempts: 0, finishReason: hit.finishReason ?? null });
      }

      // Only after the cache: an answer already bought is still served once the run stops sending.
      if (scheduler.stopped) return fail(doc, new RunStoppedError(scheduler.stopped), 'llm:stopped');

      if (batchMode) {
        pendingInBatches ??= pendingBatchKeys(batchDirectory);
        const pending = (await pendingInBatches).get(key);
        if (pending) {
          totals.batchPending += 1;
          doc.data.llm = { ...base, dryRun: false, cached: false, costUsd: 0, attempts: 0, batch: { customId: pending.customId, state: 'submitted', batchId: pending.batchId } };
          return;
        }
        const queued = batchQueue.get(key);
        if (queued) {
          queued.sources.push(doc.source);
        } else {
          if (!spendEstimate(doc, model, estimate)) return;
          batchQueue.set(key, { key, sources: [doc.source], line: { custom_id: `r-${key.slice(0, 40)}`, method: 'POST', url: '/v1/chat/completions', body: request } });
        }
        doc.data.llm = { ...base, dryRun: false, cached: false, costUsd: queued ? 0 : estimate, attempts: 0, estimated: true, batch: { customId: `r-${key.slice(0, 40)}`, state: 'queued' } };
        return;
      }

      const shared = inFlight.get(key);
      if (shared) {
        let entry: CacheEntry;
        try {
          entry = await shared;
        } catch (error) {
          return fail(doc, error instanceof SendFailure ? error.error : (error as DistillError), 'llm:api');
        }
        const savedUsd = entry.costUsd;
        totals.cacheHits += 1;
        if (savedUsd !== null) {
          totals.savedByCacheUsd += savedUsd;
          byModel(model).savedByCacheUsd += savedUsd;
        }
        return recordAnswer(doc, entry, { ...base, dryRun: false, cached: true, costUsd: 0, savedUsd, attempts: 0, finishReason: entry.finishReason ?? null });
      }

      const syncEstimate = costOf(model, { promptTokens, completionTokens: maxTokens }, priceOptions);
      if (!reserve(doc, model, syncEstimate)) return;
      const release = () => {
        if (options.maxCost !== undefined) reservedUsd -= syncEstimate ?? 0;
      };
      const pending = send(doc, request, key, promptTokens + maxTokens, context.signal);
      inFlight.set(
        key,
        pending.then(({ entry }) => entry),
      );
      // The shared promise may have no listener when no twin asks for it.
      inFlight.get(key)!.catch(() => undefined);
      let result: { entry: CacheEntry; attempts: number };
      try {
        result = await pending;
      } catch (error) {
        release();
        if (error instanceof SendFailure) {
          const origin = error.error instanceof RunStoppedError ? 'llm:stopped' : 'llm:api';
          fail(doc, error.error, origin);
          doc.data.llm = { ...base, dryRun: false, cached: false, costUsd: 0, attempts: error.attempts };
          return;
        }
        throw error;
      } finally {
        inFlight.delete(key);
      }
      release();
      totals.sent += 1;
      const cost = result.entry.costUsd;
      if (cost === null) totals.unpriced += 1;
      else {
        totals.spentUsd += cost;
        byModel(model).spentUsd += cost;
      }
      recordAnswer(doc, result.entry, {
        ...base,
        dryRun: false,
        cached: false,
        costUsd: cost,
        attempts: result.attempts,
        finishReason: result.entry.finishReason ?? null,
      });
    },

    async submitBatches() {
      if (batchQueue.size === 0 || dryRun) return [];
      const items = [...batchQueue.values()];
      batchQueue.clear();
      const made = await submitBatch(items, { client: getClient(), directory: batchDirectory });
      submissions.push(...made);
      return made;
    },

    activity() {
      return scheduler.activity();
    },

    async flush() {
      await Promise.allSettled([...cacheWrites]);
    },

    summary(): LlmSummary {
      const stats: SchedulerStats = scheduler.stats();
      const stopped = scheduler.stopped ?? cacheFailure;
      return {
        dryRun,
        batch: batchMode,
        ...totals,
        cache: cache ? (cache.kind === 'redis' ? cache.location : `${cache.kind}:${cache.location}`) : null,
        requests: stats.attempts,
        retries: stats.retries,
        retriesByCode: stats.retriesByCode,
        maxCostUsd: options.maxCost ?? null,
        stopped: stopped ? { code: stopped.code, reason: redact(stopped.message), ...(stopped.fix ? { fix: redact(stopped.fix) } : {}) } : null,
        models: structuredClone(models),
        rateLimit: { waitedMs: stats.waitedMs, pauses: stats.pauses },
        batches: [...submissions],
      };
    },

    async close() {
      try {
        await stage.submitBatches();
      } finally {
        await scheduler.onIdle();
        await cache?.close();
      }
    },
  };
  return stage;
}

type ChatRequest = {
  model: string;
  messages: ChatMessage[];
  max_tokens: number;
  temperature?: number;
};

/** Drop undefined values, for `exactOptionalPropertyTypes`. */
function defined<Value extends Record<string, unknown>>(value: Value): { [Key in keyof Value]?: Exclude<Value[Key], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, item]) => item !== undefined)) as { [Key in keyof Value]?: Exclude<Value[Key], undefined> };
}
