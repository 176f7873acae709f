import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { safeUrl, SpendWatch } from '../src/alerts.js';
import { main, type CliIo } from '../src/cli.js';
import type { DistillRecord } from '../src/record.js';
import { ReportCollector } from '../src/report/index.js';
import type { DocumentView } from '../src/report/collect.js';

let folder: string;
beforeEach(async () => {
  folder = await mkdtemp(join(tmpdir(), 'distill-report-'));
});
afterEach(async () => {
  await rm(folder, { recursive: true, force: true });
});

/** The CLI in this process, stdin from `input`, with what it wrote. */
async function cli(argv: string[], options: { input?: string; env?: NodeJS.ProcessEnv } = {}) {
  let stderr = '';
  let stdout = '';
  const stderrStream = Object.assign(new PassThrough(), { isTTY: false });
  stderrStream.on('data', (chunk) => (stderr += chunk));
  const stdoutStream = new PassThrough();
  stdoutStream.on('data', (chunk) => (stdout += chunk));
  const io: CliIo = { stdin: Readable.from([options.input ?? '']), stdout: stdoutStream, stderr: stderrStream as unknown as NodeJS.WriteStream, env: options.env ?? {} };
  const code = await main(argv, io);
  return { code, stderr, stdout };
}

const task = 'Who is involved, and what dates and figures are given?';
const records = async (path: string): Promise<DistillRecord[]> => (await readFile(path, 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as DistillRecord);

/** The page's embedded JSON (rows, views). */
function embedded<T>(html: string, id: string): T {
  const match = new RegExp(`<script type="application/json" id="${id}">(.*?)</script>`, 's').exec(html);
  return JSON.parse(match![1]!) as T;
}
const viewOf = (encoded: string) => JSON.parse(gunzipSync(Buffer.from(encoded, 'base64')).toString('utf8')) as DocumentView;

describe('report: from a run', () => {
  it('writes one file whose funnel, rows and tags are the records’ own figures', async () => {
    const out = join(folder, 'records.jsonl');
    const report = join(folder, 'r.html');
    const run = await cli(['run', 'fixtures/docs', '--task', task, '--budget', '500', '--threads', '1', '--no-cache', '--out', out, '--report', report, '--tag', 'team=docs']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain(`Report: ${report}`);
    const written = await records(out);
    const html = await readFile(report, 'utf8');

    // The funnel: tokens as loaded, then each stage's output, summed over the records.
    const first = written[0]!.stages[0]!;
    const loaded = written.reduce((sum, record) => sum + (record.stages[0]?.tokensIn ?? 0), 0);
    expect(first.stage).toBe('regex');
    expect(html).toContain(`data-label="as loaded" data-value="${loaded}"`);
    for (const stage of ['regex', 'entities', 'classify', 'sections']) {
      const tokens = written.reduce((sum, record) => sum + (record.stages.find((metric) => metric.stage === stage && !metric.skipped)?.tokensOut ?? 0), 0);
      expect(html, stage).toContain(`data-label="${stage}" data-value="${tokens}"`);
    }

    // A row per record, and the document view of each carries its spans.
    const rows = embedded<unknown[][]>(html, 'rows');
    expect(rows.map((row) => row[0])).toEqual(written.map((record) => record.source));
    const views = embedded<string[]>(html, 'views').map(viewOf);
    expect(views.map((view) => view.spans?.text)).toEqual(written.map((record) => record.spans?.text));

    // Tags: the run's, and each file's first folder.
    expect(written.map((record) => record.tags?.folder)).toEqual(['email', 'email', 'manuals', 'manuals', 'manuals', 'speeches']);
    expect(written.every((record) => record.tags?.team === 'docs')).toBe(true);
    expect(html).toContain('data-tag="folder"');
    expect(html).toContain('data-tag="team"');
  });

  it('keeps plain JSONL runs free of spans', async () => {
    const out = join(folder, 'records.jsonl');
    const run = await cli(['run', 'fixtures/docs/email', '--task', task, '--budget', '500', '--threads', '1', '--no-cache', '--out', out]);
    expect(run.code, run.stderr).toBe(0);
    for (const record of await records(out)) expect(record).not.toHaveProperty('spans');
  });

  it('never shows the API key, even when a document holds it', async () => {
    const key = 'sk-test-report-0123456789abcdef';
    const docs = join(folder, 'docs');
    await mkdir(docs);
    await writeFile(join(docs, 'leak.txt'), `The deploy notes.\n\nThe key is ${key} and the launch is on 3 May 2024 at a cost of $4,000.\n`);
    const report = join(folder, 'r.html');
    const run = await cli(['run', docs, '--task', task, '--dry-run', '--threads', '1', '--no-cache', '--out', join(folder, 'records.jsonl'), '--report', report], { env: { OPENAI_API_KEY: key } });
    expect(run.code, run.stderr).toBe(0);
    const html = await readFile(report, 'utf8');
    expect(html).not.toContain(key);
    // Nor inside the gzipped document view, where a search of the file would not see it; the rest of the text stays.
    const [view] = embedded<string[]>(html, 'views').map((encoded) => JSON.stringify(viewOf(encoded)));
    expect(view).toContain('The key is [redacted] and the launch is on 3 May 2024');
    expect(view).not.toContain(key);
  });
});

describe('report: distill report <records.jsonl...>', () => {
  it('reads the records of two runs and groups them by a tag of the JSONL input', async () => {
    const lines = [
      { id: 'a', text: 'Invoice 7 from Acme Corp. Total due: $4,200 by 3 May 2024.', tags: { feature: 'billing' } },
      { id: 'b', text: 'The board meets on 12 June. Budget: €1.5 million.', tags: { feature: 'board' } },
    ];
    const first = join(folder, 'one.jsonl');
    const second = join(folder, 'two.jsonl');
    for (const [path, line] of [[first, lines[0]], [second, lines[1]]] as const) {
      const run = await cli(['run', '-', '--task', task, '--threads', '1', '--no-cache', '--spans', '--out', path], { input: `${JSON.stringify(line)}\n` });
      expect(run.code, run.stderr).toBe(0);
    }
    const out = join(folder, 'both.html');
    const result = await cli(['report', first, second, '--out', out, '--title', 'Two runs']);
    expect(result.code, result.stderr).toBe(0);
    const html = await readFile(out, 'utf8');
    expect(html).toContain('<title>Two runs</title>');
    const table = /<table class="tag-table" data-tag="feature">(.*?)<\/table>/s.exec(html)?.[1] ?? '';
    expect(table).toMatch(/<td>billing<\/td><td class="number">1<\/td>/);
    expect(table).toMatch(/<td>board<\/td><td class="number">1<\/td>/);
    expect(embedded<unknown[][]>(html, 'rows').map((row) => row[0])).toEqual(['a', 'b']);
  });

  it('refuses a JSONL line whose tags are not strings, with an error record', async () => {
    const out = join(folder, 'records.jsonl');
    await cli(['run', '-', '--task', task, '--threads', '1', '--no-cache', '--out', out], { input: `${JSON.stringify({ id: 'a', text: 'Hello.', tags: { user: 42 } })}\n` });
    const [record] = await records(out);
    expect(record!.status).toBe('error');
    expect(record!.error).toContain('"tags" must be an object of strings');
  });

  it.each([
    [['--tag', 'team'], '--tag must be key=value, got "team"'],
    [['--alert-usd', '-5'], 'Expected --alert-usd to be a positive number of US dollars, got -5.'],
    [['--alert-webhook', 'ftp://example.org/x?token=hidden'], 'Expected --alert-webhook to be an http(s) URL, got ftp://example.org/x?….'],
  ])('refuses %j before any model loads', async (flags, message) => {
    const result = await cli(['run', 'fixtures/docs', '--task', task, ...flags]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
    expect(result.stderr).not.toContain('hidden');
  });
});

describe('alerts', () => {
  const record = (usd: number, source: string) => ({ source, status: 'ok', cost: { distilledUsd: usd }, llm: { dryRun: false, cached: false, model: 'gpt-4o', costUsd: usd, attempts: 1 } }) as unknown as DistillRecord;

  it('reports each threshold once, at the record that crossed it', () => {
    const watch = new SpendWatch([1, 0.5]);
    const crossed = ['a', 'b', 'c', 'd'].map((source) => watch.add(record(0.3, source)).map((alert) => [alert.thresholdUsd, alert.source, alert.estimated]));
    expect(crossed).toEqual([[], [[0.5, 'b', false]], [], [[1, 'd', false]]]);
  });

  it.each([
    ['https://hooks.example.org/services/T0/B0?token=abc#x', 'https://hooks.example.org/services/T0/B0?…'],
    ['https://user:pass@example.org/hook', 'https://example.org/hook'],
    ['not a url', '(an invalid URL)'],
  ])('shows %s as %s', (url, shown) => {
    expect(safeUrl(url)).toBe(shown);
  });

  it('warns on stderr, POSTs the JSON to the webhook, and never prints its query string', async () => {
    const received: { body: unknown; url: string }[] = [];
    const server = createServer(async (request: IncomingMessage, response) => {
      let body = '';
      for await (const chunk of request) body += chunk;
      received.push({ body: JSON.parse(body), url: request.url ?? '' });
      response.end('ok');
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as { port: number };
    try {
      const hook = `http://127.0.0.1:${port}/hook?token=s3cr3t-value`;
      const report = join(folder, 'r.html');
      const run = await cli(['run', 'fixtures/docs/email', '--task', task, '--stages', 'regex', '--threads', '1', '--no-cache', '--out', join(folder, 'records.jsonl'), '--alert-usd', '0.001', '--alert-webhook', hook, '--report', report]);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stderr).toMatch(/distill: alert: spend \(estimated\) reached \$[\d.]+, past --alert-usd \$0\.00100, after 1 document\./);
      expect(run.stderr).toContain(`alert posted to http://127.0.0.1:${port}/hook?…`);
      expect(run.stderr).not.toContain('s3cr3t');
      expect(received).toHaveLength(1);
      expect(received[0]!.url).toBe('/hook?token=s3cr3t-value');
      expect(received[0]!.body).toMatchObject({ event: 'distill.spend-alert', thresholdUsd: 0.001, estimated: true, documents: 1, model: 'gpt-4o' });
      const html = await readFile(report, 'utf8');
      expect(html).toContain('id="alerts"');
      expect(html).not.toContain('s3cr3t');
    } finally {
      server.close();
    }
  });
});

describe('ReportCollector', () => {
  it('counts documents without a tag key under (none), so each tag table adds up to the run', () => {
    const collector = new ReportCollector();
    const base = { id: 'x', format: 'text', status: 'ok', messages: [], stages: [], distilled: '', tokens: { original: 10, distilled: 4 }, cost: { model: 'gpt-4o', originalUsd: 1, distilledUsd: 0.5, originalPromptTokens: 0, distilledPromptTokens: 0 } };
    collector.add({ ...base, source: 'a', tags: { user: 'u1' } } as DistillRecord);
    collector.add({ ...base, source: 'b' } as DistillRecord);
    const { tags } = collector.data();
    expect(tags.user).toEqual({
      u1: { documents: 1, tokensOriginal: 10, tokensDistilled: 4, originalUsd: 1, distilledUsd: 0.5 },
      '(none)': { documents: 1, tokensOriginal: 10, tokensDistilled: 4, originalUsd: 1, distilledUsd: 0.5 },
    });
  });
});
