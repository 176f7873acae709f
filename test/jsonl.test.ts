import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readJsonlInputs, type JsonlOptions } from '../src/cli.js';
import { DistillDocument } from '../src/document.js';

let folder: string;
let inside: string;
let secret: string;

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'distill-jsonl-'));
  inside = join(folder, 'inside');
  await mkdir(join(inside, 'sub'), { recursive: true });
  await mkdir(join(folder, 'outside'));
  await writeFile(join(inside, 'sub/a.txt'), 'inside text');
  secret = join(folder, 'outside/secret.txt');
  await writeFile(secret, 'a secret');
  await symlink(secret, join(inside, 'link.txt'));
});
afterAll(async () => {
  await rm(folder, { recursive: true, force: true });
});

async function read(paths: string[], options: JsonlOptions) {
  const stream = Readable.from([paths.map((path, index) => JSON.stringify({ id: `l${index}`, path })).join('\n')]);
  const out = [];
  for await (const input of readJsonlInputs(stream, options)) out.push(input);
  return out;
}

describe('readJsonlInputs', () => {
  it.each([
    ['an absolute path outside the root', () => secret],
    ['a ../ path out of the root', () => '../outside/secret.txt'],
    ['a symlink under the root that points out of it', () => 'link.txt'],
    ['/etc/passwd', () => '/etc/passwd'],
  ])('refuses %s with an error record that names --allow-any-path', async (_, path) => {
    const [input] = await read([path()], { root: inside });
    expect(input).toBeInstanceOf(DistillDocument);
    const doc = input as DistillDocument;
    expect(doc.status).toBe('error');
    expect(doc.messages[0]).toMatchObject({ origin: 'load:jsonl-path', code: 'E_PATH_OUTSIDE_ROOT', fatal: true });
    expect(doc.messages[0]!.reason).toContain('outside --root');
    expect(doc.messages[0]!.fix).toContain('--allow-any-path');
    expect(doc.original).toBe('');
  });

  it('reads a path under the root, taken from the root', async () => {
    expect(await read(['sub/a.txt', join(inside, 'sub/a.txt')], { root: inside })).toEqual([
      { id: 'l0', path: join(inside, 'sub/a.txt') },
      { id: 'l1', path: join(inside, 'sub/a.txt') },
    ]);
  });

  it('leaves a missing file under the root to the loader, which says it is missing', async () => {
    expect(await read(['sub/none.txt'], { root: inside })).toEqual([{ id: 'l0', path: join(inside, 'sub/none.txt') }]);
  });

  it('defaults the root to the current folder', async () => {
    const [input] = await read([secret], {});
    expect((input as DistillDocument).messages[0]).toMatchObject({ code: 'E_PATH_OUTSIDE_ROOT' });
  });

  it('reads any path with allowAnyPath', async () => {
    expect(await read([secret, '../outside/secret.txt'], { root: inside, allowAnyPath: true })).toEqual([
      { id: 'l0', path: secret },
      { id: 'l1', path: join(inside, '../outside/secret.txt') },
    ]);
  });
});
