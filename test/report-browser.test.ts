import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main, type CliIo } from '../src/cli.js';
import type { DistillRecord } from '../src/record.js';
import { formatInt } from '../src/report/terminal.js';
import { service } from './helpers/services.js';

/**
 * The HTML report as a person sees it: a real run over the fixtures (dry,
 * no key), opened from disk in the system's Chromium (playwright-core
 * drives it; no browser is downloaded). Screenshots go to test/artifacts/.
 */
const browserBinary = service('chromium');
const artifacts = new URL('artifacts/', import.meta.url).pathname;

let folder: string;
let records: DistillRecord[];
let reportUrl: string;
let browser: Browser;
let page: Page;
const problems: string[] = [];
const requests: string[] = [];

describe.skipIf(!browserBinary.path)('report in Chromium', () => {
  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'distill-report-browser-'));
    const out = join(folder, 'records.jsonl');
    const report = join(folder, 'report.html');
    let stderr = '';
    const stderrStream = new PassThrough();
    stderrStream.on('data', (chunk) => (stderr += chunk));
    const io: CliIo = { stdin: Readable.from([]), stdout: new PassThrough(), stderr: stderrStream as unknown as NodeJS.WriteStream, env: {} };
    const code = await main(['run', 'fixtures/docs', '--task', 'Who is involved, and what dates and figures are given?', '--budget', '500', '--no-cache', '--out', out, '--report', report], io);
    expect(code, stderr).toBe(0);
    records = (await readFile(out, 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as DistillRecord);
    reportUrl = pathToFileURL(report).href;
    browser = await chromium.launch({ executablePath: browserBinary.path! });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') problems.push(`console ${message.type()}: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('request', (request) => requests.push(request.url()));
    await page.goto(reportUrl);
    await page.waitForSelector('body[data-ready="true"]');
    await mkdir(artifacts, { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
    if (folder) await rm(folder, { recursive: true, force: true });
  });

  it('opens with no console errors and asks the network for nothing', async () => {
    await page.screenshot({ path: join(artifacts, 'report-overview.png'), fullPage: true });
    expect(problems).toEqual([]);
    expect(requests.filter((url) => !url.startsWith('file:'))).toEqual([]);
  });

  it('shows the funnel with the stage names and the run’s own token figures', async () => {
    const bars = await page.locator('svg.funnel g.bar').evaluateAll((groups) => groups.map((group) => [group.querySelector('.label')?.textContent, group.querySelector('.note')?.textContent]));
    const loaded = records.reduce((sum, record) => sum + record.stages[0]!.tokensIn, 0);
    const expected = [['as loaded', `${formatInt(loaded)} tokens (100.0%)`]];
    for (const stage of records[0]!.stages.map((metric) => metric.stage)) {
      const tokens = records.reduce((sum, record) => sum + (record.stages.find((metric) => metric.stage === stage && !metric.skipped)?.tokensOut ?? 0), 0);
      expected.push([stage, `${formatInt(tokens)} tokens (${((100 * tokens) / loaded).toFixed(1)}%)`]);
    }
    expect(bars).toEqual(expected);
  });

  it('reorders the table when sorted by cost', async () => {
    const sources = () => page.locator('#documents tbody td.source').allTextContents();
    const before = await sources();
    expect(before).toEqual(records.map((record) => record.source));
    await page.locator('#documents th[data-sort="cost"] button').click();
    const byCost = [...records].sort((a, b) => (b.cost.distilledUsd ?? 0) - (a.cost.distilledUsd ?? 0) || records.indexOf(a) - records.indexOf(b)).map((record) => record.source);
    expect(await sources()).toEqual(byCost);
    expect(byCost).not.toEqual(before);
    await page.locator('#documents th[data-sort="cost"] button').click();
    expect(await sources()).toEqual([...records].sort((a, b) => (a.cost.distilledUsd ?? 0) - (b.cost.distilledUsd ?? 0) || records.indexOf(a) - records.indexOf(b)).map((record) => record.source));
  });

  it('filters the table by tokens in', async () => {
    await page.locator('#documents input[data-filter="tokensIn"]').fill('>5000');
    const shown = await page.locator('#documents tbody td.source').allTextContents();
    expect(shown.sort()).toEqual(records.filter((record) => record.tokens.original > 5000).map((record) => record.source).sort());
    await page.locator('#documents input[data-filter="tokensIn"]').fill('');
  });

  it('shows an email’s transport headers struck through, attributed to their rule', async () => {
    const index = records.findIndex((record) => record.source.endsWith('forteana-reply.eml'));
    await openView(index);
    const cuts = await page.locator('#doc-text del').evaluateAll((nodes) => nodes.map((node) => ({ text: node.textContent ?? '', title: node.getAttribute('title'), struck: node.ownerDocument.defaultView!.getComputedStyle(node).textDecorationLine })));
    const headers = cuts.filter((cut) => /^Received: /m.test(cut.text));
    expect(headers.length).toBeGreaterThan(0);
    const rule = 'regex:email-transport-headers';
    expect(records[index]!.stages[0]!.rules?.map((saving) => saving.rule)).toContain(rule);
    for (const cut of headers) {
      expect(cut.title).toBe(`removed by ${rule}`);
      expect(cut.struck).toContain('line-through');
    }
    expect(await page.locator('#view-legend').textContent()).toContain(rule);
    await page.screenshot({ path: join(artifacts, 'report-email-view.png') });
  });

  it('shows, for every document, kept text equal to the record’s distilled text and the prompt as sent', async () => {
    for (const [index, record] of records.entries()) {
      await openView(index);
      const kept = await page.locator('#doc-text').evaluate((node) => {
        // The page's own DOM (the tests compile without DOM types): a copy without the removed text.
        const copy = node.cloneNode(true) as typeof node;
        copy.querySelectorAll('del').forEach((cut: { remove(): void }) => cut.remove());
        return copy.textContent;
      });
      expect(kept, record.source).toBe(record.distilled);
      const prompt = await page.locator('#doc-prompt pre').allTextContents();
      expect(prompt, record.source).toEqual((record.request as { messages: { content: string }[] }).messages.map((message) => message.content));
    }
    expect(problems).toEqual([]);
  });
});

async function openView(index: number): Promise<void> {
  await page.locator('#view-title').evaluate((node) => (node.textContent = ''));
  await page.goto(`${reportUrl}#doc-${index}`);
  await expect.poll(() => page.locator('#view-title').textContent()).toBe(records[index]!.source);
}
