/**
 * vitest `globalSetup`: gives test files a folder for skip notices (see
 * `services.ts`), and prints them once each at the end of the run, after the
 * summary, where they are seen.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';

/** The notices test files left in `folder`, one per service, sorted by service name. */
export function collectNotices(folder: string): string[] {
  return readdirSync(folder)
    .sort()
    .map((file) => readFileSync(join(folder, file), 'utf8').trim())
    .filter(Boolean);
}

export default function setup(project: TestProject): () => void {
  const folder = mkdtempSync(join(tmpdir(), 'distill-service-notices-'));
  project.provide('serviceNotices', folder);
  return () => {
    for (const notice of collectNotices(folder)) process.stderr.write(`${notice}\n`);
    rmSync(folder, { recursive: true, force: true });
  };
}
