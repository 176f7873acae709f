/** Time behind an interface, so tests of the rate-limit window can run on virtual time. */
export interface Clock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep(ms, signal) {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      if (ms <= 0) return resolve();
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal!.reason);
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  },
};

/**
 * A clock whose `sleep` jumps time forward at once. Exact for callers that
 * sleep one at a time (the limiter serialises its waiters).
 */
export class VirtualClock implements Clock {
  #time: number;
  constructor(start = 0) {
    this.#time = start;
  }
  now(): number {
    return this.#time;
  }
  async sleep(ms: number): Promise<void> {
    if (ms > 0) this.#time += ms;
  }
  advance(ms: number): void {
    this.#time += ms;
  }
}
