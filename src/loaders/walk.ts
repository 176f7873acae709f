import type { Dirent } from 'node:fs';
import { readdir, readlink, realpath, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, sep } from 'node:path';
import { DistillDocument } from '../document.js';
import type { PathInput } from './index.js';

export interface WalkOptions {
  /** Follow symlinks that stay inside the root; off, every link gets a `skipped` record. @default true */
  followLinks?: boolean;
}

/** What the walk finds: a file to load, or the record of an entry that cannot be one (a link it does not follow). */
export type WalkEntry = PathInput | DistillDocument;

/**
 * Every entry below `root`, depth first in name order, as a stream so a
 * folder of 10,000 files never sits in memory: a `{ path }` for each file to
 * load, and a `skipped` document for each entry that gives nothing to load,
 * so every input has a record. Hidden entries (`.name`) are left out. A
 * symlink is followed while its target stays inside the root; a loop, a
 * dangling link and a link out of the root are skipped with the reason, and a
 * folder is never read twice.
 *
 * @example
 * for await (const record of pipeline.run(walkInputs('mail/'))) console.log(record.status, record.source);
 */
export async function* walkInputs(root: string, options: WalkOptions = {}): AsyncGenerator<WalkEntry> {
  const followLinks = options.followLinks ?? true;
  const realRoot = await realpath(root);
  const info = await stat(realRoot);
  if (!info.isDirectory()) {
    yield { path: root };
    return;
  }
  // Each folder read so far, by real path, with the path it was read as.
  const seen = new Map<string, string>([[realRoot, root]]);

  async function* folder(path: string, real: string): AsyncGenerator<WalkEntry> {
    const entries: Dirent[] = [];
    for (const entry of await readdir(path, { withFileTypes: true })) if (!entry.name.startsWith('.')) entries.push(entry);
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const child = join(path, entry.name);
      if (entry.isFile()) yield { path: child };
      else if (entry.isDirectory()) yield* enter(child, join(real, entry.name));
      else if (entry.isSymbolicLink()) yield* link(child, real);
      else yield skipped(child, `not a regular file (${kindOf(entry)}): nothing to read`, 'load:special', 'leave it out of the input folder');
    }
  }

  async function* enter(path: string, real: string): AsyncGenerator<WalkEntry> {
    // Reached before through a link: its files have records under that path.
    if (seen.has(real)) return;
    seen.set(real, path);
    yield* folder(path, real);
  }

  async function* link(path: string, parentReal: string): AsyncGenerator<WalkEntry> {
    if (!followLinks) {
      yield skipped(path, 'symlink not followed (followLinks is off)', 'load:symlink', 'pass the file it points to as an input of its own');
      return;
    }
    let target: string;
    try {
      target = await realpath(path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ELOOP') {
        yield skipped(path, 'symlink loop: the link resolves back to itself', 'load:symlink', 'remove the link, or point it at a file');
      } else if (code === 'ENOENT' || code === 'ENOTDIR') {
        const to = await readlink(path).catch(() => 'a missing path');
        yield skipped(path, `dangling symlink: its target ${to} does not exist`, 'load:symlink', 'remove the link, or restore the file it points to');
      } else {
        yield failedEntry(path, `cannot follow symlink: ${(error as Error).message}`, 'load:symlink', 'E_READ', 'check the link and its target');
      }
      return;
    }
    if (!isInside(realRoot, target)) {
      yield skipped(
        path,
        `points outside the folder: the link leads to ${target}, which is not under ${root}`,
        'load:symlink',
        `to read it, give ${target} as an input of its own`,
      );
      return;
    }
    const targetInfo = await stat(target);
    if (targetInfo.isFile()) {
      yield { path };
      return;
    }
    if (!targetInfo.isDirectory()) {
      yield skipped(path, `not a regular file (the link leads to ${kindOf(targetInfo)}): nothing to read`, 'load:special', 'leave it out of the input folder');
      return;
    }
    if (isInside(target, parentReal)) {
      yield skipped(path, `symlink loop: the link leads to ${seen.get(target) ?? target}, a folder that holds the link`, 'load:symlink', 'remove the link: that folder is read already');
      return;
    }
    const readAs = seen.get(target);
    if (readAs !== undefined) {
      yield skipped(path, `symlink to a folder that is read already: its files have records under ${readAs}`, 'load:symlink', 'nothing to do, or remove the link');
      return;
    }
    yield* enter(path, target);
  }

  yield* folder(root, realRoot);
}

/**
 * The paths of the files below `root` that `walkInputs` gives to load, in
 * the same order. Entries that get a record of their own from `walkInputs`
 * (a loop, a dangling link, a link out of the root) are left out here.
 */
export async function* walkFiles(root: string, options: WalkOptions = {}): AsyncGenerator<string> {
  for await (const entry of walkInputs(root, options)) if (!(entry instanceof DistillDocument)) yield entry.path;
}

function skipped(path: string, reason: string, origin: string, fix: string): DistillDocument {
  const doc = new DistillDocument({ id: path, source: path, text: '' });
  doc.skip(reason, origin, { fix });
  return doc;
}

function failedEntry(path: string, reason: string, origin: string, code: string, fix: string): DistillDocument {
  const doc = new DistillDocument({ id: path, source: path, text: '' });
  doc.fail(reason, origin, { code, fix });
  return doc;
}

function kindOf(entry: { isFIFO(): boolean; isSocket(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean }): string {
  if (entry.isFIFO()) return 'a FIFO';
  if (entry.isSocket()) return 'a socket';
  if (entry.isCharacterDevice()) return 'a character device';
  if (entry.isBlockDevice()) return 'a block device';
  return 'an entry of unknown type';
}

function isInside(root: string, target: string): boolean {
  const rel = relative(root, target);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}
