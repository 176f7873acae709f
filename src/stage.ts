import type { DistillDocument } from './document.js';
import type { Tokenizer } from './tokens.js';

/** What every stage may read about the run, besides the document itself. */
export interface StageContext {
  /** The user's instruction for GPT-4o; also the query that section selection scores against. */
  task: string;
  /** Token budget of the distilled text, when the user gave one. */
  budget?: number;
  /** The chat model the distilled text is for (pricing, the LLM stage). */
  model: string;
  tokenizer: Tokenizer;
  signal?: AbortSignal;
}

/**
 * A stage transforms one document (after unified/trough): mutate it or
 * return a new one; returning `undefined` means "done in place". A stage
 * never throws for a bad document: it calls `doc.fail(...)`. Anything it
 * throws anyway is caught and wrapped by the runner.
 */
export interface Stage {
  readonly name: string;
  run(doc: DistillDocument, context: StageContext): void | DistillDocument | Promise<void | DistillDocument>;
  /**
   * The stage's output for a document depends on the documents it saw before
   * (the sections stage's run-wide dedupe). A pipeline then runs it over one
   * document at a time, in input order, in the calling thread, so that the
   * output is the same whatever the thread count, concurrency or timing.
   * @default false
   */
  readonly ordered?: boolean;
  /** Load what the stage needs (a model) ahead of the first document, so a failure shows once, up front. */
  load?(): Promise<unknown>;
  /** Release workers, models, connections. */
  close?(): Promise<void>;
}

export type StageFactory<Options> = (options?: Options) => Stage;
