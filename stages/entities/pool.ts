import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { DistillError } from '../../src/errors.js';
import { siblingWorker, startWorker } from '../../src/worker-thread.js';
import type { EntityType, FoundEntity } from './extract.js';
import type { Span } from './patterns.js';

/**
 * Where entity extraction runs. compromise is CPU-bound at ~0.1 MB/s per
 * core, so the default backend spreads jobs over worker threads; the
 * in-process backend is the single-thread baseline and the fallback for
 * `workers: 0`. Tests and embedders can inject their own.
 */
export interface EntityBackend {
  /** Entities of each section of the job, in the job's order. */
  extract(job: ExtractJob): Promise<FoundEntity[][]>;
  close(): Promise<void>;
}

export interface ExtractJob {
  /** `ranges`: the only parts of a section the tagger reads (see `ExtractTextOptions.ranges`). */
  sections: { text: string; tagger: boolean; ranges?: Span[] }[];
  types: EntityType[];
  referenceDate?: string;
}

export type WorkerReply = { id: number; ok: true; results: FoundEntity[][] } | { id: number; ok: false; error: string };

/** A worker thread died (out of memory, native crash) or could not start; the job it held fails, the pool goes on. */
export class EntityWorkerError extends DistillError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('E_ENTITY_WORKER', message, {
      ...options,
      fix: 'Raise `workerMemoryMb`, lower `maxChars`, or run with `workers: 0` to extract in the main thread.',
    });
  }
}

/** Extraction threw inside a worker; the worker itself is fine. */
export class EntityExtractionError extends DistillError {
  constructor(message: string) {
    super('E_ENTITY_EXTRACT', message);
  }
}

/** The default worker count: one per core the process may use. */
export function defaultWorkerCount(): number {
  return Math.max(1, availableParallelism());
}

/** Runs extraction in the calling thread, loading compromise on first use. */
export class InProcessBackend implements EntityBackend {
  #core: Promise<typeof import('./extract.js')> | undefined;

  async extract(job: ExtractJob): Promise<FoundEntity[][]> {
    this.#core ??= import('./extract.js');
    const { extractJob } = await this.#core;
    return extractJob(job);
  }

  async close(): Promise<void> {}
}

export interface WorkerPoolOptions {
  size: number;
  /** V8 old-generation limit per worker, in MB; a worker over it dies and fails only its job. */
  memoryMb?: number;
  /** The worker script; defaults to `worker.ts`/`worker.js` next to this module. */
  workerUrl?: URL;
}

interface Task {
  id: number;
  job: ExtractJob;
  resolve(results: FoundEntity[][]): void;
  reject(error: Error): void;
}

interface Slot {
  worker: Worker;
  task: Task | undefined;
  /** The thread's `error` event comes before `exit`; kept to explain the exit. */
  error: Error | undefined;
}

/**
 * A small pool of worker threads, created lazily on the first job and
 * ended by `close()`. Each worker holds one job at a time, so a crash fails
 * exactly the job (and so the document) it was working on; the thread is
 * replaced for the jobs still queued.
 */
export class WorkerPool implements EntityBackend {
  readonly size: number;
  #memoryMb: number | undefined;
  #workerUrl: URL;
  #slots = new Set<Slot>();
  #queue: Task[] = [];
  #nextId = 0;
  #closed = false;

  constructor(options: WorkerPoolOptions) {
    this.size = options.size;
    this.#memoryMb = options.memoryMb;
    this.#workerUrl = options.workerUrl ?? siblingWorker(import.meta.url, 'worker');
  }

  extract(job: ExtractJob): Promise<FoundEntity[][]> {
    if (this.#closed) return Promise.reject(new EntityWorkerError('the entity worker pool is closed'));
    return new Promise((resolve, reject) => {
      this.#queue.push({ id: this.#nextId++, job, resolve, reject });
      this.#drain();
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const task of this.#queue.splice(0)) task.reject(new EntityWorkerError('the entity worker pool was closed before this job ran'));
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
      slot.worker.postMessage({ id: task.id, job: task.job });
    }
  }

  #spawn(): Slot {
    const worker = startWorker(this.#workerUrl, this.#memoryMb === undefined ? {} : { resourceLimits: { maxOldGenerationSizeMb: this.#memoryMb } });
    const slot: Slot = { worker, task: undefined, error: undefined };
    this.#slots.add(slot);
    worker.on('message', (reply: WorkerReply) => {
      const task = slot.task;
      if (!task || task.id !== reply.id) return;
      slot.task = undefined;
      // An idle worker must not keep the process alive if a caller forgets `close()`.
      worker.unref();
      if (reply.ok) task.resolve(reply.results);
      else task.reject(new EntityExtractionError(`entity extraction failed: ${reply.error}`));
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
        const reason = slot.error ? `${slot.error.message}${'code' in slot.error && slot.error.code ? ` (${String(slot.error.code)})` : ''}` : `exit code ${code}`;
        task.reject(new EntityWorkerError(`entity worker thread died while extracting: ${reason}`, { cause: slot.error }));
      }
      if (!this.#closed) this.#drain();
    });
    return slot;
  }
}
