import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * Starting a worker thread from either form of this package: the built .js
 * file needs nothing; from TypeScript source (vitest, tsx) the worker is a
 * .ts file, and Node 20 ignores `--import` loaders given in a worker's
 * `execArgv` for the worker's entry, so the thread first registers tsx's
 * loader itself, then imports the worker.
 */
export function startWorker(sourceUrl: URL, options: Pick<WorkerOptions, 'resourceLimits' | 'workerData'> = {}): Worker {
  const settings: WorkerOptions = {
    // Flags that only make sense for the main script (`--input-type`, `--eval`) make a worker refuse to start.
    execArgv: process.execArgv.filter((argument) => !/^(?:--input-type|--eval|-e|--print|-p)(?:=|$)/.test(argument)),
    ...options,
  };
  return sourceUrl.pathname.endsWith('.ts') ? new Worker(tsxBootstrap(sourceUrl), { eval: true, ...settings }) : new Worker(sourceUrl, settings);
}

/** The worker module next to `here` (an `import.meta.url`): `name.ts` from source, `name.js` when built. */
export function siblingWorker(here: string, name: string): URL {
  return new URL(`./${name}${here.endsWith('.ts') ? '.ts' : '.js'}`, here);
}

let tsxApi: string | undefined;

function tsxBootstrap(workerUrl: URL): string {
  const require = createRequire(import.meta.url);
  tsxApi ??= pathToFileURL(join(dirname(require.resolve('tsx/package.json')), 'dist/esm/api/index.mjs')).href;
  return [
    `import(${JSON.stringify(tsxApi)})`,
    `.then(({ register }) => { register(); return import(${JSON.stringify(workerUrl.href)}); })`,
    `.catch((error) => { console.error(error); process.exit(1); });`,
  ].join('');
}
