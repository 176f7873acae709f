/**
 * Checks the synthetic (task, evidence) training data in `data/*.jsonl`:
 * every evidence string is verbatim in its document as distill loads it
 * (under the dev set's matching rule), and no document is an evaluation
 * document listed in `../shared/data/train-exclude.tsv` (by corpus path, or
 * its whole package). Exit code 1 on any failure.
 *
 *   node --import tsx models/relevance/train/check_data.mts [files...]
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadFile } from '../../../src/loaders/index.js';
import { foldForMatch } from '../../../src/measure.js';
import { excluded, readExcludeList } from './exclude.mts';

export interface TrainingTask {
  id: string;
  corpus: string;
  path: string;
  file: string;
  kind: 'qa' | 'extract' | 'summary';
  style: 'paraphrase' | 'lexical' | 'multipart';
  task: string;
  evidence: string[];
}

const here = new URL('.', import.meta.url).pathname;
const files = process.argv.slice(2);
const dataDir = join(here, 'data');
const inputs = files.length > 0 ? files : (await readdir(dataDir)).filter((name) => name.endsWith('.jsonl')).map((name) => join(dataDir, name));
const exclude = await readExcludeList();
const texts = new Map<string, string>();
let tasks = 0;
let evidence = 0;
const problems: string[] = [];
for (const input of inputs) {
  const lines = (await readFile(input, 'utf8')).split('\n').filter((line) => line.trim() !== '');
  for (const [index, line] of lines.entries()) {
    const where = `${input}:${index + 1}`;
    let task: TrainingTask;
    try {
      task = JSON.parse(line) as TrainingTask;
    } catch (error) {
      problems.push(`${where}: not JSON (${(error as Error).message})`);
      continue;
    }
    for (const key of ['id', 'corpus', 'path', 'file', 'kind', 'task'] as const) if (typeof task[key] !== 'string' || task[key] === '') problems.push(`${where}: missing ${key}`);
    if (!Array.isArray(task.evidence) || task.evidence.length === 0) problems.push(`${where}: no evidence`);
    if (excluded(exclude, task.corpus, task.path, task.file)) problems.push(`${where}: ${task.corpus} ${task.path} is an evaluation document (train-exclude.tsv)`);
    let text = texts.get(task.file);
    if (text === undefined) {
      const doc = await loadFile(task.file);
      text = doc.status === 'ok' ? foldForMatch(doc.value) : '';
      if (doc.status !== 'ok') problems.push(`${where}: ${task.file} does not load (${doc.messages.at(-1)?.reason})`);
      texts.set(task.file, text);
    }
    tasks++;
    for (const snippet of task.evidence ?? []) {
      evidence++;
      if (!text.includes(foldForMatch(snippet))) problems.push(`${where}: evidence not verbatim in ${task.file}: ${JSON.stringify(snippet.slice(0, 100))}`);
    }
  }
}
for (const problem of problems) process.stderr.write(`${problem}\n`);
process.stdout.write(`${inputs.length} files, ${tasks} tasks, ${evidence} evidence strings, ${problems.length} problems\n`);
process.exitCode = problems.length > 0 ? 1 : 0;
