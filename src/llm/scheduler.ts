/**
 * Every attempt to the API passes here: a p-queue bounds how many are in
 * flight, the sliding-window limiter keeps each window under `rpm`/`tpm`
 * (retries count too), and the retry policy decides what to do with a
 * failure. A failure that would repeat for every request stops the run:
 * attempts not yet sent fail fast with a `RunStoppedError` naming it. A
 * server that stays silent (every attempt times out, nothing else comes
 * back) is such a failure too.
 */
import PQueue from 'p-queue';
import { invalidOption, type DistillError } from '../errors.js';
import type { Clock } from './clock.js';
import { AbortedError, RateLimitError, RunStoppedError, TimeoutError } from './errors.js';
import { readServerLimits, SlidingWindowLimiter, type LimiterOptions } from './limiter.js';
import { classifyFailure, formatSeconds, RetryPolicy, type RetryOptions } from './retry.js';

export interface SchedulerOptions extends LimiterOptions, RetryOptions {
  /** Requests in flight at once. @default 8 */
  concurrency?: number;
  /**
   * The per-attempt timeout the client enforces, for messages and the
   * silence rule: when an attempt times out and the server has answered no
   * request for as long as one document's every attempt takes (`timeoutMs` ×
   * (1 + `maxTimeoutRetries`)), the run stops sending. A hung server then
   * costs about one document's attempts, not every document's.
   * @default 60000
   */
  timeoutMs?: number;
}

/** What the run is waiting on right now, for a progress line. */
export interface SchedulerActivity {
  /** Attempts on the wire. */
  inFlight: number;
  /** Age of the oldest attempt on the wire, in milliseconds; 0 when none is. */
  oldestMs: number;
}

/** One attempt: the SDK call, returning its value and the response headers. */
export type Attempt<Value> = (signal: AbortSignal | undefined) => Promise<{ value: Value; headers?: Headers }>;

export interface Sent<Value> {
  value: Value;
  /** Attempts made, the successful one included. */
  attempts: number;
}

/** Thrown by `send`: the final error, plus how many attempts it took. */
export class SendFailure extends Error {
  constructor(
    readonly error: DistillError,
    readonly attempts: number,
  ) {
    super(error.message, { cause: error });
  }
}

export interface SchedulerStats {
  attempts: number;
  retries: number;
  /** Retries by what triggered them: `E_LLM_RATE_LIMIT`, `E_LLM_SERVER`, `E_LLM_CONNECTION`, `E_LLM_TIMEOUT`. */
  retriesByCode: Record<string, number>;
  waitedMs: number;
  pauses: number;
}

export class RequestScheduler {
  readonly limiter: SlidingWindowLimiter;
  readonly policy: RetryPolicy;
  readonly clock: Clock;
  readonly timeoutMs: number;
  readonly #queue: PQueue;
  /** Start times of the attempts on the wire. */
  readonly #onWire = new Set<{ startedAt: number }>();
  /** Since when attempts have been on the wire with nothing back from the server (an answer or an HTTP error). */
  #silentSince: number | undefined;
  /** Sends under way, backoff included. */
  #sending = 0;
  #stopped: DistillError | undefined;
  #attempts = 0;
  #retries = 0;
  #retriesByCode: Record<string, number> = {};

  constructor(options: SchedulerOptions = {}) {
    const concurrency = options.concurrency ?? 8;
    if (!Number.isInteger(concurrency) || concurrency < 1) throw invalidOption('concurrency', 'a positive integer', options.concurrency);
    this.limiter = new SlidingWindowLimiter(options);
    this.policy = new RetryPolicy(options);
    this.clock = this.limiter.clock;
    this.timeoutMs = options.timeoutMs ?? 60_000;
    if (!(this.timeoutMs > 0)) throw invalidOption('timeoutMs', 'a positive number', options.timeoutMs);
    this.#queue = new PQueue({ concurrency });
  }

  activity(): SchedulerActivity {
    const now = this.clock.now();
    let oldest = now;
    for (const attempt of this.#onWire) oldest = Math.min(oldest, attempt.startedAt);
    return { inFlight: this.#onWire.size, oldestMs: now - oldest };
  }

  /** The failure that stopped the run, if one did. */
  get stopped(): DistillError | undefined {
    return this.#stopped;
  }

  stop(reason: DistillError): void {
    this.#stopped ??= reason;
  }

  stats(): SchedulerStats {
    return {
      attempts: this.#attempts,
      retries: this.#retries,
      retriesByCode: { ...this.#retriesByCode },
      waitedMs: this.limiter.waitedMs,
      pauses: this.limiter.pauses,
    };
  }

  /** Send one request of `tokens` (prompt + max_tokens), retrying by policy. */
  async send<Value>(tokens: number, attempt: Attempt<Value>, signal?: AbortSignal): Promise<Sent<Value>> {
    this.#sending += 1;
    try {
      return await this.#send(tokens, attempt, signal);
    } finally {
      // With nothing left to send, a later silence is a new one (the run may just have been busy elsewhere).
      this.#sending -= 1;
      if (this.#sending === 0) this.#silentSince = undefined;
    }
  }

  async #send<Value>(tokens: number, attempt: Attempt<Value>, signal?: AbortSignal): Promise<Sent<Value>> {
    let attempts = 0;
    let timeoutRetries = 0;
    for (let retry = 0; ; retry += 1) {
      if (this.#stopped) throw new SendFailure(new RunStoppedError(this.#stopped), attempts);
      let outcome: { value: Value; headers?: Headers } | { thrown: unknown };
      try {
        outcome = await this.#queue.add(
          async () => {
            // The run may have stopped while this attempt waited for a slot.
            if (this.#stopped) throw new RunStoppedError(this.#stopped);
            await this.limiter.acquire(tokens, signal);
            if (this.#stopped) throw new RunStoppedError(this.#stopped);
            attempts += 1;
            this.#attempts += 1;
            const onWire = { startedAt: this.clock.now() };
            this.#silentSince ??= onWire.startedAt;
            this.#onWire.add(onWire);
            try {
              const result = await attempt(signal);
              this.#silentSince = undefined;
              this.limiter.observe(readServerLimits(result.headers));
              return result;
            } catch (thrown) {
              const headers = (thrown as { headers?: unknown }).headers;
              if (headers instanceof Headers) {
                this.#silentSince = undefined;
                this.limiter.observe(readServerLimits(headers));
              }
              return { thrown };
            } finally {
              this.#onWire.delete(onWire);
            }
          },
        );
      } catch (thrown) {
        // Limiter or stop errors, before anything was sent.
        if (signal?.aborted) throw new SendFailure(new AbortedError({ cause: thrown }), attempts);
        throw new SendFailure(classifyFailure(thrown, this.clock.now()).error, attempts);
      }
      if (!('thrown' in outcome)) return { value: outcome.value, attempts };

      const failure = classifyFailure(outcome.thrown, this.clock.now(), this.timeoutMs);
      if (failure.error instanceof TimeoutError) {
        const silentMs = this.clock.now() - (this.#silentSince ?? this.clock.now());
        // 10 ms of slack: the client's timer and our clock round differently.
        if (silentMs >= this.timeoutMs * (1 + this.policy.maxTimeoutRetries) - 10) {
          // The server answered nothing, to any request, for as long as one document's every attempt takes: the other
          // documents would wait out the same silence, so stop sending and let each have its record now.
          const error = new TimeoutError(`${failure.error.message}, and answered no request for ${formatSeconds(silentMs)} s: stopped sending`, {
            cause: failure.error,
            stopsRun: true,
          });
          this.stop(error);
          throw new SendFailure(error, attempts);
        }
        if (timeoutRetries >= this.policy.maxTimeoutRetries) throw new SendFailure(failure.error, attempts);
        timeoutRetries += 1;
      }
      if (failure.retryAfterMs !== undefined && failure.retryAfterMs > this.policy.maxRetryAfterMs) {
        // Waiting that long (a daily limit) would stall the run; stop and say so instead.
        const error = new RateLimitError(`the API asks to wait ${Math.round(failure.retryAfterMs / 1000)} s, more than ${Math.round(this.policy.maxRetryAfterMs / 1000)} s: ${failure.error.message}`, {
          cause: failure.error,
          fix: 'Rerun later: answers already received are cached and will not be paid for again.',
        });
        this.stop(error);
        throw new SendFailure(error, attempts);
      }
      if (failure.stopsRun) this.stop(failure.error);
      if (!failure.retryable || retry >= this.policy.maxRetries || signal?.aborted) throw new SendFailure(failure.error, attempts);
      this.#retries += 1;
      this.#retriesByCode[failure.error.code] = (this.#retriesByCode[failure.error.code] ?? 0) + 1;
      // A Retry-After speaks for the account, not this request: every send waits.
      if (failure.retryAfterMs !== undefined) this.limiter.pauseUntil(this.clock.now() + failure.retryAfterMs);
      try {
        await this.clock.sleep(this.policy.delay(retry, failure.retryAfterMs), signal);
      } catch (thrown) {
        throw new SendFailure(new AbortedError({ cause: thrown }), attempts);
      }
    }
  }

  /** Wait for everything queued to finish. */
  onIdle(): Promise<void> {
    return this.#queue.onIdle();
  }
}
