/**
 * `distill batch status <id>` and `distill batch collect <id>`: a thin shell
 * over `batchStatus`/`batchCollect`, ready for the CLI to dispatch to.
 */
import { randomBytes } from 'node:crypto';
import { open, readFile, rename, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import OpenAI from 'openai';
import { UsageError } from '../errors.js';
import { formatUsd, type ModelPrice } from '../pricing.js';
import { batchCollect, batchStatus, defaultBatchDirectory, mergeBatchResults, type BatchClient, type MergeableRecord } from './batch.js';
import { openCache } from './cache.js';

export const batchHelp = `Usage:
  distill batch status <batch-id>
  distill batch collect <batch-id> [--out merged.jsonl] [--records run.jsonl]
                        [--cache <dir|redis://host:port> | --no-cache] [--batch-dir <dir>]

status    prints the batch's state and request counts (JSON on stdout).
collect   fetches the answers of a finished batch and merges them into
          records: with --records, the JSONL a "distill run --batch" wrote
          (matched by source); without it, one record per answered document.
          Answers also go into the cache, so a later "distill run" over the
          same documents and task sends nothing for them.

Options:
  --out <file.jsonl>   write the merged records here (default: stdout)
  --records <file>     the run's records to merge the answers into
  --cache <dir|url>    the cache to fill (default: .distill-cache/ here)
  --no-cache           do not write answers into a cache
  --batch-dir <dir>    where "distill run --batch" kept its manifests
                       (default: <cache folder>/batches)

Exit codes: 0 done; 1 failed requests or an API error; 2 bad usage;
3 the batch has not finished yet (nothing written).`;

export interface BatchCommandIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  env: NodeJS.ProcessEnv;
}

export interface BatchCommandOptions {
  /** A client instead of one from OPENAI_API_KEY / OPENAI_BASE_URL. */
  client?: BatchClient;
  prices?: Record<string, ModelPrice>;
}

/** Exit code when the batch is still running: nothing to collect yet. */
export const batchNotFinished = 3;

export async function batchCommand(argv: string[], io: BatchCommandIo, options: BatchCommandOptions = {}): Promise<number> {
  const [action, ...rest] = argv;
  if (action === undefined || action === '--help' || action === '-h' || action === 'help') {
    // Asked for, help is the output (`distill batch --help | less`); as the answer to a usage error, it goes with the error.
    (action === undefined ? io.stderr : io.stdout).write(`${batchHelp}\n`);
    return action === undefined ? 2 : 0;
  }
  if (action !== 'status' && action !== 'collect') throw new UsageError(`unknown batch action "${action}"`, { fix: 'use "distill batch status <id>" or "distill batch collect <id>"' });
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      allowPositionals: true,
      options: {
        out: { type: 'string' },
        records: { type: 'string' },
        cache: { type: 'string' },
        'no-cache': { type: 'boolean' },
        'batch-dir': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message, { fix: 'run "distill batch --help"' });
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout.write(`${batchHelp}\n`);
    return 0;
  }
  const [id, ...extra] = positionals;
  if (!id || extra.length > 0) throw new UsageError(`expected one batch id, got ${positionals.length === 0 ? 'none' : positionals.join(' ')}`, { fix: `distill batch ${action} batch_abc123` });
  if (values.cache && values['no-cache']) throw new UsageError('--cache and --no-cache contradict each other', { fix: 'keep one of them' });
  if (action === 'status' && (values.out || values.records || values.cache || values['no-cache'] || values['batch-dir'])) {
    throw new UsageError('"batch status" takes only a batch id', { fix: `distill batch status ${id}` });
  }
  const client = options.client ?? clientFromEnv(io.env);

  if (action === 'status') {
    const status = await batchStatus(id, { client });
    io.stdout.write(`${JSON.stringify(status)}\n`);
    const counts = status.requestCounts;
    io.stderr.write(`Batch ${id}: ${status.status}, ${counts.completed}/${counts.total} completed, ${counts.failed} failed.${status.done ? ` Collect it with "distill batch collect ${id} --out answers.jsonl".` : ''}\n`);
    return 0;
  }

  const records = values.records ? await readRecords(values.records) : [];
  const cache = values['no-cache'] ? undefined : openCache(values.cache ?? true);
  try {
    const collection = await batchCollect(id, {
      client,
      ...(cache ? { cache } : {}),
      directory: values['batch-dir'] ?? (cache?.kind === 'disk' ? join(cache.location, 'batches') : defaultBatchDirectory),
      ...(options.prices ? { prices: options.prices } : {}),
    });
    if (!collection.done) {
      io.stderr.write(`Batch ${id} is ${collection.status}: not finished, nothing written. Check again with "distill batch status ${id}".\n`);
      return batchNotFinished;
    }
    const merged = mergeBatchResults(records, collection);
    const jsonl = merged.map((record) => JSON.stringify(record)).join('\n') + (merged.length > 0 ? '\n' : '');
    if (values.out) await writeAtomically(values.out, jsonl);
    else io.stdout.write(jsonl);
    const { totals } = collection;
    io.stderr.write(
      `Batch ${id}: ${totals.ok} answered, ${totals.failed} failed, ${formatUsd(totals.costUsd)} at batch prices${totals.unpriced > 0 ? ` (+${totals.unpriced} unpriced)` : ''}; ${totals.cached} answers cached${cache ? ` in ${cache.location}` : ''}.${values.out ? ` Records: ${values.out}` : ''}\n`,
    );
    return totals.failed > 0 ? 1 : 0;
  } finally {
    await cache?.close();
  }
}

function clientFromEnv(env: NodeJS.ProcessEnv): BatchClient {
  if (!env.OPENAI_API_KEY) throw new UsageError('OPENAI_API_KEY is not set', { fix: 'export OPENAI_API_KEY=… (the key that created the batch)' });
  // Status and download requests are idempotent, so the SDK may retry them itself.
  return new OpenAI({ apiKey: env.OPENAI_API_KEY, ...(env.OPENAI_BASE_URL ? { baseURL: env.OPENAI_BASE_URL } : {}), maxRetries: 2 });
}

async function readRecords(path: string): Promise<MergeableRecord[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read --records ${path}: ${(error as Error).message}`, { fix: 'pass the JSONL that "distill run --batch --out …" wrote' });
  }
  const records: MergeableRecord[] = [];
  for (const [index, line] of text.split('\n').entries()) {
    if (line.trim() === '') continue;
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch {
      throw new UsageError(`--records ${path}: line ${index + 1} is not JSON`);
    }
    if (typeof record !== 'object' || record === null || typeof (record as { source?: unknown }).source !== 'string') {
      throw new UsageError(`--records ${path}: line ${index + 1} has no "source"`);
    }
    records.push(record as MergeableRecord);
  }
  return records;
}

async function writeAtomically(path: string, text: string): Promise<void> {
  const target = resolve(path);
  const temporary = `${target}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    const handle = await open(temporary, 'w');
    try {
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, target);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}
