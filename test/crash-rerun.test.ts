import { spawn } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spamAssassin } from '../bench/corpora.js';
import type { DistillRecord } from '../src/record.js';
import { startOpenAIServer, type OpenAIServer, type RecordedRequest } from './helpers/openai-server.js';

/**
 * A run killed part-way, then rerun with the same command, must buy no
 * answer twice: the rerun sends exactly the prompts the first run sent, so
 * every answer the first run received comes from the cache. The built CLI,
 * as a user runs it, over 200 real emails with every local stage on two
 * threads (run-wide dedupe and the classifier's memo carry state between
 * documents), against the OpenAI-compatible test server.
 */
const root = new URL('..', import.meta.url).pathname;
const bin = join(root, 'bin/distill.js');
const corpus = await spamAssassin(200);
/** Answers the first run gets before it is stopped. */
const answeredBeforeStop = 40;

let folder: string;
let scratch: string;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'distill-rerun-'));
  folder = join(scratch, 'mail');
  await mkdir(folder);
  for (const input of corpus.inputs) {
    const path = (input as { path: string }).path;
    await copyFile(path, join(folder, `${basename(join(path, '..'))}-${basename(path)}`));
  }
});

const openServers: OpenAIServer[] = [];
afterAll(async () => {
  await Promise.all(openServers.map((server) => server.close()));
});

function start(server: OpenAIServer, cache: string, out: string) {
  const args = ['run', folder, '--task', corpus.task, '--budget', String(corpus.budget), '--threads', '2', '--cache', cache, '--out', out];
  const child = spawn(process.execPath, [bin, ...args], {
    cwd: root,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: server.url },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stderr })));
  return { child, exited };
}

async function until(condition: () => Promise<boolean> | boolean): Promise<void> {
  while (!(await condition())) await new Promise((resolve) => setTimeout(resolve, 50));
}

/** Answers written to the cache folder (temporary files, not yet renamed into place, left out). */
async function cachedAnswers(cache: string): Promise<number> {
  try {
    return (await readdir(cache, { recursive: true })).filter((name) => String(name).endsWith('.json')).length;
  } catch {
    return 0;
  }
}

/** The document each answered request was for, once per answer. */
function paidSources(requests: readonly RecordedRequest[]): string[] {
  return requests
    .filter((request) => request.outcome === 'ok')
    .map((request) => /<document source=("[^\n]*?")>/.exec(request.body.messages.at(-1)!.content)![1]!)
    .map((source) => JSON.parse(source) as string);
}

function paidTwice(sources: readonly string[]): string[] {
  return [...new Set(sources.filter((source, index) => sources.indexOf(source) !== index))];
}

async function answeredRecords(out: string): Promise<DistillRecord[]> {
  const records = (await readFile(out, 'utf8')).split('\n').filter(Boolean).map((line) => JSON.parse(line) as DistillRecord);
  expect(records).toHaveLength(corpus.inputs.length);
  return records.filter((record) => record.response !== undefined);
}

/** Reruns over the same cache: it exits 0, no document was paid for twice over both runs, and every answer was paid once. */
async function rerunPaysOnce(server: OpenAIServer, cache: string, name: string): Promise<DistillRecord[]> {
  const out = join(scratch, name);
  const rerun = await start(server, cache, out).exited;
  expect(rerun.code, rerun.stderr).toBe(0);
  const paid = paidSources(server.requests);
  expect(paidTwice(paid)).toEqual([]);
  const answered = await answeredRecords(out);
  expect(new Set(paid)).toEqual(new Set(answered.map((record) => record.source)));
  return answered;
}

describe('a killed run, rerun', () => {
  it('buys no answer twice after SIGKILL', async () => {
    // Past the first answers the server holds every request unanswered, so at the kill each answer it gave is cached
    // and none is on the wire: any answer bought twice is a rerun prompt that differs from the first run's.
    let holding = true;
    const server = await startOpenAIServer({ fault: (n) => (holding && n > answeredBeforeStop ? { kind: 'hang' } : undefined) });
    openServers.push(server);
    const cache = join(scratch, 'cache-kill');
    const first = start(server, cache, join(scratch, 'killed.jsonl'));
    await until(async () => server.answered().length === answeredBeforeStop && (await cachedAnswers(cache)) === answeredBeforeStop);
    first.child.kill('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');
    holding = false;

    const answered = await rerunPaysOnce(server, cache, 'rerun-after-kill.jsonl');
    expect(answered.length).toBeGreaterThan(answeredBeforeStop * 2);
  }, 300_000);

  it('buys no answer twice after Ctrl-C', async () => {
    // Answers take a while, so several are on the wire at the Ctrl-C: the run finishes them and caches them.
    const server = await startOpenAIServer({ delayMs: 150 });
    openServers.push(server);
    const cache = join(scratch, 'cache-interrupt');
    const first = start(server, cache, join(scratch, 'interrupted.jsonl'));
    await until(() => server.answered().length >= answeredBeforeStop);
    first.child.kill('SIGINT');
    const stopped = await first.exited;
    expect(stopped.code, stopped.stderr).toBe(130);
    const paidBefore = server.answered().length;
    expect(paidBefore).toBeLessThan(corpus.inputs.length / 2);

    await rerunPaysOnce(server, cache, 'rerun-after-interrupt.jsonl');
  }, 300_000);
});
