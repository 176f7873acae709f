import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectNotices } from './helpers/services-setup.js';
import { findExecutable, service, type ServiceName } from './helpers/services.js';

let folder: string;
let withRedis: string;
let empty: string;

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'distill-services-'));
  withRedis = join(folder, 'with-redis');
  empty = join(folder, 'empty');
  await mkdir(withRedis);
  await mkdir(empty);
  await writeFile(join(withRedis, 'redis-server'), '#!/bin/sh\n');
  await chmod(join(withRedis, 'redis-server'), 0o755);
});

afterAll(async () => {
  await rm(folder, { recursive: true, force: true });
});

function recorder() {
  const notices: Array<[ServiceName, string]> = [];
  return { notices, notice: (name: ServiceName, text: string) => void notices.push([name, text]) };
}

describe('findExecutable', () => {
  it('finds an executable file in a PATH folder', () => {
    expect(findExecutable('redis-server', [empty, withRedis].join(delimiter))).toBe(join(withRedis, 'redis-server'));
  });

  it('takes the first match in PATH order', async () => {
    const other = join(folder, 'other');
    await mkdir(other);
    await writeFile(join(other, 'redis-server'), '#!/bin/sh\n');
    await chmod(join(other, 'redis-server'), 0o755);
    expect(findExecutable('redis-server', [other, withRedis].join(delimiter))).toBe(join(other, 'redis-server'));
  });

  it('ignores a file that is not executable', async () => {
    const plain = join(folder, 'plain');
    await mkdir(plain);
    await writeFile(join(plain, 'chromium'), '');
    await chmod(join(plain, 'chromium'), 0o644);
    expect(findExecutable('chromium', plain)).toBeUndefined();
  });

  it('ignores a folder with the name', async () => {
    const parent = join(folder, 'parent');
    await mkdir(join(parent, 'chromium'), { recursive: true });
    expect(findExecutable('chromium', parent)).toBeUndefined();
  });

  it.each([
    ['unset', undefined],
    ['empty', ''],
    ['relative entries only', `.${delimiter}bin`],
  ])('finds nothing when PATH is %s', (_, pathVariable) => {
    expect(findExecutable('redis-server', pathVariable)).toBeUndefined();
  });
});

describe('service', () => {
  it('returns the path of an installed service and leaves no notice', () => {
    const { notices, notice } = recorder();
    expect(service('redis-server', { env: { PATH: withRedis, DISTILL_REQUIRE_SERVICES: '1' }, notice })).toEqual({ name: 'redis-server', path: join(withRedis, 'redis-server') });
    expect(notices).toEqual([]);
  });

  it.each([
    ['unset', undefined],
    ['0', '0'],
  ])('a missing service has no path and leaves a notice with the install command (DISTILL_REQUIRE_SERVICES %s)', (_, required) => {
    const { notices, notice } = recorder();
    const env = required === undefined ? { PATH: empty } : { PATH: empty, DISTILL_REQUIRE_SERVICES: required };
    expect(service('redis-server', { env, notice })).toEqual({ name: 'redis-server', path: undefined });
    expect(service('chromium', { env, notice })).toEqual({ name: 'chromium', path: undefined });
    expect(notices).toMatchInlineSnapshot(`
      [
        [
          "redis-server",
          "skipped: redis-server is not installed; install it with: apt-get install redis-server",
        ],
        [
          "chromium",
          "skipped: chromium is not installed; install it with: apt-get install chromium",
        ],
      ]
    `);
  });

  it('throws for a missing service when DISTILL_REQUIRE_SERVICES=1, and leaves no notice', () => {
    const { notices, notice } = recorder();
    expect(() => service('redis-server', { env: { PATH: empty, DISTILL_REQUIRE_SERVICES: '1' }, notice })).toThrowErrorMatchingInlineSnapshot(
      `[Error: redis-server is not installed, and DISTILL_REQUIRE_SERVICES=1 requires it; install it with: apt-get install redis-server]`,
    );
    expect(notices).toEqual([]);
  });
});

describe('collectNotices', () => {
  it('reads one notice per service, sorted by service name', async () => {
    const notices = join(folder, 'notices');
    await mkdir(notices);
    await writeFile(join(notices, 'redis-server'), 'skipped: redis-server is not installed\n');
    await writeFile(join(notices, 'chromium'), 'skipped: chromium is not installed\n');
    expect(collectNotices(notices)).toEqual(['skipped: chromium is not installed', 'skipped: redis-server is not installed']);
  });
});
