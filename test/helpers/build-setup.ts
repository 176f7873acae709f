/**
 * vitest `globalSetup`: builds `dist/` once, before any test file runs.
 * The CLI tests spawn `bin/distill.js`, which imports `dist/`, and the
 * package test packs it; a build inside a test file (or `npm pack` running
 * `prepare`) would rewrite `dist/` while other files are importing it. A
 * `dist/` newer than every source file is kept, so a targeted
 * `npx vitest run` does not pay for a build it does not need.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;
// Outside dist/, which is packed.
const stamp = join(root, 'node_modules/.cache/distill/built');

/** The newest modification time among the files the build reads, and their folders (a deleted file changes its folder's). */
function newestSource(): number {
  let newest = 0;
  for (const folder of ['src', 'stages']) {
    newest = Math.max(newest, statSync(join(root, folder)).mtimeMs);
    for (const entry of readdirSync(join(root, folder), { recursive: true, withFileTypes: true })) {
      newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
    }
  }
  for (const file of ['tsconfig.json', 'tsconfig.build.json', 'package.json']) newest = Math.max(newest, statSync(join(root, file)).mtimeMs);
  return newest;
}

export default function setup(): void {
  if (existsSync(stamp) && statSync(stamp).mtimeMs > newestSource()) return;
  execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
  mkdirSync(join(stamp, '..'), { recursive: true });
  writeFileSync(stamp, `${new Date().toISOString()}\n`);
}
