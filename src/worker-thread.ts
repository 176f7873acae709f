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

/** What each side of a pool's messages carries: the id that pairs a reply with its request. */
export interface Envelope {
  id: number;
}

export interface ThreadPoolOptions {
  size: number;
  workerUrl: URL;
  workerOptions?: Pick<WorkerOptions, 'resourceLimits' | 'workerData'>;
  /** The error for a request when its thread dies (out of memory, native crash) or cannot start. */
  died: (reason: string, cause: Error | undefined) => Error;
  /** The error for a request made after `close()`, or still queued then. */
  closed: (queued: boolean) => Error;
}

interface Task<Request, Reply> {
  request: Request;
  resolve(reply: Reply): void;
  reject(error: Error): void;
}

interface Slot<Request, Reply> {
  worker: Worker;
  task: Task<Request, Reply> | undefined;
  /** The thread's `error` event comes before `exit`; kept to explain the exit. */
  error: Error | undefined;
}

/**
 * A small pool of worker threads, created lazily and ended by `close()`.
 * Each thread holds one request at a time, so a crash fails exactly the
 * request it was working on; the thread is replaced for those still queued.
 */
export class ThreadPool<Request extends Envelope, Reply extends Envelope> {
  readonly size: number;
  readonly #options: ThreadPoolOptions;
  #slots = new Set<Slot<Request, Reply>>();
  #queue: Task<Request, Reply>[] = [];
  #nextId = 0;
  #closed = false;

  constructor(options: ThreadPoolOptions) {
    this.size = options.size;
    this.#options = options;
  }

  /** Send a request (built around a fresh id) to the next free thread; resolves with its reply. */
  submit(build: (id: number) => Request): Promise<Reply> {
    if (this.#closed) return Promise.reject(this.#options.closed(false));
    return new Promise((resolve, reject) => {
      this.#queue.push({ request: build(this.#nextId++), resolve, reject });
      this.#drain();
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const task of this.#queue.splice(0)) task.reject(this.#options.closed(true));
    const slots = [...this.#slots];
    this.#slots.clear();
    await Promise.all(slots.map((slot) => slot.worker.terminate()));
  }

  #drain(): void {
    while (this.#queue.length > 0) {
      let slot = [...this.#slots].find((candidate) => candidate.task === undefined);
      if (!slot) {
        if (this.#slots.size >= this.size) return;
        slot = this.#spawn();
      }
      const task = this.#queue.shift()!;
      slot.task = task;
      slot.worker.ref();
      slot.worker.postMessage(task.request);
    }
  }

  #spawn(): Slot<Request, Reply> {
    const worker = startWorker(this.#options.workerUrl, this.#options.workerOptions);
    const slot: Slot<Request, Reply> = { worker, task: undefined, error: undefined };
    this.#slots.add(slot);
    worker.on('message', (reply: Reply) => {
      const task = slot.task;
      if (!task || task.request.id !== reply.id) return;
      slot.task = undefined;
      // An idle thread must not keep the process alive if a caller forgets `close()`.
      worker.unref();
      task.resolve(reply);
      this.#drain();
    });
    worker.on('error', (error) => {
      slot.error = error;
    });
    worker.on('exit', (code) => {
      this.#slots.delete(slot);
      const task = slot.task;
      slot.task = undefined;
      if (task) {
        const error = slot.error;
        const reason = error ? `${error.message}${'code' in error && error.code ? ` (${String(error.code)})` : ''}` : `exit code ${code}`;
        task.reject(this.#options.died(reason, error));
      }
      if (!this.#closed) this.#drain();
    });
    return slot;
  }
}
