/**
 * The README's picture of the report overview, made from a real run: the
 * CLI runs over fixtures/docs (dry, no key, no cache) with `--report` and a
 * tag, and the system Chromium, driven by playwright-core, photographs the
 * overview and the cost per tag. Rerun it when the report's look changes:
 *
 * `node --import tsx scripts/readme-screenshot.ts [--out docs/report-overview.png]`
 */
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { main, type CliIo } from '../src/cli.js';
import { findExecutable } from '../test/helpers/services.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({ options: { out: { type: 'string', default: join(root, 'docs', 'report-overview.png') } } });
const out = values.out;

const chromiumPath = findExecutable('chromium', process.env.PATH);
if (!chromiumPath) {
  process.stderr.write('scripts/readme-screenshot.ts needs Chromium, which is not on PATH; install it with: apt-get install chromium\n');
  process.exit(1);
}

const folder = await mkdtemp(join(tmpdir(), 'distill-screenshot-'));
try {
  const report = join(folder, 'report.html');
  let stderr = '';
  const stderrStream = new PassThrough();
  stderrStream.on('data', (chunk) => (stderr += chunk));
  // No OPENAI_API_KEY in env: the run is dry, as on a fresh clone.
  const io: CliIo = { stdin: Readable.from([]), stdout: new PassThrough(), stderr: stderrStream as unknown as NodeJS.WriteStream, env: {} };
  const task = 'Who is involved, and what dates and figures are given?';
  const code = await main(['run', join(root, 'fixtures/docs'), '--task', task, '--budget', '500', '--no-cache', '--tag', 'team=research', '--out', join(folder, 'records.jsonl'), '--report', report, '--title', 'distill report: fixtures/docs'], io);
  if (code !== 0) throw new Error(`distill run over fixtures/docs exited with ${code}:\n${stderr}`);

  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: chromiumPath });
  try {
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 }, deviceScaleFactor: 1 });
    await page.goto(pathToFileURL(report).href);
    await page.waitForSelector('body[data-ready="true"]');
    await mkdir(dirname(out), { recursive: true });
    // The overview and the cost per tag: the page down to the documents table.
    const tags = await page.locator('#tags').boundingBox();
    if (!tags) throw new Error('the report has no #tags section to end the screenshot at; src/report/html.ts draws it');
    await page.screenshot({ path: out, fullPage: true, clip: { x: 0, y: 0, width: 1100, height: Math.ceil(tags.y + tags.height + 16) } });
  } finally {
    await browser.close();
  }
  process.stdout.write(`wrote ${out} (${Math.round((await stat(out)).size / 1000)} kB)\n`);
} finally {
  await rm(folder, { recursive: true, force: true });
}
