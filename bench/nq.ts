/**
 * NQ answer recall under a token budget: does the answer survive distillation?
 *
 * Each question's gold Wikipedia passage is mixed with 19 distractors, chosen
 * two ways (at random; hard: the passages lexically nearest the question, what
 * a retriever would return), shuffled with a fixed seed, one passage per
 * Markdown section under its title. The question is the task. We score the
 * share of questions whose answer string is still in the distilled text
 * (case- and whitespace-folded), at several budgets, for our `sections` stage,
 * head truncation and LangChain.js splitter + BM25Retriever (as shipped, and
 * with chunks case-folded before ranking, its fairest form), side by side.
 *
 *   node --import tsx bench/nq.ts [--quick] [--limit N] [--json out.json]
 *
 * Distractors that contain an answer string are excluded, so only the gold
 * passage can answer. The data (`../shared/data/nq-open-oracle.jsonl.gz`) is
 * read in place and never copied into the repository; without it the bench
 * skips with a message.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { DistillDocument } from '../src/document.js';
import { o200k } from '../src/tokens.js';
import { selectSections } from '../stages/sections.js';
import { terms } from '../stages/sections/analyze.js';
import { headTruncate, langchainRank, packChunks } from './baselines.js';
import { seededRandom as random } from './corpora.js';

const here = dirname(fileURLToPath(import.meta.url));
export const defaultDataPath = resolve(here, '../../shared/data/nq-open-oracle.jsonl.gz');

export const budgets = [250, 500, 1000] as const;
const distractorCount = 19;
const quickSize = 300;
const seed = 20_240_601;

export interface NqOptions {
  quick?: boolean;
  /** Use at most this many questions (after the quick sample, if any). */
  limit?: number;
  dataPath?: string;
  /** Progress lines on stderr. */
  log?: (line: string) => void;
}

export interface MethodFigures {
  /** Share of questions whose answer is in the distilled text, 0..1. */
  recall: number;
  /** Mean exact o200k tokens of the distilled text. */
  meanTokens: number;
  /** Documents whose distilled text exceeded the budget (must be 0). */
  overBudget: number;
  ms: number;
}

export interface NqRow {
  distractors: 'random' | 'hard';
  budget: number;
  ours: MethodFigures;
  head: MethodFigures;
  /** LangChain.js as shipped. */
  langchain: MethodFigures;
  /** LangChain.js with chunks and task case-folded before ranking (see `caseFold` in baselines.ts). */
  langchainFolded: MethodFigures;
}

export interface NqResult {
  skipped?: string;
  questions: number;
  meanDocumentTokens: { random: number; hard: number };
  rows: NqRow[];
  seconds: number;
}

interface Question {
  question: string;
  answers: string[];
  title: string;
  text: string;
}

export async function runNq(options: NqOptions = {}): Promise<NqResult> {
  const started = performance.now();
  const dataPath = options.dataPath ?? defaultDataPath;
  const log = options.log ?? (() => {});
  if (!existsSync(dataPath)) {
    return { skipped: `NQ data not found at ${dataPath}; skipping (see ../shared/data/README.md)`, questions: 0, meanDocumentTokens: { random: 0, hard: 0 }, rows: [], seconds: 0 };
  }
  const all = readQuestions(dataPath);
  const pool = uniquePassages(all);
  let chosen = all.map((_, index) => index);
  if (options.quick) chosen = shuffle(chosen, random(seed)).slice(0, quickSize).sort((left, right) => left - right);
  if (options.limit !== undefined) chosen = chosen.slice(0, options.limit);

  const index = buildIndex(pool);
  const rows = new Map<string, NqRow>();
  const empty = (): MethodFigures => ({ recall: 0, meanTokens: 0, overBudget: 0, ms: 0 });
  for (const kind of ['random', 'hard'] as const) {
    for (const budget of budgets) rows.set(`${kind}:${budget}`, { distractors: kind, budget, ours: empty(), head: empty(), langchain: empty(), langchainFolded: empty() });
  }
  const documentTokens = { random: 0, hard: 0 };
  // One stage per budget, as one run over the corpus would use it. Dedupe stays per document: across documents
  // it would drop a gold passage that an earlier question had as a distractor.
  const stages = new Map(budgets.map((budget) => [budget, selectSections({ dedupe: 'document' })]));

  let done = 0;
  for (const questionIndex of chosen) {
    const question = all[questionIndex]!;
    const rng = random(seed + questionIndex);
    for (const kind of ['random', 'hard'] as const) {
      const distractors = kind === 'random' ? randomDistractors(pool, question, rng) : hardDistractors(index, pool, question);
      const passages = shuffle([{ title: question.title, text: question.text }, ...distractors], rng);
      const text = passages.map((passage) => `## ${passage.title}\n\n${passage.text}`).join('\n\n');
      documentTokens[kind] += o200k.count(text);

      let time = performance.now();
      const ranked = await langchainRank(text, question.question);
      const rankMs = performance.now() - time;
      time = performance.now();
      const rankedFolded = await langchainRank(text, question.question, { caseFold: true });
      const foldedMs = performance.now() - time;
      time = performance.now();
      const encoded = o200k.encode(text);
      const encodeMs = performance.now() - time;
      for (const budget of budgets) {
        const row = rows.get(`${kind}:${budget}`)!;

        time = performance.now();
        const stage = stages.get(budget)!;
        const doc = new DistillDocument({ id: `${questionIndex}`, format: 'markdown', text });
        await stage.run(doc, { task: question.question, budget, model: 'gpt-4o', tokenizer: o200k });
        tally(row.ours, doc.value, question.answers, budget, performance.now() - time);

        time = performance.now();
        const head = headTruncate(text, budget, o200k, encoded);
        tally(row.head, head, question.answers, budget, performance.now() - time + encodeMs / budgets.length);

        time = performance.now();
        const langchain = packChunks(ranked, budget);
        tally(row.langchain, langchain, question.answers, budget, performance.now() - time + rankMs / budgets.length);

        time = performance.now();
        const folded = packChunks(rankedFolded, budget);
        tally(row.langchainFolded, folded, question.answers, budget, performance.now() - time + foldedMs / budgets.length);
      }
    }
    done++;
    if (done % 100 === 0) log(`nq: ${done}/${chosen.length} questions`);
  }

  const count = chosen.length;
  for (const row of rows.values()) {
    for (const figures of [row.ours, row.head, row.langchain, row.langchainFolded]) {
      figures.recall /= count;
      figures.meanTokens /= count;
      figures.ms = Math.round(figures.ms);
    }
  }
  return {
    questions: count,
    meanDocumentTokens: { random: Math.round(documentTokens.random / count), hard: Math.round(documentTokens.hard / count) },
    rows: [...rows.values()],
    seconds: Math.round((performance.now() - started) / 100) / 10,
  };
}

function tally(figures: MethodFigures, text: string, answers: readonly string[], budget: number, ms: number): void {
  const tokens = o200k.count(text);
  figures.meanTokens += tokens;
  if (tokens > budget) figures.overBudget++;
  if (hasAnswer(text, answers)) figures.recall++;
  figures.ms += ms;
}

/** Case-folded, whitespace-folded containment, as the NQ answer-recall metric asks. */
export function hasAnswer(text: string, answers: readonly string[]): boolean {
  const haystack = normalize(text);
  return answers.some((answer) => {
    const needle = normalize(answer);
    return needle.length > 0 && haystack.includes(needle);
  });
}

function normalize(text: string): string {
  return text.toLowerCase().replace(/\s+/g, ' ').trim();
}

function readQuestions(path: string): Question[] {
  const lines = gunzipSync(readFileSync(path)).toString('utf8').split('\n');
  const questions: Question[] = [];
  for (const line of lines) {
    if (!line.trim()) continue;
    const record = JSON.parse(line) as { question: string; answers: string[]; ctxs: { title: string; text: string; isgold?: boolean }[] };
    const gold = record.ctxs.find((context) => context.isgold) ?? record.ctxs[0];
    if (!gold) continue;
    questions.push({ question: record.question, answers: record.answers, title: gold.title, text: gold.text });
  }
  return questions;
}

interface Passage {
  title: string;
  text: string;
}

function uniquePassages(questions: readonly Question[]): Passage[] {
  const seen = new Set<string>();
  const pool: Passage[] = [];
  for (const question of questions) {
    if (seen.has(question.text)) continue;
    seen.add(question.text);
    pool.push({ title: question.title, text: question.text });
  }
  return pool;
}

function eligible(passage: Passage, question: Question): boolean {
  return passage.text !== question.text && !hasAnswer(`${passage.title}\n${passage.text}`, question.answers);
}

function randomDistractors(pool: readonly Passage[], question: Question, rng: () => number): Passage[] {
  const picked = new Set<number>();
  const result: Passage[] = [];
  while (result.length < distractorCount && picked.size < pool.length) {
    const candidate = Math.floor(rng() * pool.length);
    if (picked.has(candidate)) continue;
    picked.add(candidate);
    if (eligible(pool[candidate]!, question)) result.push(pool[candidate]!);
  }
  return result;
}

interface Index {
  postings: Map<string, { passage: number; frequency: number }[]>;
  lengths: number[];
  averageLength: number;
}

/** A BM25 index over every passage (title and text): the "retriever" that picks hard distractors. */
function buildIndex(pool: readonly Passage[]): Index {
  const postings: Index['postings'] = new Map();
  const lengths: number[] = [];
  pool.forEach((passage, passageIndex) => {
    const passageTerms = terms(`${passage.title} ${passage.text}`);
    lengths.push(passageTerms.length);
    const counts = new Map<string, number>();
    for (const term of passageTerms) counts.set(term, (counts.get(term) ?? 0) + 1);
    for (const [term, frequency] of counts) {
      const posting = postings.get(term);
      if (posting) posting.push({ passage: passageIndex, frequency });
      else postings.set(term, [{ passage: passageIndex, frequency }]);
    }
  });
  return { postings, lengths, averageLength: lengths.reduce((sum, length) => sum + length, 0) / Math.max(1, lengths.length) };
}

function hardDistractors(index: Index, pool: readonly Passage[], question: Question): Passage[] {
  const scores = new Map<number, number>();
  const count = pool.length;
  for (const term of new Set(terms(question.question))) {
    const posting = index.postings.get(term);
    if (!posting) continue;
    const idf = Math.log(1 + (count - posting.length + 0.5) / (posting.length + 0.5));
    for (const { passage, frequency } of posting) {
      const length = index.lengths[passage]!;
      const score = (idf * frequency * 2.2) / (frequency + 1.2 * (0.25 + (0.75 * length) / index.averageLength));
      scores.set(passage, (scores.get(passage) ?? 0) + score);
    }
  }
  const ranked = [...scores.entries()].sort((left, right) => right[1] - left[1] || left[0] - right[0]);
  const result: Passage[] = [];
  for (const [passage] of ranked) {
    if (result.length === distractorCount) break;
    if (eligible(pool[passage]!, question)) result.push(pool[passage]!);
  }
  // A question with few matching terms: fill up with passages in pool order, so every document has 20 passages.
  for (let passage = 0; result.length < distractorCount && passage < pool.length; passage++) {
    if (!scores.has(passage) && eligible(pool[passage]!, question)) result.push(pool[passage]!);
  }
  return result;
}

function shuffle<Item>(items: Item[], rng: () => number): Item[] {
  const copy = items.slice();
  for (let index = copy.length - 1; index > 0; index--) {
    const other = Math.floor(rng() * (index + 1));
    [copy[index], copy[other]] = [copy[other]!, copy[index]!];
  }
  return copy;
}

export function formatNq(result: NqResult): string {
  if (result.skipped) return result.skipped;
  const percent = (value: number) => `${(value * 100).toFixed(1)}%`.padStart(6);
  const cell = (figures: MethodFigures) => `${percent(figures.recall)} ${String(Math.round(figures.meanTokens)).padStart(5)}`;
  const lines = [
    `NQ answer recall, ${result.questions} questions, 20 passages each (mean document tokens: random ${result.meanDocumentTokens.random}, hard ${result.meanDocumentTokens.hard}), ${result.seconds}s`,
    'recall and mean tokens kept per method',
    `${'distractors'.padEnd(12)}${'budget'.padStart(7)} | ${'ours'.padEnd(13)}| ${'head'.padEnd(13)}| ${'langchain bm25'.padEnd(15)}| langchain bm25, case-folded`,
  ];
  for (const row of result.rows) {
    lines.push(`${row.distractors.padEnd(12)}${String(row.budget).padStart(7)} | ${cell(row.ours)} | ${cell(row.head)} | ${cell(row.langchain)}   | ${cell(row.langchainFolded)}`);
  }
  const over = result.rows.reduce((sum, row) => sum + row.ours.overBudget + row.head.overBudget + row.langchain.overBudget + row.langchainFolded.overBudget, 0);
  lines.push(`documents over budget (any method): ${over}`);
  const ms = (pick: (row: NqRow) => MethodFigures) => result.rows.reduce((sum, row) => sum + pick(row).ms, 0);
  lines.push(
    `time per method (all rows): ours ${ms((row) => row.ours)} ms, head ${ms((row) => row.head)} ms, langchain ${ms((row) => row.langchain)} ms, case-folded ${ms((row) => row.langchainFolded)} ms`,
  );
  return lines.join('\n');
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const limitAt = args.indexOf('--limit');
  const jsonAt = args.indexOf('--json');
  const options: NqOptions = { quick: args.includes('--quick'), log: (line) => process.stderr.write(`${line}\n`) };
  if (limitAt >= 0) options.limit = Number(args[limitAt + 1]);
  const result = await runNq(options);
  console.log(formatNq(result));
  if (jsonAt >= 0 && args[jsonAt + 1]) writeFileSync(args[jsonAt + 1]!, `${JSON.stringify(result, null, 2)}\n`);
}
