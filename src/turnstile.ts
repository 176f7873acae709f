/**
 * Turns taken in one order, served in that order: the work of a turn starts
 * once every earlier turn has ended, however the turns' callers interleave
 * before that. The pipeline takes a turn per document as it takes the
 * document from its input, so a stage whose output depends on the documents
 * before it (`Stage.ordered`) sees them in input order, whatever the thread
 * count, the concurrency or which document was quickest to get there.
 */
export interface Turn {
  /** Run `work` once every earlier turn has ended; this turn ends when it settles. */
  run<T>(work: () => Promise<T>): Promise<T>;
  /** End the turn without running anything (idempotent): a later turn must never wait on one that gave up. */
  end(): void;
}

export class Turnstile {
  #last: Promise<void> = Promise.resolve();

  /** Take the next turn. Call it synchronously, in the order the turns must be served. */
  take(): Turn {
    const previous = this.#last;
    let end!: () => void;
    this.#last = new Promise<void>((resolve) => {
      end = resolve;
    });
    return {
      async run(work) {
        await previous;
        try {
          return await work();
        } finally {
          end();
        }
      },
      end: () => end(),
    };
  }
}
