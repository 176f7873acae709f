import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import type { localStageNames } from '../stages/names.js';
import type { StageOptionsMap } from '../stages/index.js';

type LocalStageName = (typeof localStageNames)[number];
import { DistillDocument, type DocumentState } from './document.js';
import { DistillError } from './errors.js';
import type { StageEvent } from './runner.js';
import { siblingWorker, startWorker } from './worker-thread.js';

/**
 * The local stages on worker threads, a whole document per thread at a time.
 * The stages are CPU-bound JavaScript and in-process models (regex, the
 * compromise tagger, the ONNX classifier, sentence scoring) and a
 * document's stages run one after another, so one thread per core is how a
 * run uses the machine. Each thread builds its own stages from the same
 * options; documents cross as plain data (`DistillDocument.toState`).
 */

/** One thread per core the process may use, up to four: past that, each thread's models cost more memory than the rest of the run gains. */
export function defaultThreads(): number {
  return Math.max(1, Math.min(4, availableParallelism()));
}

/** What a thread needs to build the local stages: names, their options and the run's context, all structured-cloneable. */
export interface LocalThreadsSetup {
  stages: readonly LocalStageName[];
  options: { [Name in LocalStageName]?: StageOptionsMap[Name] };
  context: { task: string; budget?: number; model: string };
}

export interface LocalThreadsOptions extends LocalThreadsSetup {
  size: number;
}

/** A stage event from a thread: everything but the document, which comes back once, at the end. */
export type ThreadStageEvent = Omit<StageEvent, 'doc'>;

export type ThreadRequest = { id: number; type: 'run'; state: DocumentState } | { id: number; type: 'load' };

export type ThreadReply =
  | { id: number; ok: true; state?: DocumentState; events?: ThreadStageEvent[] }
  | { id: number; ok: false; error: string; code?: string; fix?: string };

/** A thread died (out of memory, native crash) or could not start; the document it held fails, the run goes on. */
export class LocalThreadError extends DistillError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('E_LOCAL_THREAD', message, { ...options, fix: 'run with `threads: 1` (--threads 1) to see the failure in the main thread' });
  }
}

interface Task {
  request: ThreadRequest;
  resolve(reply: Extract<ThreadReply, { ok: true }>): void;
  reject(error: Error): void;
}

interface Slot {
  worker: Worker;
  task: Task | undefined;
  error: Error | undefined;
}

export class LocalThreads {
  readonly size: number;
  readonly #setup: LocalThreadsSetup;
  readonly #workerUrl = siblingWorker(import.meta.url, 'local-thread');
  #slots = new Set<Slot>();
  #queue: Task[] = [];
  #nextId = 0;
  #closed = false;

  constructor(options: LocalThreadsOptions) {
    this.size = options.size;
    this.#setup = { stages: options.stages, options: options.options, context: options.context };
  }

  /**
   * Run the local stages over `doc` on a thread; `onStage` hears each stage
   * when the document is back. Never rejects: a thread that dies fails the
   * document it held, with the reason.
   */
  async run(doc: DistillDocument, onStage?: (event: StageEvent) => void): Promise<DistillDocument> {
    let reply: Extract<ThreadReply, { ok: true }>;
    try {
      reply = await this.#submit({ id: this.#nextId++, type: 'run', state: doc.toState() });
    } catch (error) {
      const known = error instanceof DistillError ? error : new LocalThreadError(error instanceof Error ? error.message : String(error), { cause: error });
      doc.fail(known.message, 'pipeline:thread', { code: known.code, ...(known.fix ? { fix: known.fix } : {}) });
      return doc;
    }
    const done = DistillDocument.fromState(reply.state!);
    for (const event of reply.events ?? []) onStage?.({ ...event, doc: done });
    return done;
  }

  /** Load every thread's stages (the classifier model) now, so a missing model fails once, before any document. */
  async load(): Promise<void> {
    while (this.#slots.size < this.size) this.#slots.add(this.#spawn());
    await Promise.all([...this.#slots].map(() => this.#submit({ id: this.#nextId++, type: 'load' })));
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const task of this.#queue.splice(0)) task.reject(new LocalThreadError('the pipeline was closed before this document ran'));
    const slots = [...this.#slots];
    this.#slots.clear();
    await Promise.all(slots.map((slot) => slot.worker.terminate()));
  }

  #submit(request: ThreadRequest): Promise<Extract<ThreadReply, { ok: true }>> {
    if (this.#closed) return Promise.reject(new LocalThreadError('the pipeline is closed'));
    return new Promise((resolve, reject) => {
      this.#queue.push({ request, resolve, reject });
      this.#drain();
    });
  }

  #drain(): void {
    while (this.#queue.length > 0) {
      let slot = [...this.#slots].find((candidate) => candidate.task === undefined);
      if (!slot) {
        if (this.#slots.size >= this.size) return;
        slot = this.#spawn();
        this.#slots.add(slot);
      }
      const task = this.#queue.shift()!;
      slot.task = task;
      slot.worker.ref();
      slot.worker.postMessage(task.request);
    }
  }

  #spawn(): Slot {
    const worker = startWorker(this.#workerUrl, { workerData: this.#setup });
    const slot: Slot = { worker, task: undefined, error: undefined };
    worker.on('message', (reply: ThreadReply) => {
      const task = slot.task;
      if (!task || task.request.id !== reply.id) return;
      slot.task = undefined;
      // An idle thread must not keep the process alive if a caller forgets `close()`.
      worker.unref();
      if (reply.ok) task.resolve(reply);
      else task.reject(new DistillError(reply.code ?? 'E_LOCAL_STAGE', reply.error, reply.fix ? { fix: reply.fix } : {}));
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
        const reason = slot.error ? slot.error.message : `exit code ${code}`;
        task.reject(new LocalThreadError(`the thread running the local stages died: ${reason}`, { cause: slot.error }));
      }
      if (!this.#closed) this.#drain();
    });
    return slot;
  }
}
