import { EventEmitter } from 'node:events';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main, type CliIo, type CliProcess } from '../src/cli.js';
import { DiskCache } from '../src/llm/cache.js';
import { startOpenAIServer, type OpenAIServer } from './helpers/openai-server.js';

/**
 * The CLI in this process, for what a child process cannot show: a terminal
 * on stderr, and signals with a stand-in for `process.exit`.
 */
let server: OpenAIServer | undefined;
let folder: string;

beforeEach(async () => {
  folder = await mkdtemp(join(tmpdir(), 'distill-cli-inprocess-'));
});
afterEach(async () => {
  vi.restoreAllMocks();
  await server?.close();
  server = undefined;
  await rm(folder, { recursive: true, force: true });
});

class FakeProcess extends EventEmitter implements CliProcess {
  exits: { code: number; cacheFiles: number }[] = [];
  constructor(readonly cache: string) {
    super();
  }
  override on(event: 'SIGINT' | 'SIGTERM', listener: (signal: NodeJS.Signals) => void) {
    return super.on(event, listener);
  }
  override off(event: 'SIGINT' | 'SIGTERM', listener: (signal: NodeJS.Signals) => void) {
    return super.off(event, listener);
  }
  exit(code: number) {
    this.exits.push({ code, cacheFiles: countCacheFiles(this.cache) });
  }
}

function countCacheFiles(cache: string): number {
  if (!existsSync(cache)) return 0;
  let total = 0;
  // Synchronous on purpose: this is the moment of the exit.
  for (const entry of readdirSync(cache, { recursive: true }) as string[]) if (entry.endsWith('.json')) total += 1;
  return total;
}

function io(input: string, options: { tty?: boolean; process?: CliProcess; env?: NodeJS.ProcessEnv } = {}) {
  let stderr = '';
  const stderrStream = Object.assign(new PassThrough(), { isTTY: options.tty ?? false, columns: 200 });
  stderrStream.on('data', (chunk) => (stderr += chunk));
  const stdout = new PassThrough();
  stdout.resume();
  const value: CliIo = {
    stdin: Readable.from([input]),
    stdout,
    stderr: stderrStream as unknown as NodeJS.WriteStream,
    env: { OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: server!.url, ...options.env },
    ...(options.process ? { process: options.process } : {}),
  };
  return { io: value, stderr: () => stderr };
}

const lines = (count: number) => Array.from({ length: count }, (_, index) => JSON.stringify({ id: `d${index}`, text: `Item ${index}: revenue rose to $${index + 1} million in 2024.` })).join('\n');
const args = (cache: string) => ['run', '-', '--task', 'Summarise the figures', '--stages', 'regex', '--threads', '1', '--cache', cache];

describe('cli (in process)', () => {
  it('a second Ctrl-C writes the answer already received to the cache before it exits', async () => {
    server = await startOpenAIServer();
    const cache = join(folder, 'cache');
    const host = new FakeProcess(cache);
    const original = DiskCache.prototype.set;
    let writeStarted = false;
    // A slow disk: the answer has arrived and is being written when the user presses Ctrl-C twice.
    vi.spyOn(DiskCache.prototype, 'set').mockImplementation(async function (this: DiskCache, key, entry) {
      writeStarted = true;
      await new Promise((resolve) => setTimeout(resolve, 400));
      return original.call(this, key, entry);
    });
    const { io: cliIo } = io(lines(1), { process: host });
    const running = main(args(cache), cliIo);
    while (!writeStarted) await new Promise((resolve) => setTimeout(resolve, 5));
    host.emit('SIGINT', 'SIGINT');
    host.emit('SIGINT', 'SIGINT');
    while (host.exits.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(host.exits[0]).toEqual({ code: 130, cacheFiles: 1 });
    await running;
  });

  it('shows the requests waiting on a hung server on a terminal, then gives up naming --timeout', async () => {
    server = await startOpenAIServer({ fault: () => ({ kind: 'hang' }) });
    const saved = process.env.CI;
    delete process.env.CI;
    try {
      const { io: cliIo, stderr } = io(lines(2), { tty: true });
      const code = await main([...args(join(folder, 'cache')), '--timeout', '1.5'], cliIo);
      expect(code, stderr()).toBe(1);
      expect(stderr()).toMatch(/waiting on the model: 2 requests in flight, oldest 1s/);
      expect(stderr()).toMatch(/STOPPED SENDING: the server did not answer in 1.5 s \(--timeout 1.5\)/);
    } finally {
      if (saved !== undefined) process.env.CI = saved;
    }
  });
});
