import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { excluded, readExcludeList, type ExcludeList } from '../models/relevance/train/exclude.mjs';

interface TrainingTask {
  id: string;
  corpus: string;
  path: string;
  file: string;
}

const dataFolder = new URL('../models/relevance/train/data/', import.meta.url).pathname;

function trainingTasks(): TrainingTask[] {
  return readdirSync(dataFolder)
    .filter((name) => name.endsWith('.jsonl'))
    .flatMap((name) => readFileSync(join(dataFolder, name), 'utf8').split('\n').filter((line) => line.trim() !== ''))
    .map((line) => JSON.parse(line) as TrainingTask);
}

describe('relevance training data', () => {
  let list: ExcludeList;
  beforeAll(async () => {
    list = await readExcludeList();
  });

  it('holds no evaluation document (train-exclude.tsv)', () => {
    const tasks = trainingTasks();
    expect(tasks.length).toBeGreaterThan(800);
    const offending = tasks.filter((task) => excluded(list, task.corpus, task.path, task.file)).map((task) => task.id);
    expect(offending).toEqual([]);
  });

  it('the check rejects a listed document, also read from another copy of its package', () => {
    const [entry] = [...list.documents];
    const [name, path] = entry!.split('\t') as [string, string];
    const corpus = name.startsWith('npm:') ? `npm package ${name.slice(4)} 9.9.9` : `Debian 12 package ${name} 1.0`;
    expect(excluded(list, corpus, path)).toBe(true);
    expect(excluded(list, corpus, 'elsewhere', `/somewhere/node_modules/${name}/${path}`)).toBe(true);
    expect(excluded(list, corpus, `${path}.not-listed`)).toBe(false);
  });

  it('the check rejects every document of a listed package', () => {
    const [name] = [...list.packages];
    expect(name).toBeDefined();
    expect(excluded(list, `Debian 12 package ${name!} 1.0`, 'any/file.txt')).toBe(true);
  });
});
