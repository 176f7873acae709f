import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, writeFile, copyFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DistillRecord } from '../src/record.js';
import { defaultReply, startOpenAIServer, type OpenAIServer } from './helpers/openai-server.js';

/**
 * End to end through the built CLI, as a user runs it: a real process, the
 * real stages and model, and the real OpenAI SDK talking to a local
 * OpenAI-compatible server.
 */
const root = new URL('..', import.meta.url).pathname;
const bin = join(root, 'bin/distill.js');
const docs = join(root, 'fixtures/docs');
const task = 'Who is involved, and what dates and figures are given?';

function cli(args: string[], env: NodeJS.ProcessEnv = {}, input?: string) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], {
      cwd: root,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}

const parseRecords = (text: string) =>
  text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as DistillRecord);

async function countFiles(folder: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(folder, { withFileTypes: true, recursive: true })) if (entry.isFile()) total++;
  return total;
}

describe('cli', () => {
  let server: OpenAIServer;
  let scratch: string;

  beforeAll(async () => {
    server = await startOpenAIServer();
    scratch = await mkdtemp(join(tmpdir(), 'distill-cli-'));
  });
  afterAll(async () => {
    await server?.close();
  });

  it('sends only the distilled content and lands the answer in each record', async () => {
    const out = join(scratch, 'records.jsonl');
    const result = await cli(['run', docs, '--task', task, '--budget', '400', '--out', out, '--cache', join(scratch, 'cache')], {
      OPENAI_API_KEY: 'sk-test',
      OPENAI_BASE_URL: server.url,
    });
    expect(result.stderr).not.toMatch(/unexpected error/);
    expect(result.code).toBe(0);
    const records = parseRecords(await readFile(out, 'utf8'));
    expect(records).toHaveLength(await countFiles(docs));
    expect(server.answered()).toHaveLength(records.length);
    for (const record of records) {
      expect(record.status).toBe('ok');
      expect(record.stages.map((stage) => stage.stage)).toEqual(['regex', 'entities', 'classify', 'sections', 'llm']);
      for (const stage of record.stages) expect(stage.tokensOut).toBeLessThanOrEqual(stage.tokensIn);
      expect(record.tokens.distilled).toBeLessThanOrEqual(400);
      const opening = `<document source=${JSON.stringify(record.source)}>`;
      const request = server.requests.find((candidate) => candidate.body.messages.some((message) => message.content.includes(opening)));
      expect(request, `a request for ${record.source}`).toBeDefined();
      const user = request!.body.messages.find((message) => message.role === 'user')!.content;
      const body = /<document source=[^>]*>\n([\s\S]*)\n<\/document>$/.exec(user)?.[1];
      expect(body).toBe(record.distilled);
      expect(record.response).toBe(defaultReply(request!.body));
    }
    // The original emails' transport headers never reach the model.
    expect(JSON.stringify(server.requests.map((request) => request.body))).not.toContain('Received: from');
  }, 120_000);

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('stops cleanly on %s: finished records written, exit %i, and a rerun pays for none of them again', async (signal, exitCode) => {
    const slow = await startOpenAIServer({ delayMs: 400 });
    try {
      const out = join(scratch, `interrupted-${signal}.jsonl`);
      const cache = join(scratch, `cache-interrupt-${signal}`);
      const env = { OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: slow.url };
      const args = ['run', docs, '--task', task, '--budget', '300', '--stages', 'regex,sections', '--concurrency', '1', '--cache', cache];
      const child = spawn(process.execPath, [bin, ...args, '--out', out], { cwd: root, env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env } });
      let stderr = '';
      child.stderr.on('data', (chunk) => (stderr += chunk));
      const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)));
      while (slow.answered().length < 2) await new Promise((resolve) => setTimeout(resolve, 50));
      child.kill(signal);
      expect(await exited).toBe(exitCode);
      expect(stderr).toMatch(/finishing the requests in flight/);
      expect(stderr).toMatch(/Rerun the same command to continue/);
      const finished = parseRecords(await readFile(out, 'utf8')).filter((record) => record.response);
      expect(finished.length).toBeGreaterThanOrEqual(2);
      expect(finished.length).toBeLessThan(await countFiles(docs));
      const sentBefore = slow.requests.length;
      const rerun = await cli([...args, '--out', join(scratch, `rerun-${signal}.jsonl`)], env);
      expect(rerun.code).toBe(0);
      const fresh = slow.requests.slice(sentBefore).map((request) => request.body.messages[1]!.content);
      for (const record of finished) expect(fresh.some((content) => content.includes(`<document source=${JSON.stringify(record.source)}>`))).toBe(false);
    } finally {
      await slow.close();
    }
  }, 120_000);

  it('gives up on a hung server within --timeout × attempts plus a margin, with records that name --timeout', async () => {
    const hung = await startOpenAIServer({ fault: () => ({ kind: 'hang' }) });
    try {
      const started = Date.now();
      const result = await cli(['run', docs, '--task', task, '--stages', 'regex', '--threads', '1', '--timeout', '1', '--no-cache'], { OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: hung.url });
      const elapsed = Date.now() - started;
      expect(result.code).toBe(1);
      const records = parseRecords(result.stdout);
      expect(records).toHaveLength(await countFiles(docs));
      for (const record of records) {
        expect(record.status).toBe('error');
        expect(record.error).toContain('did not answer in 1 s (--timeout 1)');
        expect(record.fix).toContain('--timeout');
      }
      expect(result.stderr).toMatch(/STOPPED SENDING: the server did not answer in 1 s \(--timeout 1\)/);
      expect(result.stderr).not.toMatch(/smaller `?--budget/);
      // Two attempts (one timeout retry) for the documents in flight, none for the rest; the bound only catches a hang,
      // and its margin covers start-up and the local stage on a loaded machine.
      expect(elapsed).toBeLessThan(1000 * 2 + 30_000);
      expect(hung.requests.length).toBeLessThanOrEqual(4 * 2);
    } finally {
      await hung.close();
    }
  }, 120_000);

  it('leaks a key the server echoes nowhere: records, stderr, cache', async () => {
    const key = 'sk-proj-LEAKCANARY0123456789abcdefXYZ';
    const echo = await startOpenAIServer({
      fault: (_n, body, headers) => {
        const user = body.messages.at(-1)?.content ?? '';
        if (user.includes('alpha')) return { kind: 'status', status: 500, message: `upstream failed for ${headers.authorization}` };
        if (user.includes('gamma')) return { kind: 'status', status: 401, code: 'invalid_api_key', message: `Incorrect API key provided: ${key}. You can find your API key at https://platform.openai.com/account/api-keys.` };
        return undefined;
      },
      reply: (_body, headers) => `You sent ${headers.authorization}.`,
    });
    try {
      const cache = join(scratch, 'cache-echo');
      const out = join(scratch, 'echo.jsonl');
      const input = ['alpha', 'beta', 'gamma'].map((word) => JSON.stringify({ id: word, text: `The ${word} report: revenue rose to $3 million.` })).join('\n');
      const env = { OPENAI_API_KEY: key, OPENAI_BASE_URL: echo.url };
      const result = await cli(['run', '-', '--task', task, '--stages', 'regex', '--threads', '1', '--concurrency', '1', '--max-retries', '0', '--cache', cache, '--out', out], env, input);
      expect(result.code).toBe(1);
      expect(echo.requests).toHaveLength(3);
      const records = parseRecords(await readFile(out, 'utf8'));
      expect(records.map((record) => record.status)).toEqual(['error', 'ok', 'error']);
      expect(records[0]!.error).toContain('Bearer [redacted]');
      expect(records[1]!.response).toBe('You sent Bearer [redacted].');
      expect(records[2]!.error).toContain('Incorrect API key provided: [redacted]');
      expect(result.stderr).toMatch(/STOPPED SENDING: .*Incorrect API key provided: \[redacted\]/);
      const cached: string[] = [];
      for (const name of await readdir(cache, { recursive: true })) if (name.endsWith('.json')) cached.push(await readFile(join(cache, name), 'utf8'));
      expect(cached).toHaveLength(1);
      for (const [where, text] of [['records', await readFile(out, 'utf8')], ['stdout', result.stdout], ['stderr', result.stderr], ['cache', cached.join('\n')]] as const) {
        expect(text, where).not.toContain('LEAKCANARY');
      }
    } finally {
      await echo.close();
    }
  }, 120_000);

  it('reads a {"path"} line from stdin only under --root, or with --allow-any-path', async () => {
    const secret = join(scratch, 'outside-secret.txt');
    await writeFile(secret, 'The vault code is 4417.');
    const input = [JSON.stringify({ id: 'inside', path: 'fixtures/docs/manuals/systemd-distro-porting.md' }), JSON.stringify({ id: 'outside', path: secret }), JSON.stringify({ id: 'up', path: '../../etc/passwd' })].join('\n');
    const args = ['run', '-', '--task', task, '--stages', 'regex', '--threads', '1', '--dry-run'];
    const refused = await cli(args, {}, input);
    expect(refused.stderr).not.toMatch(/unexpected error/);
    expect(refused.code).toBe(1);
    const records = parseRecords(refused.stdout);
    expect(records.map((record) => [record.id, record.status])).toEqual([
      ['inside', 'ok'],
      ['outside', 'error'],
      ['up', 'error'],
    ]);
    for (const record of records.slice(1)) {
      expect(record.error).toContain('outside --root');
      expect(record.fix).toContain('--allow-any-path');
    }
    expect(refused.stdout).not.toContain('vault code');

    const allowed = await cli([...args, '--allow-any-path'], {}, input);
    const again = parseRecords(allowed.stdout);
    expect(again[1]).toMatchObject({ id: 'outside', status: 'ok' });
    expect(again[1]!.distilled).toContain('vault code');

    const rooted = await cli([...args, '--root', scratch], {}, JSON.stringify({ id: 'outside', path: 'outside-secret.txt' }));
    expect(parseRecords(rooted.stdout)[0]).toMatchObject({ id: 'outside', status: 'ok' });
  }, 120_000);

  it('runs dry without an API key: nothing sent, the request and its cost shown, and it says so', async () => {
    const before = server.requests.length;
    const result = await cli(['run', docs, '--task', task, '--budget', '300'], { OPENAI_BASE_URL: server.url });
    expect(result.code).toBe(0);
    expect(server.requests.length).toBe(before);
    expect(result.stderr).toMatch(/DRY RUN: nothing was sent to gpt-4o \(OPENAI_API_KEY is not set\)/);
    expect(result.stderr).toMatch(/gpt-4o prompt cost: original \$[\d.]+, distilled \$[\d.]+/);
    for (const stage of ['regex', 'entities', 'classify', 'sections', 'llm']) expect(result.stderr).toMatch(new RegExp(`^${stage}\\s+\\d`, 'm'));
    const records = parseRecords(result.stdout);
    expect(records).toHaveLength(await countFiles(docs));
    for (const record of records) {
      expect(record.llm).toMatchObject({ dryRun: true });
      expect(JSON.stringify(record.request)).toContain(JSON.stringify(record.distilled).slice(1, 40));
      expect(record.cost.distilledUsd).toBeLessThan(record.cost.originalUsd!);
    }
  }, 120_000);

  it('finishes a folder of bad files with a record and a clear message for each', async () => {
    const folder = join(scratch, 'mixed');
    await mkdir(folder);
    await copyFile(join(docs, 'manuals/systemd-distro-porting.md'), join(folder, 'good.md'));
    await writeFile(join(folder, 'corrupt.pdf'), (await readFile(join(docs, 'manuals/shared-mime-info-spec.pdf'))).subarray(0, 2000));
    await writeFile(join(folder, 'empty.txt'), '');
    await writeFile(join(folder, 'binary.txt'), Buffer.from([0, 1, 2, 3, 255, 0, 17]));
    await writeFile(join(folder, 'picture.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0]));
    const result = await cli(['run', folder, '--task', task, '--dry-run']);
    expect(result.code).toBe(1);
    const records = new Map(parseRecords(result.stdout).map((record) => [record.source.slice(folder.length + 1), record]));
    expect([...records.keys()].sort()).toEqual(['binary.txt', 'corrupt.pdf', 'empty.txt', 'good.md', 'picture.png']);
    expect(records.get('good.md')!.status).toBe('ok');
    expect(records.get('corrupt.pdf')).toMatchObject({ status: 'error', error: expect.stringMatching(/cannot parse PDF/) });
    expect(records.get('binary.txt')).toMatchObject({ status: 'error', error: expect.stringMatching(/binary/) });
    expect(records.get('empty.txt')).toMatchObject({ status: 'skipped', error: expect.stringMatching(/empty file/) });
    expect(records.get('picture.png')).toMatchObject({ status: 'skipped', error: expect.stringMatching(/unsupported file type ".png"/) });
    expect(result.stderr).toMatch(/corrupt\.pdf: cannot parse PDF[\s\S]*fix:/);
  }, 120_000);

  it('reads JSONL from stdin and prints exactly one record per line on stdout', async () => {
    const input = `${JSON.stringify({ id: 'a', text: 'Invoice 7 from Acme Corp: $4,200 due on 3 May 2024. Contact Jane Doe.' })}\nnot json\n`;
    const result = await cli(['run', '-', '--task', 'How much is due, and when?', '--dry-run'], {}, input);
    const lines = result.stdout.split('\n').filter(Boolean);
    expect(lines).toHaveLength(2);
    const [first, second] = lines.map((line) => JSON.parse(line) as DistillRecord);
    expect(first).toMatchObject({ id: 'a', status: 'ok' });
    expect(first!.distilled).toContain('$4,200');
    expect(second).toMatchObject({ status: 'error', error: expect.stringMatching(/line 2 is not valid JSON/) });
    expect(result.code).toBe(1);
    // The summary and the dry-run notice go to stderr only, so stdout stays pure JSONL.
    expect(result.stderr).toMatch(/DRY RUN/);
  }, 120_000);

  it.each([
    [['run', docs], /missing --task/],
    [['run', docs, '--task', 'x', '--budget=-3'], /Expected --budget to be a positive integer, got -3\./],
    // Not the argument parser's "ambiguous" message: -5 is the value of --budget.
    [['run', docs, '--task', 'x', '--budget', '-5'], /^distill: Expected --budget to be a positive integer, got -5\.\n/],
    [['run', docs, '--task', 'x', '--budget', 'lots'], /Expected --budget to be a positive integer, got lots\./],
    [['run', docs, '--task', 'x', '--budget'], /--budget needs a value/],
    [['run', docs, '--task', 'x', '--rpm', '0'], /Expected --rpm to be a positive integer, got 0\./],
    [['run', docs, '--task', 'x', '--threads', '-2'], /Expected --threads to be a positive integer, got -2\./],
    [['run', docs, '--task', 'x', '--stages', 'regex,magic'], /unknown stage "magic"/],
    [['run', docs, '--task', 'x', '--stages', 'regex,sectoins'], /unknown stage "sectoins" in --stages; did you mean "sections"\?/],
    [['run', docs, '--taks', 'x'], /unknown option --taks; did you mean --task\?/],
    [['run', docs, '--task', 'x', '--max-cots=2'], /unknown option --max-cots; did you mean --max-cost\?/],
    [['run', docs, '--task', 'x', '--max-bytes', 'lots'], /--max-bytes must be a size in bytes, like 50000000 or 50MB, got "lots"/],
    [['run', 'no/such/folder', '--task', 'x'], /no such file or folder: no\/such\/folder/],
    [['run', docs, '--task', 'x', '--timeout', '0'], /--timeout must be a positive number of seconds, got "0"/],
    [['run', '-', '--task', 'x', '--root', 'no/such/folder'], /--root must be a folder, got "no\/such\/folder"/],
    [['run', docs, '--task', 'x', '--frobnicate'], /unknown option --frobnicate\n/],
    [['transmogrify'], /unknown command "transmogrify"/],
  ])('exits 2 with a clear message on bad usage: %j', async (args, message) => {
    const result = await cli(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
  });

  // `distill --help | less` shows the help: asked for, it is the output; only a usage error's hint goes to stderr.
  it.each([[['--help']], [['-h']], [['run', '--help']], [['bench', '--help']], [['batch', '--help']], [['batch', 'status', '--help']]])('prints %j on stdout, exit 0', async (args) => {
    const result = await cli(args);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/distill (run|bench|batch)|Commands:/);
    expect(result.stderr).toBe('');
  });

  it('prints the help on stderr with exit 2 when no command is given', async () => {
    const result = await cli([]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^distill .*Commands:/s);
  });

  it.each([['run'], ['bench']])('%s: --out into a missing folder exits 2, naming the folder and the fix, before any model loads', async (command) => {
    const out = join(scratch, 'missing-folder', 'records.jsonl');
    // A classifier model that cannot load: had the run loaded models first, this would be the error.
    const result = await cli([command, docs, '--task', task, '--out', out, '--classifier-model', join(scratch, 'no-model'), '--dry-run']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`distill: cannot write --out ${out}: the folder ${join(scratch, 'missing-folder')} does not exist`);
    expect(result.stderr).toMatch(/fix: create it first \(mkdir -p /);
    expect(result.stderr).not.toMatch(/E_MODEL_LOAD|unexpected error/);
  });

  it('takes a config file in the library\'s shape and refuses a mistyped key in it with the nearest name', async () => {
    const config = join(scratch, 'typo.json');
    await writeFile(config, JSON.stringify({ task, bugdet: 50 }));
    const typo = await cli(['run', docs, '--config', config, '--dry-run']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain('Unknown option `bugdet`; did you mean `budget`?');
    const good = join(scratch, 'good.json');
    const out = join(scratch, 'from-config.jsonl');
    await writeFile(good, JSON.stringify({ task, budget: 40, stages: ['regex'], out, maxCost: 1, rpm: 100, llm: { cache: false } }));
    const result = await cli(['run', join(docs, 'email'), '--config', good, '--dry-run', '--quiet']);
    expect(result.code).toBe(0);
    const records = parseRecords(await readFile(out, 'utf8'));
    expect(records.length).toBeGreaterThan(0);
    for (const record of records) expect(record.tokens.distilled).toBeLessThanOrEqual(40);
  }, 120_000);

  it('fails once, up front, when the classifier model cannot load, naming the path and the fix', async () => {
    const result = await cli(['run', docs, '--task', task, '--classifier-model', join(scratch, 'no-model'), '--dry-run']);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/no-model` is missing `config\.json`.*\[E_MODEL_LOAD\]\n  fix: /s);
  });

  it('teaches with --help and answers --version', async () => {
    const help = await cli(['run', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--budget <tokens>/);
    expect(help.stdout).toMatch(/Examples:/);
    const rules = await cli(['rules']);
    expect(rules.code).toBe(0);
    expect(rules.stdout).toMatch(/^regex:email-signature\s+email\s+\S/m);
    const version = await cli(['--version']);
    const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { version: string };
    expect(version.stdout.trim()).toBe(pkg.version);
  });
});
