/**
 * The hostile-input folder of issue 14 (fixtures/hostile/make.mjs), plus the
 * large files too slow for `npm test`: a text file just under the default
 * `--max-bytes`, the largest a run reads, and a markdown file of 200,000
 * headings. The CLI runs over it with every local stage, dry, in a child
 * process; the bench reports that process's peak resident memory (its
 * worker threads included), the records by status and the time taken.
 *
 *   node --import tsx bench/hostile.ts [--big-mb 49] [--headings 200000] [--json out.json]
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = fileURLToPath(new URL('..', import.meta.url));
const run = promisify(execFile);

/** What the issue holds the run to. */
export const peakRssLimitMb = 1024;

export interface HostileResult {
  inputs: number;
  records: number;
  byStatus: Record<string, number>;
  exitCode: number;
  seconds: number;
  /** The CLI process's peak resident set size, in MB. */
  peakRssMb: number;
  bigFiles: { name: string; megabytes: number; status: string }[];
}

/** Paragraphs of varied figures, so no stage can take the file for one repeated section. */
function bigText(bytes: number): string {
  const parts: string[] = [];
  let size = 0;
  for (let index = 0; size < bytes; index++) {
    const paragraph = `Entry ${index}: the ${['north', 'south', 'east', 'west'][index % 4]} depot shipped ${(index * 37) % 1000} crates worth $${((index * 7919) % 100_000).toLocaleString('en-US')} on 2024-${String((index % 12) + 1).padStart(2, '0')}-${String((index % 28) + 1).padStart(2, '0')}.\n\n`;
    parts.push(paragraph);
    size += paragraph.length;
  }
  return parts.join('').slice(0, bytes);
}

function manyHeadings(count: number): string {
  return Array.from({ length: count }, (_, index) => `## Heading ${index}\n\nItem ${index} costs $${index % 1000}.\n`).join('\n');
}

/** The child's peak RSS, read from inside it at exit: it counts the worker threads, which share its process. */
const peakRssPreload = `import { writeFileSync } from 'node:fs';
process.on('exit', () => writeFileSync(process.env.DISTILL_PEAK_RSS_FILE, String(process.resourceUsage().maxRSS)));
`;

export async function runHostile(options: { bigMegabytes?: number; headings?: number } = {}): Promise<HostileResult> {
  const dir = await mkdtemp(join(tmpdir(), 'distill-hostile-bench-'));
  try {
    const manifest = JSON.parse((await run(process.execPath, [join(root, 'fixtures/hostile/make.mjs'), dir])).stdout) as { root: string; inputs: { name: string }[] };
    // Just under the default --max-bytes of 50 MB: the largest file a default run reads whole.
    const bigMegabytes = options.bigMegabytes ?? 49;
    const bigFiles = [
      { name: 'ledger-export.txt', text: bigText(bigMegabytes * 1_000_000) },
      { name: 'handbook-200k-headings.md', text: manyHeadings(options.headings ?? 200_000) },
    ];
    for (const file of bigFiles) await writeFile(join(manifest.root, file.name), file.text);
    const preload = join(dir, 'peak-rss.mjs');
    const rssFile = join(dir, 'peak-rss');
    await writeFile(preload, peakRssPreload);

    const started = performance.now();
    const { code, stdout } = await new Promise<{ code: number; stdout: string }>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', preload, join(root, 'bin/distill.js'), 'run', manifest.root, '--task', 'What figures are given?', '--dry-run', '--no-cache'], {
        env: { ...process.env, DISTILL_PEAK_RSS_FILE: rssFile },
        // Its summary and skip notices would bury the bench's table; the records on stdout say what happened.
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.once('error', reject);
      child.once('close', (exitCode) => resolve({ code: exitCode ?? -1, stdout: out }));
    });
    const seconds = (performance.now() - started) / 1000;
    const records = stdout
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { source: string; status: string });
    const byStatus: Record<string, number> = {};
    for (const record of records) byStatus[record.status] = (byStatus[record.status] ?? 0) + 1;
    const peakKb = Number(await readFile(rssFile, 'utf8'));
    return {
      inputs: manifest.inputs.length + bigFiles.length,
      records: records.length,
      byStatus,
      exitCode: code,
      seconds: Math.round(seconds * 10) / 10,
      peakRssMb: Math.round(peakKb / 1024),
      bigFiles: bigFiles.map((file) => ({
        name: file.name,
        megabytes: Math.round(file.text.length / 1e5) / 10,
        status: records.find((record) => record.source.endsWith(file.name))?.status ?? 'no record',
      })),
    };
  } finally {
    // rm -rf, not fs.rm: the too-deep folder's paths are longer than a system call takes.
    await run('rm', ['-rf', dir]);
  }
}

export function formatHostile(result: HostileResult): string {
  return [
    `${result.inputs} inputs, ${result.records} records (${Object.entries(result.byStatus)
      .map(([status, count]) => `${count} ${status}`)
      .join(', ')}), exit code ${result.exitCode}, ${result.seconds} s`,
    ...result.bigFiles.map((file) => `  ${file.name}: ${file.megabytes} MB, ${file.status}`),
    `peak RSS ${result.peakRssMb} MB (limit ${peakRssLimitMb} MB): ${result.peakRssMb <= peakRssLimitMb ? 'within' : 'OVER'}`,
  ].join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const flag = (name: string) => {
    const at = process.argv.indexOf(name);
    return at >= 0 && process.argv[at + 1] ? Number(process.argv[at + 1]) : undefined;
  };
  const bigMegabytes = flag('--big-mb');
  const headings = flag('--headings');
  const result = await runHostile({ ...(bigMegabytes === undefined ? {} : { bigMegabytes }), ...(headings === undefined ? {} : { headings }) });
  console.log(formatHostile(result));
  const jsonAt = process.argv.indexOf('--json');
  if (jsonAt >= 0 && process.argv[jsonAt + 1]) await writeFile(process.argv[jsonAt + 1]!, `${JSON.stringify(result, null, 2)}\n`);
}
