/**
 * The HTML report at scale: its size, and its load time in Chromium, for
 * 10,000 documents (1,000 with `--quick`). The records are real: the
 * pipeline runs, with span capture, over distinct SpamAssassin ham emails,
 * whose records are then repeated under new names (with a `user` tag that
 * cycles) up to the count. Times are reported, never asserted.
 *
 * `node --import tsx bench/report.ts [--quick]`; `npm run bench` runs it too.
 */
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { createPipeline } from '../src/pipeline.js';
import type { DistillRecord } from '../src/record.js';
import { ReportCollector, renderReport } from '../src/report/index.js';
import { findExecutable } from '../test/helpers/services.js';
import { spamAssassin } from './corpora.js';

export interface ReportBenchResult {
  documents: number;
  distinct: number;
  megabytes: number;
  buildMs: number;
  /** Null when Chromium is not installed. */
  loadMs: number[] | null;
  sortMs: number | null;
  viewMs: number | null;
  skipped?: string;
}

/** The document counts `npm run bench` and this script use, with and without `--quick`. */
export const reportBenchSizes = { quick: { documents: 1_000, distinct: 50 }, full: { documents: 10_000, distinct: 400 } } as const;

export async function runReportBench(options: { documents: number; distinct: number }): Promise<ReportBenchResult> {
  const corpus = await spamAssassin(options.distinct);
  const pipeline = createPipeline({ task: corpus.task, budget: corpus.budget, dryRun: true, spans: true, llm: { cache: false }, threads: 2 });
  const distinct: DistillRecord[] = [];
  try {
    for await (const record of pipeline.run(corpus.inputs)) distinct.push(record);
  } finally {
    await pipeline.close();
  }
  const started = performance.now();
  const collector = new ReportCollector();
  for (let index = 0; index < options.documents; index++) {
    const record = distinct[index % distinct.length]!;
    const group = record.source.split('/').at(-2) ?? 'ham';
    collector.add({ ...record, id: `${index}-${record.id}`, source: `${group}/${index}-${record.source.split('/').at(-1)}`, tags: { folder: group, user: `user-${index % 37}` } });
  }
  const html = renderReport(collector.data({ title: `report bench: ${options.documents} documents` }));
  const buildMs = performance.now() - started;
  const folder = await mkdtemp(join(tmpdir(), 'distill-report-bench-'));
  const file = join(folder, 'report.html');
  try {
    await writeFile(file, html);
    const result: ReportBenchResult = { documents: options.documents, distinct: distinct.length, megabytes: (await stat(file)).size / 1e6, buildMs, loadMs: null, sortMs: null, viewMs: null };
    const chromiumPath = findExecutable('chromium', process.env.PATH);
    if (!chromiumPath) return { ...result, skipped: 'chromium is not installed; install it with: apt-get install chromium' };
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({ executablePath: chromiumPath });
    try {
      const loadMs: number[] = [];
      let sortMs = 0;
      let viewMs = 0;
      for (let round = 0; round < 3; round++) {
        // A fresh page each round: nothing cached from the round before.
        const page = await browser.newPage();
        const begin = performance.now();
        await page.goto(pathToFileURL(file).href);
        await page.waitForSelector('body[data-ready="true"]');
        loadMs.push(performance.now() - begin);
        const sortBegin = performance.now();
        await page.locator('#documents th[data-sort="cost"] button').click();
        await page.waitForSelector('#documents th[data-sort="cost"][aria-sort="descending"]');
        sortMs = performance.now() - sortBegin;
        const viewBegin = performance.now();
        await page.locator('#documents tbody td.source a').first().click();
        await page.waitForSelector('#view:not([hidden]) #doc-text del');
        viewMs = performance.now() - viewBegin;
        await page.close();
      }
      return { ...result, loadMs, sortMs, viewMs };
    } finally {
      await browser.close();
    }
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

export function formatReportBench(result: ReportBenchResult): string {
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  const base = `report: ${result.documents.toLocaleString('en-US')} documents (${result.distinct} distinct emails, repeated), ${result.megabytes.toFixed(1)} MB, built in ${(result.buildMs / 1000).toFixed(1)} s`;
  if (!result.loadMs) return `${base}; Chromium load not measured (${result.skipped})`;
  return `${base}; Chromium, opened from disk: loaded and ready in ${Math.round(median(result.loadMs))} ms (median of ${result.loadMs.length}: ${result.loadMs.map(Math.round).join(', ')} ms), sort by cost ${Math.round(result.sortMs!)} ms, a document view ${Math.round(result.viewMs!)} ms`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false } } });
  const result = await runReportBench(values.quick ? reportBenchSizes.quick : reportBenchSizes.full);
  process.stdout.write(`${formatReportBench(result)}\n`);
}
