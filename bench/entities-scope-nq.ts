/**
 * `node --import tsx bench/entities-scope-nq.ts [--limit N] [--json]`: does
 * the entities stage's `scope: 'task'` change what the sections stage keeps?
 * NQ questions (the question is the task), each gold passage shuffled among
 * 19 random distractors that do not contain an answer, one passage per
 * Markdown section under its title (as bench/nq.ts builds them). Each
 * document goes through entities (scope 'all', then scope 'task', on the same
 * warmed in-process backend) and then the sections stage at budgets 250, 500
 * and 1000; we compare answer recall and the kept sentences. CPU seconds of
 * the entities stage are reported next to wall time. It never asserts.
 */
import { existsSync, readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { DistillDocument } from '../src/document.js';
import { splitSentences } from '../src/sections.js';
import { o200k } from '../src/tokens.js';
import { extractEntities, InProcessBackend, type EntityScope } from '../stages/entities.js';
import { selectSections } from '../stages/sections.js';
import { defaultDataPath, hasAnswer } from './nq.js';

const budgets = [250, 500, 1000] as const;
const distractorCount = 19;
const seed = 20_241_128;

export interface ScopeNqRow {
  budget: number;
  /** Share of questions whose answer survives, after scope 'all' and after scope 'task'. */
  recallAll: number;
  recallTask: number;
  /** Share of the sentences kept after 'all' that are kept after 'task'. */
  sentenceRecall: number;
  /** Documents whose distilled text is byte-identical. */
  identical: number;
}

export interface ScopeNqResult {
  skipped?: string;
  questions: number;
  megabytes: number;
  entities: Record<EntityScope, { seconds: number; cpuSeconds: number; megabytesPerSecond: number; scannedChars: number }>;
  rows: ScopeNqRow[];
}

interface Question {
  question: string;
  answers: string[];
  title: string;
  text: string;
}

export async function benchEntityScopeNq(options: { limit?: number; dataPath?: string } = {}): Promise<ScopeNqResult> {
  const dataPath = options.dataPath ?? defaultDataPath;
  const empty = { seconds: 0, cpuSeconds: 0, megabytesPerSecond: 0, scannedChars: 0 };
  if (!existsSync(dataPath)) return { skipped: `NQ data not found at ${dataPath}`, questions: 0, megabytes: 0, entities: { all: empty, task: { ...empty } }, rows: [] };
  const questions = readQuestions(dataPath);
  const rng = random(seed);
  const chosen = shuffle(questions.map((_, index) => index), rng).slice(0, options.limit ?? 200);
  const pool = questions.map((question) => ({ title: question.title, text: question.text }));
  const documents = chosen.map((index) => {
    const question = questions[index]!;
    const distractors: { title: string; text: string }[] = [];
    const picked = new Set<number>();
    while (distractors.length < distractorCount && picked.size < pool.length) {
      const candidate = Math.floor(rng() * pool.length);
      if (picked.has(candidate)) continue;
      picked.add(candidate);
      const passage = pool[candidate]!;
      if (passage.text !== question.text && !hasAnswer(`${passage.title}\n${passage.text}`, question.answers)) distractors.push(passage);
    }
    const passages = shuffle([{ title: question.title, text: question.text }, ...distractors], rng);
    return { question, text: passages.map((passage) => `## ${passage.title}\n\n${passage.text}`).join('\n\n') };
  });
  const megabytes = documents.reduce((sum, document) => sum + Buffer.byteLength(document.text), 0) / 1e6;

  const backend = new InProcessBackend();
  // Warm compromise up on a few documents outside the sample, so neither scope pays its load and JIT.
  const warm = extractEntities({ backend, scope: 'all' });
  for (const question of questions.filter((_, index) => !chosen.includes(index)).slice(0, 40)) {
    await warm.run(new DistillDocument({ id: 'warm-up', format: 'markdown', text: `## ${question.title}\n\n${question.text}` }), { task: question.question, model: 'gpt-4o', tokenizer: o200k });
  }

  const outputs: Record<EntityScope, string[][]> = { all: [], task: [] };
  const entities = { all: { ...empty }, task: { ...empty } };
  for (const scope of ['all', 'task'] as const) {
    const stage = extractEntities({ backend, scope });
    const runs = budgets.map(() => [] as DistillDocument[]);
    for (const [budgetIndex, budget] of budgets.entries()) {
      const started = performance.now();
      const cpuStart = process.cpuUsage();
      for (const document of documents) {
        const doc = new DistillDocument({ id: document.question.question, format: 'markdown', text: document.text });
        // The budget matters to scope 'task' (its cap), so each budget gets its own entities run.
        await stage.run(doc, { task: document.question.question, budget, model: 'gpt-4o', tokenizer: o200k });
        runs[budgetIndex]!.push(doc);
        if (budgetIndex === 1) entities[scope].scannedChars += doc.data.entityDigest?.scanned?.chars ?? 0;
      }
      const cpu = process.cpuUsage(cpuStart);
      // Throughput is taken at the middle budget (500); the other budgets only feed the selection comparison.
      if (budgetIndex === 1) {
        entities[scope].seconds = (performance.now() - started) / 1000;
        entities[scope].cpuSeconds = (cpu.user + cpu.system) / 1e6;
        entities[scope].megabytesPerSecond = megabytes / entities[scope].seconds;
      }
    }
    for (const [budgetIndex, budget] of budgets.entries()) {
      const select = selectSections({ dedupe: 'document' });
      for (const doc of runs[budgetIndex]!) await select.run(doc, { task: doc.id, budget, model: 'gpt-4o', tokenizer: o200k });
      outputs[scope].push(runs[budgetIndex]!.map((doc) => doc.value));
    }
  }
  await backend.close();

  const rows = budgets.map((budget, budgetIndex): ScopeNqRow => {
    let recallAll = 0;
    let recallTask = 0;
    let kept = 0;
    let shared = 0;
    let identical = 0;
    documents.forEach((document, index) => {
      const a = outputs.all[budgetIndex]![index]!;
      const b = outputs.task[budgetIndex]![index]!;
      if (hasAnswer(a, document.question.answers)) recallAll++;
      if (hasAnswer(b, document.question.answers)) recallTask++;
      if (a === b) identical++;
      const left = new Set(splitSentences(a).map((sentence) => sentence.trim()).filter(Boolean));
      const right = new Set(splitSentences(b).map((sentence) => sentence.trim()).filter(Boolean));
      kept += left.size;
      for (const sentence of left) if (right.has(sentence)) shared++;
    });
    return { budget, recallAll: recallAll / documents.length, recallTask: recallTask / documents.length, sentenceRecall: kept === 0 ? 1 : shared / kept, identical };
  });
  return { questions: documents.length, megabytes, entities, rows };
}

export function formatEntityScopeNq(result: ScopeNqResult): string {
  if (result.skipped) return result.skipped;
  const lines = [
    `entities scope on NQ: ${result.questions} questions, gold + ${distractorCount} random distractors each, ${result.megabytes.toFixed(2)} MB`,
    ...(['all', 'task'] as const).map((scope) => {
      const figure = result.entities[scope];
      return `entities scope ${scope.padEnd(4)}: ${figure.seconds.toFixed(1)} s, ${figure.megabytesPerSecond.toFixed(3)} MB/s, ${figure.cpuSeconds.toFixed(1)} CPU s, compromise read ${(figure.scannedChars / 1e6).toFixed(2)} MB (budget 500)`;
    }),
    'budget  answer recall (all)  answer recall (task)  sentences kept  identical docs',
    ...result.rows.map((row) =>
      [String(row.budget).padStart(6), `${(row.recallAll * 100).toFixed(1)}%`.padStart(19), `${(row.recallTask * 100).toFixed(1)}%`.padStart(20), `${(row.sentenceRecall * 100).toFixed(1)}%`.padStart(14), `${row.identical}/${result.questions}`.padStart(14)].join('  '),
    ),
  ];
  return lines.join('\n');
}

function readQuestions(path: string): Question[] {
  const questions: Question[] = [];
  for (const line of gunzipSync(readFileSync(path)).toString('utf8').split('\n')) {
    if (!line.trim()) continue;
    const record = JSON.parse(line) as { question: string; answers: string[]; ctxs: { title: string; text: string; isgold?: boolean }[] };
    const gold = record.ctxs.find((context) => context.isgold) ?? record.ctxs[0];
    if (gold) questions.push({ question: record.question, answers: record.answers, title: gold.title, text: gold.text });
  }
  return questions;
}

function random(state: number): () => number {
  let value = state >>> 0;
  return () => {
    value = (value + 0x6d2b79f5) >>> 0;
    let mixed = Math.imul(value ^ (value >>> 15), 1 | value);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), 61 | mixed);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function shuffle<Item>(items: Item[], rng: () => number): Item[] {
  for (let index = items.length - 1; index > 0; index--) {
    const other = Math.floor(rng() * (index + 1));
    [items[index], items[other]] = [items[other]!, items[index]!];
  }
  return items;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({ options: { limit: { type: 'string' }, json: { type: 'boolean', default: false } } });
  const result = await benchEntityScopeNq(values.limit === undefined ? {} : { limit: Number(values.limit) });
  process.stdout.write(`${formatEntityScopeNq(result)}\n`);
  if (values.json) process.stdout.write(`${JSON.stringify(result)}\n`);
}
