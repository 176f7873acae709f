import { opendir, realpath, stat } from 'node:fs/promises';
import { join, relative, sep, isAbsolute } from 'node:path';

export interface WalkOptions {
  /** Follow symlinks that stay inside the root. @default true */
  followLinks?: boolean;
}

/**
 * Every file below `root`, depth first in name order, as a stream so a folder
 * of 10,000 files never sits in memory. Hidden entries (`.name`) are skipped;
 * a symlink is followed only while its target stays inside the root, and a
 * directory is never entered twice, so link loops end.
 */
export async function* walkFiles(root: string, options: WalkOptions = {}): AsyncGenerator<string> {
  const followLinks = options.followLinks ?? true;
  const realRoot = await realpath(root);
  const info = await stat(realRoot);
  if (!info.isDirectory()) {
    yield root;
    return;
  }
  const seen = new Set<string>([realRoot]);
  yield* walkDirectory(root, realRoot, seen, followLinks);
}

async function* walkDirectory(path: string, realRoot: string, seen: Set<string>, followLinks: boolean): AsyncGenerator<string> {
  const names: { name: string; kind: 'file' | 'directory' | 'link' }[] = [];
  for await (const entry of await opendir(path)) {
    if (entry.name.startsWith('.')) continue;
    if (entry.isSymbolicLink()) names.push({ name: entry.name, kind: 'link' });
    else if (entry.isDirectory()) names.push({ name: entry.name, kind: 'directory' });
    else if (entry.isFile()) names.push({ name: entry.name, kind: 'file' });
  }
  names.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const { name, kind } of names) {
    const child = join(path, name);
    if (kind === 'file') {
      yield child;
      continue;
    }
    let target = child;
    if (kind === 'link') {
      if (!followLinks) continue;
      try {
        target = await realpath(child);
      } catch {
        continue; // A dangling link has nothing to read.
      }
      if (!isInside(realRoot, target)) continue;
      const targetInfo = await stat(target);
      if (targetInfo.isFile()) {
        yield child;
        continue;
      }
      if (!targetInfo.isDirectory()) continue;
    } else {
      target = await realpath(child);
    }
    if (seen.has(target)) continue;
    seen.add(target);
    yield* walkDirectory(child, realRoot, seen, followLinks);
  }
}

function isInside(root: string, target: string): boolean {
  const rel = relative(root, target);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}
