import { availableParallelism } from 'node:os';
import type { StageOptionsMap } from '../stages/index.js';
import type { LocalStageName } from '../stages/names.js';
import { DistillDocument, type DocumentState } from './document.js';
import { DistillError } from './errors.js';
import type { StageEvent } from './runner.js';
import { siblingWorker, ThreadPool } from './worker-thread.js';

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

export class LocalThreads {
  readonly size: number;
  #pool: ThreadPool<ThreadRequest, ThreadReply>;

  constructor(options: LocalThreadsOptions) {
    this.size = options.size;
    const setup: LocalThreadsSetup = { stages: options.stages, options: options.options, context: options.context };
    this.#pool = new ThreadPool({
      size: options.size,
      workerUrl: siblingWorker(import.meta.url, 'local-thread'),
      workerOptions: { workerData: setup },
      died: (reason, cause) => new LocalThreadError(`the thread running the local stages died: ${reason}`, { cause }),
      closed: (queued) => new LocalThreadError(queued ? 'the pipeline was closed before this document ran' : 'the pipeline is closed'),
    });
  }

  /**
   * Run the local stages over `doc` on a thread; `onStage` hears each stage
   * when the document is back. Never rejects: a thread that dies fails the
   * document it held, with the reason.
   */
  async run(doc: DistillDocument, onStage?: (event: StageEvent) => void): Promise<DistillDocument> {
    let reply: Extract<ThreadReply, { ok: true }>;
    try {
      reply = await this.#request((id) => ({ id, type: 'run', state: doc.toState() }));
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
    // Before any document, one request per thread lands on each thread.
    await Promise.all(Array.from({ length: this.size }, () => this.#request((id) => ({ id, type: 'load' }))));
  }

  close(): Promise<void> {
    return this.#pool.close();
  }

  async #request(build: (id: number) => ThreadRequest): Promise<Extract<ThreadReply, { ok: true }>> {
    const reply = await this.#pool.submit(build);
    if (!reply.ok) throw new DistillError(reply.code ?? 'E_LOCAL_STAGE', reply.error, reply.fix ? { fix: reply.fix } : {});
    return reply;
  }
}
