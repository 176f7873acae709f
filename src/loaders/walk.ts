import { isUtf8 } from 'node:buffer';
import type { Dirent, Stats } from 'node:fs';
import { readdir, readlink, realpath, stat } from 'node:fs/promises';
import { isAbsolute, normalize, relative, sep } from 'node:path';
import { DistillDocument } from '../document.js';
import type { PathInput } from './index.js';

export interface WalkOptions {
  /** Follow symlinks that stay inside the root; off, every link gets a `skipped` record. @default true */
  followLinks?: boolean;
  /** The file system calls the walk makes, by bytes; tests inject failures here. @default nodeFileSystem */
  fileSystem?: WalkFileSystem;
}

/** What the walk needs from a file system, paths as bytes. */
export interface WalkFileSystem {
  readdir(path: Buffer): Promise<Dirent<Buffer>[]>;
  realpath(path: Buffer): Promise<Buffer>;
  stat(path: Buffer): Promise<Stats>;
  readlink(path: Buffer): Promise<Buffer>;
}

export const nodeFileSystem: WalkFileSystem = {
  readdir: (path) => readdir(path, { encoding: 'buffer', withFileTypes: true }),
  realpath: (path) => realpath(path, { encoding: 'buffer' }),
  stat: (path) => stat(path),
  readlink: (path) => readlink(path, { encoding: 'buffer' }),
};

/** What the walk finds: a file to load, or the record of an entry that cannot be one (a link it does not follow). */
export type WalkEntry = PathInput | DistillDocument;

/**
 * Every entry below `root`, depth first in name order, as a stream so a
 * folder of 10,000 files never sits in memory: a `{ path }` for each file to
 * load, and a `skipped` document for each entry that gives nothing to load,
 * so every input has a record. Hidden entries (`.name`) are left out. A
 * symlink is followed while its target stays inside the root; a loop, a
 * dangling link and a link out of the root are skipped with the reason, and a
 * folder is never read twice. Names are read as bytes, so a name that is
 * not UTF-8 (Latin-1 from an old archive) still opens: its `path` is then a
 * Buffer, and its `id` a readable form. A folder that cannot be read gets
 * one `error` record, and the walk goes on with the rest.
 *
 * @example
 * for await (const record of pipeline.run(walkInputs('mail/'))) console.log(record.status, record.source);
 */
export async function* walkInputs(root: string, options: WalkOptions = {}): AsyncGenerator<WalkEntry> {
  const followLinks = options.followLinks ?? true;
  const fileSystem = options.fileSystem ?? nodeFileSystem;
  const top = Buffer.from(normalize(root));
  let realRoot: Buffer;
  let info: Stats;
  try {
    realRoot = await fileSystem.realpath(top);
    info = await fileSystem.stat(realRoot);
  } catch (error) {
    yield failedEntry(top, `cannot read ${root}: ${(error as Error).message}`, 'load:folder', 'E_READ', fixFor(error));
    return;
  }
  if (!info.isDirectory()) {
    yield { path: root };
    return;
  }
  // Each folder read so far, by real path (bytes as a Latin-1 string, which maps them one to one), with the path it was read as.
  const seen = new Map<string, string>([[binary(realRoot), root]]);

  async function* folder(path: Buffer, real: Buffer): AsyncGenerator<WalkEntry> {
    let entries: Dirent<Buffer>[];
    try {
      entries = (await fileSystem.readdir(path)).filter((entry) => entry.name[0] !== dot);
    } catch (error) {
      yield failedEntry(path, `cannot read folder: ${(error as Error).message}`, 'load:folder', 'E_READ_FOLDER', fixFor(error));
      return;
    }
    entries.sort((a, b) => Buffer.compare(a.name, b.name));
    for (const entry of entries) {
      const child = joinPath(path, entry.name);
      if (entry.isFile()) yield fileInput(child);
      else if (entry.isDirectory()) yield* enter(child, joinPath(real, entry.name));
      else if (entry.isSymbolicLink()) yield* link(child, real);
      else yield skipped(child, `not a regular file (${kindOf(entry)}): nothing to read`, 'load:special', 'leave it out of the input folder');
    }
  }

  async function* enter(path: Buffer, real: Buffer): AsyncGenerator<WalkEntry> {
    // Reached before through a link: its files have records under that path.
    if (seen.has(binary(real))) return;
    seen.set(binary(real), readablePath(path));
    yield* folder(path, real);
  }

  async function* link(path: Buffer, parentReal: Buffer): AsyncGenerator<WalkEntry> {
    if (!followLinks) {
      yield skipped(path, 'symlink not followed (followLinks is off)', 'load:symlink', 'pass the file it points to as an input of its own');
      return;
    }
    let target: Buffer;
    try {
      target = await fileSystem.realpath(path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ELOOP') {
        yield skipped(path, 'symlink loop: the link resolves back to itself', 'load:symlink', 'remove the link, or point it at a file');
      } else if (code === 'ENOENT' || code === 'ENOTDIR') {
        const to = await fileSystem.readlink(path).then(readablePath, () => 'a missing path');
        yield skipped(path, `dangling symlink: its target ${to} does not exist`, 'load:symlink', 'remove the link, or restore the file it points to');
      } else {
        yield failedEntry(path, `cannot follow symlink: ${(error as Error).message}`, 'load:symlink', 'E_READ', fixFor(error));
      }
      return;
    }
    if (!isInside(realRoot, target)) {
      yield skipped(
        path,
        `points outside the folder: the link leads to ${readablePath(target)}, which is not under ${root}`,
        'load:symlink',
        `to read it, give ${readablePath(target)} as an input of its own`,
      );
      return;
    }
    let targetInfo: Stats;
    try {
      targetInfo = await fileSystem.stat(target);
    } catch (error) {
      yield failedEntry(path, `cannot follow symlink: ${(error as Error).message}`, 'load:symlink', 'E_READ', fixFor(error));
      return;
    }
    if (targetInfo.isFile()) {
      yield fileInput(path);
      return;
    }
    if (!targetInfo.isDirectory()) {
      yield skipped(path, `not a regular file (the link leads to ${kindOf(targetInfo)}): nothing to read`, 'load:special', 'leave it out of the input folder');
      return;
    }
    if (isInside(target, parentReal)) {
      yield skipped(path, `symlink loop: the link leads to ${seen.get(binary(target)) ?? readablePath(target)}, a folder that holds the link`, 'load:symlink', 'remove the link: that folder is read already');
      return;
    }
    const readAs = seen.get(binary(target));
    if (readAs !== undefined) {
      yield skipped(path, `symlink to a folder that is read already: its files have records under ${readAs}`, 'load:symlink', 'nothing to do, or remove the link');
      return;
    }
    yield* enter(path, target);
  }

  yield* folder(top, realRoot);
}

/**
 * The paths of the files below `root` that `walkInputs` gives to load, in
 * the same order. Entries that get a record of their own from `walkInputs`
 * (a loop, a dangling link, a link out of the root) are left out here.
 */
export async function* walkFiles(root: string, options: WalkOptions = {}): AsyncGenerator<string | Buffer> {
  for await (const entry of walkInputs(root, options)) if (!(entry instanceof DistillDocument)) yield entry.path;
}

/**
 * A path's bytes as text: each name that is valid UTF-8 as such, any other
 * (a Latin-1 name from an old archive or a Windows share) decoded as Latin-1.
 */
export function readablePath(path: string | Buffer): string {
  if (typeof path === 'string') return path;
  if (isUtf8(path)) return path.toString('utf8');
  const names: string[] = [];
  let start = 0;
  for (let index = 0; index <= path.length; index++) {
    if (index < path.length && path[index] !== slash) continue;
    const name = path.subarray(start, index);
    names.push(name.toString(isUtf8(name) ? 'utf8' : 'latin1'));
    start = index + 1;
  }
  return names.join('/');
}

const dot = 0x2e;
const slash = 0x2f;

/** A path as a string when its bytes are UTF-8 (the usual case, and what callers print), else as the bytes themselves. */
function fileInput(path: Buffer): PathInput {
  return isUtf8(path) ? { path: path.toString('utf8') } : { path, id: readablePath(path) };
}

function joinPath(folder: Buffer, name: Buffer): Buffer {
  if (folder.length === 1 && folder[0] === dot) return name;
  return folder.at(-1) === slash ? Buffer.concat([folder, name]) : Buffer.concat([folder, Buffer.of(slash), name]);
}

function binary(path: Buffer): string {
  return path.toString('latin1');
}

function skipped(path: Buffer, reason: string, origin: string, fix: string): DistillDocument {
  const source = readablePath(path);
  const doc = new DistillDocument({ id: source, source, text: '' });
  doc.skip(reason, origin, { fix });
  return doc;
}

function failedEntry(path: Buffer, reason: string, origin: string, code: string, fix: string): DistillDocument {
  const source = readablePath(path);
  const doc = new DistillDocument({ id: source, source, text: '' });
  doc.fail(reason, origin, { code, fix });
  return doc;
}

function fixFor(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM') return 'check its permissions: distill must be able to read and enter it (chmod u+rx), or leave it out';
  if (code === 'ENAMETOOLONG') return 'the path is longer than the system allows: move or rename folders to shorten it';
  return 'check that it exists and can be read, or leave it out';
}

function kindOf(entry: { isFIFO(): boolean; isSocket(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean }): string {
  if (entry.isFIFO()) return 'a FIFO';
  if (entry.isSocket()) return 'a socket';
  if (entry.isCharacterDevice()) return 'a character device';
  if (entry.isBlockDevice()) return 'a block device';
  return 'an entry of unknown type';
}

function isInside(root: Buffer, target: Buffer): boolean {
  const rel = relative(binary(root), binary(target));
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}
