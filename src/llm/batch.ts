/**
 * The OpenAI Batch API: half the price for answers within 24 hours. Requests
 * are written as JSONL, one `custom_id` per distinct request, split at the
 * API's limits (50,000 requests, 200 MB per file), uploaded, and a batch is
 * created per file. A manifest per batch, kept locally, maps each
 * `custom_id` to its documents and cache key, so collecting merges answers
 * into the records and into the cache (a later synchronous run is free).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type OpenAI from 'openai';
import { toFile } from 'openai';
import { costOf, type ModelPrice } from '../pricing.js';
import { cacheKey, defaultCacheDirectory, type CacheEntry, type CacheKeyInput, type ResponseCache } from './cache.js';
import { BatchError } from './errors.js';
import { redactSecrets } from '../redact.js';

export type BatchClient = Pick<OpenAI, 'files' | 'batches'>;

/** One line of a batch input file. */
export interface BatchLine {
  custom_id: string;
  method: 'POST';
  url: '/v1/chat/completions';
  body: CacheKeyInput;
}

/** A queued request: the line plus what the manifest needs to merge its answer back. */
export interface BatchItem {
  line: BatchLine;
  key: string;
  sources: string[];
}

export const batchLimits = { maxRequests: 50_000, maxBytes: 200 * 1024 * 1024 } as const;

export interface SplitOptions {
  /** @default 50000 */
  maxRequests?: number;
  /** @default 209715200 (200 MB) */
  maxBytes?: number;
}

/** Cut items into input files, each within both limits. */
export function splitBatch(items: readonly BatchItem[], options: SplitOptions = {}): { items: BatchItem[]; jsonl: string }[] {
  const maxRequests = options.maxRequests ?? batchLimits.maxRequests;
  const maxBytes = options.maxBytes ?? batchLimits.maxBytes;
  const files: { items: BatchItem[]; jsonl: string }[] = [];
  let current: BatchItem[] = [];
  let lines: string[] = [];
  let bytes = 0;
  for (const item of items) {
    const line = JSON.stringify(item.line) + '\n';
    const size = Buffer.byteLength(line);
    if (size > maxBytes) throw new BatchError(`request ${item.line.custom_id} alone is ${size} bytes, over the ${maxBytes}-byte file limit`, { code: 'E_LLM_BATCH_TOO_LARGE' });
    if (current.length > 0 && (current.length >= maxRequests || bytes + size > maxBytes)) {
      files.push({ items: current, jsonl: lines.join('') });
      current = [];
      lines = [];
      bytes = 0;
    }
    current.push(item);
    lines.push(line);
    bytes += size;
  }
  if (current.length > 0) files.push({ items: current, jsonl: lines.join('') });
  return files;
}

export interface BatchManifest {
  batchId: string;
  inputFileId: string;
  createdAt: string;
  part: number;
  parts: number;
  collected: boolean;
  entries: Record<string, { key: string; sources: string[]; model: string }>;
}

export interface BatchSubmission {
  /** The batch id, for `distill batch status|collect <id>`. */
  id: string;
  /** Same as `id`. */
  batchId: string;
  inputFileId: string;
  requests: number;
  bytes: number;
  manifest: string;
}

export interface SubmitBatchOptions extends SplitOptions {
  client: BatchClient;
  /** Where manifests go. @default '.distill-cache/batches' */
  directory?: string;
  metadata?: Record<string, string>;
}

export const defaultBatchDirectory = join(defaultCacheDirectory, 'batches');

/** Upload the items as one or more JSONL files and create a 24h batch for each. */
export async function submitBatch(items: readonly BatchItem[], options: SubmitBatchOptions): Promise<BatchSubmission[]> {
  const directory = resolve(options.directory ?? defaultBatchDirectory);
  const parts = splitBatch(items, options);
  const submissions: BatchSubmission[] = [];
  for (const [index, part] of parts.entries()) {
    const name = `distill-batch-${new Date().toISOString().replace(/[:.]/g, '-')}-${index + 1}-of-${parts.length}.jsonl`;
    let inputFileId: string;
    let batchId: string;
    try {
      const file = await options.client.files.create({ file: await toFile(Buffer.from(part.jsonl, 'utf8'), name), purpose: 'batch' });
      inputFileId = file.id;
      const batch = await options.client.batches.create({
        input_file_id: inputFileId,
        endpoint: '/v1/chat/completions',
        completion_window: '24h',
        metadata: { tool: 'distill', part: `${index + 1}/${parts.length}`, ...options.metadata },
      });
      batchId = batch.id;
    } catch (error) {
      throw new BatchError(`cannot submit batch part ${index + 1}/${parts.length}: ${(error as Error).message}`, {
        cause: error,
        ...(submissions.length > 0 ? { fix: `Parts already submitted: ${submissions.map((submission) => submission.batchId).join(', ')}.` } : {}),
      });
    }
    const manifest: BatchManifest = {
      batchId,
      inputFileId,
      createdAt: new Date().toISOString(),
      part: index + 1,
      parts: parts.length,
      collected: false,
      entries: Object.fromEntries(part.items.map((item) => [item.line.custom_id, { key: item.key, sources: item.sources, model: item.line.body.model }])),
    };
    const path = await writeManifest(directory, manifest);
    submissions.push({ id: batchId, batchId, inputFileId, requests: part.items.length, bytes: Buffer.byteLength(part.jsonl), manifest: path });
  }
  return submissions;
}

async function writeManifest(directory: string, manifest: BatchManifest): Promise<string> {
  await mkdir(directory, { recursive: true });
  const path = join(directory, `${manifest.batchId}.json`);
  const temporary = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  const handle = await open(temporary, 'w');
  try {
    await handle.writeFile(JSON.stringify(manifest, null, 2));
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporary, path);
  return path;
}

async function readManifest(directory: string, batchId: string): Promise<BatchManifest | undefined> {
  try {
    return JSON.parse(await readFile(join(directory, `${batchId}.json`), 'utf8')) as BatchManifest;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new BatchError(`cannot read the manifest of ${batchId}: ${(error as Error).message}`, { cause: error });
  }
}

/** Cache keys already in a submitted, uncollected batch: a rerun must not pay for them again. */
export async function pendingBatchKeys(directory: string = defaultBatchDirectory): Promise<Map<string, { batchId: string; customId: string }>> {
  const pending = new Map<string, { batchId: string; customId: string }>();
  let names: string[];
  try {
    names = await readdir(resolve(directory));
  } catch {
    return pending;
  }
  for (const name of names) {
    if (!name.endsWith('.json')) continue;
    try {
      const manifest = JSON.parse(await readFile(join(resolve(directory), name), 'utf8')) as BatchManifest;
      if (manifest.collected) continue;
      for (const [customId, entry] of Object.entries(manifest.entries)) pending.set(entry.key, { batchId: manifest.batchId, customId });
    } catch {
      // A manifest we cannot read guards nothing; the run goes on.
    }
  }
  return pending;
}

export interface BatchStatus {
  id: string;
  /** validating, in_progress, finalizing, completed, failed, expired, cancelling, cancelled. */
  status: string;
  /** True when results can be collected (completed, or expired/cancelled with partial output). */
  done: boolean;
  requestCounts: { total: number; completed: number; failed: number };
  outputFileId: string | null;
  errorFileId: string | null;
  createdAt: string;
}

export interface BatchStatusOptions {
  client: BatchClient;
}

/** `distill batch status <id>`. */
export async function batchStatus(id: string, options: BatchStatusOptions): Promise<BatchStatus> {
  let batch: OpenAI.Batches.Batch;
  try {
    batch = await options.client.batches.retrieve(id);
  } catch (error) {
    throw new BatchError(`cannot get the status of batch ${id}: ${(error as Error).message}`, { cause: error, code: 'E_LLM_BATCH_STATUS' });
  }
  const terminal = ['completed', 'expired', 'cancelled', 'failed'].includes(batch.status);
  return {
    id: batch.id,
    status: batch.status,
    done: terminal,
    requestCounts: { total: batch.request_counts?.total ?? 0, completed: batch.request_counts?.completed ?? 0, failed: batch.request_counts?.failed ?? 0 },
    outputFileId: batch.output_file_id ?? null,
    errorFileId: batch.error_file_id ?? null,
    createdAt: new Date(batch.created_at * 1000).toISOString(),
  };
}

export interface BatchResult {
  customId: string;
  /** The documents this request answers. */
  sources: string[];
  status: 'ok' | 'error';
  model: string;
  response?: string;
  usage?: { promptTokens: number; cachedTokens: number; completionTokens: number };
  /** At batch prices; null for an unpriced model. */
  costUsd?: number | null;
  error?: string;
  code?: string;
}

export interface BatchCollection {
  id: string;
  status: string;
  done: boolean;
  results: BatchResult[];
  totals: { requests: number; ok: number; failed: number; costUsd: number; unpriced: number; cached: number };
}

export interface BatchCollectOptions {
  client: BatchClient;
  /** Answers go into this cache too, so a later synchronous run sends nothing for them. */
  cache?: ResponseCache;
  /** Where `submitBatch` wrote manifests. @default '.distill-cache/batches' */
  directory?: string;
  prices?: Record<string, ModelPrice>;
}

/** `distill batch collect <id>`: fetch the output (and error) files and turn each line into a result. */
export async function batchCollect(id: string, options: BatchCollectOptions): Promise<BatchCollection> {
  const directory = resolve(options.directory ?? defaultBatchDirectory);
  const status = await batchStatus(id, options);
  const collection: BatchCollection = {
    id,
    status: status.status,
    done: status.done,
    results: [],
    totals: { requests: 0, ok: 0, failed: 0, costUsd: 0, unpriced: 0, cached: 0 },
  };
  if (!status.done) return collection;
  let manifest = await readManifest(directory, id);
  if (!manifest) manifest = await recoverManifest(id, options.client);

  const output = status.outputFileId ? await fileText(options.client, status.outputFileId) : '';
  const errors = status.errorFileId ? await fileText(options.client, status.errorFileId) : '';
  for (const line of `${output}\n${errors}`.split('\n')) {
    if (line.trim() === '') continue;
    const item = JSON.parse(line) as {
      custom_id: string;
      response: { status_code: number; body: OpenAI.Chat.ChatCompletion & { error?: { message?: string; code?: string } } } | null;
      error: { code?: string; message?: string } | null;
    };
    const entry = manifest.entries[item.custom_id];
    const sources = entry?.sources ?? [item.custom_id];
    const model = entry?.model ?? item.response?.body?.model ?? 'unknown';
    collection.totals.requests += 1;
    if (item.response && item.response.status_code === 200 && !item.error) {
      const body = item.response.body;
      const usage = {
        promptTokens: body.usage?.prompt_tokens ?? 0,
        cachedTokens: body.usage?.prompt_tokens_details?.cached_tokens ?? 0,
        completionTokens: body.usage?.completion_tokens ?? 0,
      };
      const costUsd = costOf(model, usage, { batch: true, ...(options.prices ? { prices: options.prices } : {}) });
      const response = redactSecrets(body.choices[0]?.message.content ?? '');
      collection.results.push({ customId: item.custom_id, sources, status: 'ok', model, response, usage, costUsd });
      collection.totals.ok += 1;
      if (costUsd === null) collection.totals.unpriced += 1;
      else collection.totals.costUsd += costUsd;
      if (options.cache && entry) {
        const cached: CacheEntry = { key: entry.key, model, response, usage, finishReason: body.choices[0]?.finish_reason ?? null, costUsd, batch: true, createdAt: new Date().toISOString() };
        await options.cache.set(entry.key, cached);
        collection.totals.cached += 1;
      }
    } else {
      const error = item.error ?? item.response?.body?.error ?? {};
      collection.results.push({
        customId: item.custom_id,
        sources,
        status: 'error',
        model,
        error: redactSecrets(error.message ?? `status ${item.response?.status_code ?? '?'}`),
        code: error.code ?? 'E_LLM_BATCH_ITEM',
      });
      collection.totals.failed += 1;
    }
  }
  await writeManifest(directory, { ...manifest, collected: true }).catch(() => undefined);
  return collection;
}

/** Without a local manifest (collected on another machine), rebuild keys from the batch's own input file. */
async function recoverManifest(id: string, client: BatchClient): Promise<BatchManifest> {
  const batch = await client.batches.retrieve(id);
  const input = await fileText(client, batch.input_file_id);
  const entries: BatchManifest['entries'] = {};
  for (const line of input.split('\n')) {
    if (line.trim() === '') continue;
    const item = JSON.parse(line) as BatchLine;
    entries[item.custom_id] = { key: cacheKey(item.body), sources: [item.custom_id], model: item.body.model };
  }
  return { batchId: id, inputFileId: batch.input_file_id, createdAt: new Date(batch.created_at * 1000).toISOString(), part: 1, parts: 1, collected: false, entries };
}

async function fileText(client: BatchClient, fileId: string): Promise<string> {
  try {
    const response = await client.files.content(fileId);
    return await response.text();
  } catch (error) {
    throw new BatchError(`cannot download file ${fileId}: ${(error as Error).message}`, { cause: error, code: 'E_LLM_BATCH_DOWNLOAD' });
  }
}

/** An output record as far as merging cares: the CLI's JSONL record shape. */
export interface MergeableRecord {
  source: string;
  status?: string;
  error?: string;
  response?: string;
  usage?: unknown;
  llm?: Record<string, unknown>;
  [field: string]: unknown;
}

/**
 * Put collected answers into the run's records (matched by `source`); a
 * result with no record becomes a minimal record of its own.
 */
export function mergeBatchResults(records: readonly MergeableRecord[], collection: BatchCollection): MergeableRecord[] {
  const bySource = new Map<string, BatchResult>();
  for (const result of collection.results) for (const source of result.sources) bySource.set(source, result);
  const merged: MergeableRecord[] = [];
  const seen = new Set<string>();
  const apply = (record: MergeableRecord, result: BatchResult): MergeableRecord => {
    const llm = { ...record.llm, dryRun: false, cached: false, model: result.model, batch: { id: collection.id, customId: result.customId, state: 'collected' } };
    if (result.status === 'ok') {
      const { error: _error, ...rest } = record;
      return {
        ...rest,
        status: record.status === 'error' || record.status === undefined ? 'ok' : record.status,
        response: result.response ?? '',
        usage: result.usage,
        llm: { ...llm, costUsd: result.costUsd ?? null },
      };
    }
    return { ...record, status: 'error', error: `batch ${collection.id}: ${result.error}`, llm: { ...llm, costUsd: 0, code: result.code } };
  };
  for (const record of records) {
    const result = bySource.get(record.source);
    if (result) seen.add(record.source);
    merged.push(result ? apply(record, result) : record);
  }
  for (const [source, result] of bySource) if (!seen.has(source)) merged.push(apply({ source }, result));
  return merged;
}
