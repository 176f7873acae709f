/**
 * System services that some tests need (a real `redis-server`, later a real
 * `chromium`). A test file asks for one by name at collection time:
 *
 * @example
 * const redisServer = service('redis-server');
 * describe.skipIf(!redisServer.path)('with a real Redis', () => { ... });
 *
 * A missing service skips only the tests that asked for it, and the run ends
 * with one notice per missing service that says how to install it. With
 * `DISTILL_REQUIRE_SERVICES=1` (as `.ci/run` sets) a missing service throws
 * instead, so the test file fails: CI must run these tests, not skip them.
 */
import { statSync, writeFileSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { inject } from 'vitest';

/** Each known service: the executable looked up on `PATH`, and how to install it on Debian. */
export const services = {
  'redis-server': { binary: 'redis-server', install: 'apt-get install redis-server' },
  chromium: { binary: 'chromium', install: 'apt-get install chromium' },
} as const satisfies Record<string, { binary: string; install: string }>;

export type ServiceName = keyof typeof services;

export interface Service {
  name: ServiceName;
  /** Absolute path of the executable, or `undefined` when it is not installed. */
  path: string | undefined;
}

export interface ServiceOptions {
  /** Where `PATH` and `DISTILL_REQUIRE_SERVICES` are read. @default process.env */
  env?: NodeJS.ProcessEnv;
  /** Receives the skip notice. @default recording it for the run's end, see `services-setup.ts` */
  notice?: (name: ServiceName, text: string) => void;
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** Folder where test files leave one notice file per missing service. */
    serviceNotices: string;
  }
}

/** The first executable regular file called `binary` in a `PATH` string. */
export function findExecutable(binary: string, pathVariable: string | undefined): string | undefined {
  for (const folder of (pathVariable ?? '').split(delimiter)) {
    // An empty or relative entry would make the answer depend on the working directory.
    if (!folder || !isAbsolute(folder)) continue;
    const candidate = join(folder, binary);
    try {
      // S_IXUSR | S_IXGRP | S_IXOTH: executable by someone; tests run as whoever owns the checkout.
      const stats = statSync(candidate);
      if (stats.isFile() && (stats.mode & 0o111) !== 0) return candidate;
    } catch {
      // Not in this folder.
    }
  }
  return undefined;
}

export function skipNotice(name: ServiceName): string {
  return `skipped: ${name} is not installed; install it with: ${services[name].install}`;
}

export function requiredMessage(name: ServiceName): string {
  return `${name} is not installed, and DISTILL_REQUIRE_SERVICES=1 requires it; install it with: ${services[name].install}`;
}

const noticed = new Set<ServiceName>();

function recordNotice(name: ServiceName, text: string): void {
  if (noticed.has(name)) return;
  noticed.add(name);
  let folder: string | undefined;
  try {
    folder = inject('serviceNotices');
  } catch {
    folder = undefined;
  }
  // One file per service, so the run prints each notice once however many test files skipped.
  if (folder) writeFileSync(join(folder, name), `${text}\n`);
  else process.stderr.write(`${text}\n`);
}

/**
 * Look a service up on `PATH`. Missing: returns `path: undefined` and leaves a
 * skip notice, or, with `DISTILL_REQUIRE_SERVICES=1`, throws.
 */
export function service(name: ServiceName, options: ServiceOptions = {}): Service {
  const env = options.env ?? process.env;
  const path = findExecutable(services[name].binary, env.PATH);
  if (path) return { name, path };
  if (env.DISTILL_REQUIRE_SERVICES === '1') throw new Error(requiredMessage(name));
  (options.notice ?? recordNotice)(name, skipNotice(name));
  return { name, path: undefined };
}
