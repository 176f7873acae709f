import { access, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DistillDocument } from '../src/document.js';
import { UsageError } from '../src/errors.js';
import { batchCommand, batchNotFinished } from '../src/llm/batch-command.js';
import type { StageContext } from '../src/stage.js';
import { o200k } from '../src/tokens.js';
import { callModel } from '../stages/llm.js';
import { startOpenAIServer, type OpenAIServer } from './helpers/openai-server.js';

const context: StageContext = { task: 'When is each delivery due?', model: 'gpt-4o', tokenizer: o200k };
let server: OpenAIServer;
let folder: string;

beforeEach(async () => {
  folder = await mkdtemp(join(tmpdir(), 'distill-batch-command-'));
  server = await startOpenAIServer({ batchPolls: 2 });
});

afterEach(async () => {
  await server.close();
  await rm(folder, { recursive: true, force: true });
});

function capture() {
  const out = { stdout: '', stderr: '' };
  const io = {
    stdout: { write: (text: string) => (out.stdout += text) },
    stderr: { write: (text: string) => (out.stderr += text) },
    env: { OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: server.url },
  };
  return { io, out };
}

async function submitted(count: number) {
  const stage = callModel({ apiKey: 'sk-test', baseURL: server.url, batch: true, cache: join(folder, 'cache'), batchDirectory: join(folder, 'batches') });
  const docs = Array.from({ length: count }, (_, index) => new DistillDocument({ id: `o${index}`, source: `orders/o${index}.txt`, text: `Order ${index}: 4 pallets due on 2025-0${index + 1}-15.` }));
  for (const doc of docs) await stage.run(doc, context);
  await stage.close();
  const records = docs.map((doc) => ({ source: doc.source, status: doc.status, distilled: doc.value, llm: doc.data.llm }));
  const recordsPath = join(folder, 'run.jsonl');
  await writeFile(recordsPath, records.map((record) => JSON.stringify(record)).join('\n') + '\n');
  return { id: stage.summary().batches[0]!.id, docs, recordsPath };
}

describe('batchCommand', () => {
  it('reports status, refuses to collect an unfinished batch, then merges answers into the records', async () => {
    const { id, docs, recordsPath } = await submitted(6);
    const status = capture();
    expect(await batchCommand(['status', id], status.io)).toBe(0);
    expect(JSON.parse(status.out.stdout)).toMatchObject({ id, status: 'in_progress', done: false });
    expect(status.out.stderr).toContain(`Batch ${id}: in_progress, 0/6 completed`);

    const out = join(folder, 'merged.jsonl');
    const args = ['collect', id, '--out', out, '--records', recordsPath, '--cache', join(folder, 'cache'), '--batch-dir', join(folder, 'batches')];
    const early = capture();
    expect(await batchCommand(args, early.io)).toBe(batchNotFinished);
    expect(early.out.stderr).toContain('not finished, nothing written');
    await expect(access(out)).rejects.toThrow();

    const done = capture();
    expect(await batchCommand(args, done.io)).toBe(0);
    const merged = (await readFile(out, 'utf8')).trim().split('\n').map((line) => JSON.parse(line));
    expect(merged.map((record) => record.source)).toEqual(docs.map((doc) => doc.source));
    expect(merged.every((record) => record.status === 'ok' && record.response.startsWith('Answer') && record.llm.batch.state === 'collected')).toBe(true);
    expect(merged[0].distilled).toBe(docs[0]!.value);
    expect(done.out.stderr).toMatch(new RegExp(`Batch ${id}: 6 answered, 0 failed, \\$[\\d.]+ at batch prices; 6 answers cached`));

    // The answers are cached: a synchronous run over the same documents sends nothing.
    const stage = callModel({ apiKey: 'sk-test', baseURL: server.url, cache: join(folder, 'cache') });
    for (const doc of docs) {
      const again = new DistillDocument({ id: doc.id, source: doc.source, text: doc.value });
      await stage.run(again, context);
      expect(again.data.llm?.cached).toBe(true);
    }
    expect(server.requests).toHaveLength(0);
  });

  it('writes one record per answer to stdout without --records', async () => {
    const { id } = await submitted(3);
    const first = capture();
    await batchCommand(['status', id], first.io);
    await batchCommand(['status', id], first.io);
    const run = capture();
    expect(await batchCommand(['collect', id, '--no-cache', '--batch-dir', join(folder, 'batches')], run.io)).toBe(0);
    const lines = run.out.stdout.trim().split('\n').map((line) => JSON.parse(line));
    expect(lines.map((line) => line.source).sort()).toEqual(['orders/o0.txt', 'orders/o1.txt', 'orders/o2.txt']);
  });

  // Asked for, help is the output (stdout, so it pipes into less); as the answer to a usage error, it goes to stderr.
  it.each([
    [[], 'help on no action', 2, 'stderr'],
    [['--help'], 'help', 0, 'stdout'],
    [['status', '--help'], 'help', 0, 'stdout'],
  ] as const)('prints %j usage (%s)', async (argv, _, code, stream) => {
    const { io, out } = capture();
    expect(await batchCommand([...argv], io)).toBe(code);
    expect(out[stream]).toContain('distill batch collect <batch-id>');
    expect(out[stream === 'stdout' ? 'stderr' : 'stdout']).toBe('');
  });

  it.each([
    [['resume', 'batch_1'], 'unknown batch action "resume"'],
    [['status'], 'expected one batch id, got none'],
    [['status', 'a', 'b'], 'expected one batch id, got a b'],
    [['status', 'batch_1', '--out', 'x.jsonl'], '"batch status" takes only a batch id'],
    [['collect', 'batch_1', '--cache', 'x', '--no-cache'], '--cache and --no-cache contradict each other'],
    [['collect', 'batch_1', '--bogus'], "Unknown option '--bogus'"],
  ])('rejects %j with a usage error', async (argv, message) => {
    const { io } = capture();
    const attempt = batchCommand(argv, io);
    await expect(attempt).rejects.toBeInstanceOf(UsageError);
    await expect(batchCommand(argv, io)).rejects.toThrow(message);
  });

  it('needs an API key', async () => {
    const { io } = capture();
    await expect(batchCommand(['status', 'batch_1'], { ...io, env: {} })).rejects.toThrow('OPENAI_API_KEY is not set');
  });
});
