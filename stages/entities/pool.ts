import { availableParallelism } from 'node:os';
import { DistillError } from '../../src/errors.js';
import { siblingWorker, ThreadPool } from '../../src/worker-thread.js';
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
  /** Load the tagger now rather than on the first job (optional). */
  load?(): Promise<void>;
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

  /** Import compromise (both copies) and parse one sentence, which unpacks its lexicon: about a second, paid before the first document. */
  async load(): Promise<void> {
    await this.extract({ sections: [{ text: 'Congress paid $4 billion to John Smith on 4 July 1901.', tagger: true }], types: ['money', 'person', 'date'] });
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

/**
 * Entity extraction on a small pool of worker threads (see `ThreadPool`):
 * a crash fails exactly the job, and so the document, it was working on.
 */
export class WorkerPool implements EntityBackend {
  readonly size: number;
  #pool: ThreadPool<{ id: number; job: ExtractJob }, WorkerReply>;

  constructor(options: WorkerPoolOptions) {
    this.size = options.size;
    this.#pool = new ThreadPool({
      size: options.size,
      workerUrl: options.workerUrl ?? siblingWorker(import.meta.url, 'worker'),
      workerOptions: options.memoryMb === undefined ? {} : { resourceLimits: { maxOldGenerationSizeMb: options.memoryMb } },
      died: (reason, cause) => new EntityWorkerError(`entity worker thread died while extracting: ${reason}`, { cause }),
      closed: (queued) => new EntityWorkerError(queued ? 'the entity worker pool was closed before this job ran' : 'the entity worker pool is closed'),
    });
  }

  async extract(job: ExtractJob): Promise<FoundEntity[][]> {
    const reply = await this.#pool.submit((id) => ({ id, job }));
    if (!reply.ok) throw new EntityExtractionError(`entity extraction failed: ${reply.error}`);
    return reply.results;
  }

  close(): Promise<void> {
    return this.#pool.close();
  }
}
