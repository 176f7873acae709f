import { execFile, spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DistillRecord } from '../src/record.js';

/**
 * The built CLI over fixtures/hostile/make.mjs's folder: every input that
 * once gave no record, lost its text or gave the wrong error, in one run.
 */
const root = new URL('..', import.meta.url).pathname;
const bin = join(root, 'bin/distill.js');
const run = promisify(execFile);

interface Manifest {
  root: string;
  inputs: { name: string; status: DistillRecord['status']; reason: string }[];
}

function cli(args: string[]) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: root, env: { PATH: process.env.PATH, HOME: process.env.HOME } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end();
  });
}

describe('hostile inputs', () => {
  let manifest: Manifest;
  let result: Awaited<ReturnType<typeof cli>>;
  let records: Map<string, DistillRecord>;

  beforeAll(async () => {
    const dir = await mkdtemp(join(tmpdir(), 'distill-hostile-'));
    manifest = JSON.parse((await run(process.execPath, [join(root, 'fixtures/hostile/make.mjs'), dir])).stdout) as Manifest;
    result = await cli(['run', manifest.root, '--task', 'What figures are given?', '--dry-run', '--stages', 'regex,sections', '--threads', '1']);
    const lines = result.stdout.split('\n').filter(Boolean);
    records = new Map(lines.map((line) => JSON.parse(line) as DistillRecord).map((record) => [relative(manifest.root, record.source), record]));
    expect(records.size, 'no input has two records').toBe(lines.length);
  });

  it('gives every input one record, symlinks and unreadable folders included', () => {
    expect([...records.keys()].sort()).toEqual(manifest.inputs.map((input) => input.name).sort());
  });

  it('gives each input the status and reason it should have', () => {
    for (const input of manifest.inputs) {
      const record = records.get(input.name)!;
      expect(record.status, input.name).toBe(input.status);
      if (input.reason) expect(record.error, input.name).toMatch(new RegExp(input.reason));
      if (input.status !== 'ok') expect(record.fix, input.name).toBeTruthy();
    }
  });

  it('keeps the text that used to be lost, with a warning where the input is damaged', () => {
    const warnings = (name: string) => records.get(name)!.messages.filter((message) => !message.fatal).map((message) => message.origin);
    expect(warnings('mail/q3-figures.eml')).toContain('load:mime-malformed');
    expect(warnings('mail/invoice-5000-parts.eml')).toContain('load:mime-parts');
    expect(warnings('café-menu.txt')).toContain('load:file-name');
    expect(records.get('mail/q3-figures.eml')!.distilled).toContain('Revenue was $4.2M in Q3, up 8%.');
    expect(records.get('notes/minutes-utf16le.txt')!.distilled).toContain('€4,200');
    expect(records.get('notes/minutes-utf16be-no-bom.txt')!.distilled).toContain('€9,900');
    expect(records.get('README')!.distilled).toContain('Board papers, 2024.');
  });

  it('finishes the run and exits 1, as some inputs failed', () => {
    expect(result.stderr).not.toMatch(/unexpected error/);
    expect(result.stderr).toMatch(new RegExp(`${manifest.inputs.length} documents: \\d+ ok, \\d+ skipped, \\d+ error`));
    expect(result.code).toBe(1);
  });
});
