/**
 * A sliding-window limiter for requests and tokens. p-queue's `interval`
 * resets its count at fixed boundaries, so 20 requests at the end of one
 * interval and 20 at the start of the next put 40 in one minute; here every
 * send is logged and a send waits until the window ending at that moment
 * holds room for it, retries included.
 */
import { invalidOption } from '../errors.js';
import { systemClock, type Clock } from './clock.js';
import { TokenLimitError } from './errors.js';

export interface LimiterOptions {
  /** Requests per window. @default Infinity */
  rpm?: number;
  /** Tokens (prompt + max_tokens) per window. @default Infinity */
  tpm?: number;
  /** The window's length. @default 60000 */
  windowMs?: number;
  /**
   * Extra wait past the window's edge, because the server stamps a request
   * when it arrives, a little after we send it; that latency varies.
   * @default max(250, windowMs / 200)
   */
  marginMs?: number;
  clock?: Clock;
}

/** What `x-ratelimit-*` response headers say about the server's own window. */
export interface ServerLimits {
  remainingRequests?: number;
  resetRequestsMs?: number;
  remainingTokens?: number;
  resetTokensMs?: number;
}

interface Sent {
  at: number;
  tokens: number;
}

export class SlidingWindowLimiter {
  readonly rpm: number;
  readonly tpm: number;
  readonly windowMs: number;
  readonly marginMs: number;
  readonly clock: Clock;
  #log: Sent[] = [];
  #pausedUntil = 0;
  #tail: Promise<void> = Promise.resolve();
  #waitedMs = 0;
  #pauses = 0;
  #serverRequests: { remaining: number; until: number } | undefined;
  #serverTokens: { remaining: number; until: number } | undefined;

  constructor(options: LimiterOptions = {}) {
    this.rpm = options.rpm ?? Number.POSITIVE_INFINITY;
    this.tpm = options.tpm ?? Number.POSITIVE_INFINITY;
    this.windowMs = options.windowMs ?? 60_000;
    if (!(this.rpm >= 1)) throw invalidOption('rpm', 'a number ≥ 1', options.rpm);
    if (!(this.tpm >= 1)) throw invalidOption('tpm', 'a number ≥ 1', options.tpm);
    if (!(this.windowMs > 0 && Number.isFinite(this.windowMs))) throw invalidOption('windowMs', 'a positive finite number', options.windowMs);
    this.marginMs = options.marginMs ?? Math.max(250, this.windowMs / 200);
    if (!(this.marginMs >= 0)) throw invalidOption('marginMs', 'a number ≥ 0', options.marginMs);
    this.clock = options.clock ?? systemClock;
  }

  /** Milliseconds spent waiting for the window or a pause, over all sends. */
  get waitedMs(): number {
    return this.#waitedMs;
  }

  /** How many times a server told us to hold off (Retry-After, an exhausted x-ratelimit). */
  get pauses(): number {
    return this.#pauses;
  }

  /** Send times so far (for tests and the summary). */
  get sendTimes(): number[] {
    return this.#log.map((sent) => sent.at);
  }

  /**
   * Wait until one more request of `tokens` fits in the window, then count
   * it as sent. Waiters are served in arrival order.
   */
  acquire(tokens = 0, signal?: AbortSignal): Promise<void> {
    if (tokens > this.tpm) return Promise.reject(new TokenLimitError(tokens, this.tpm));
    const turn = this.#tail.then(() => this.#admit(tokens, signal));
    // A waiter that is aborted must not block those behind it.
    this.#tail = turn.catch(() => undefined);
    return turn;
  }

  /** Hold every send until `time` (a Retry-After, or the server's reset time). */
  pauseUntil(time: number): void {
    if (time > this.#pausedUntil) {
      this.#pausedUntil = time;
      this.#pauses += 1;
    }
  }

  /**
   * Take the server's word where it is stricter than our own count: until
   * its reset, sends draw on the remaining requests and tokens it reported,
   * and wait for the reset when they would overdraw them.
   */
  observe(limits: ServerLimits): void {
    const now = this.clock.now();
    if (limits.remainingRequests !== undefined && limits.resetRequestsMs !== undefined) {
      this.#serverRequests = { remaining: limits.remainingRequests, until: now + limits.resetRequestsMs };
      if (limits.remainingRequests <= 0) this.pauseUntil(now + limits.resetRequestsMs);
    }
    if (limits.remainingTokens !== undefined && limits.resetTokensMs !== undefined) {
      this.#serverTokens = { remaining: limits.remainingTokens, until: now + limits.resetTokensMs };
      if (limits.remainingTokens <= 0) this.pauseUntil(now + limits.resetTokensMs);
    }
  }

  async #admit(tokens: number, signal: AbortSignal | undefined): Promise<void> {
    for (;;) {
      signal?.throwIfAborted();
      const now = this.clock.now();
      const wait = Math.max(this.#pausedUntil - now, this.#windowWait(now, tokens), this.#serverWait(now, tokens));
      if (wait <= 0) {
        this.#log.push({ at: now, tokens });
        if (this.#serverRequests) this.#serverRequests.remaining -= 1;
        if (this.#serverTokens) this.#serverTokens.remaining -= tokens;
        return;
      }
      this.#waitedMs += wait;
      await this.clock.sleep(wait, signal);
    }
  }

  /** How long until the server's last reported budget covers one more request of `tokens`. */
  #serverWait(now: number, tokens: number): number {
    let wait = 0;
    if (this.#serverRequests) {
      if (now >= this.#serverRequests.until) this.#serverRequests = undefined;
      else if (this.#serverRequests.remaining < 1) wait = Math.max(wait, this.#serverRequests.until - now);
    }
    if (this.#serverTokens) {
      if (now >= this.#serverTokens.until) this.#serverTokens = undefined;
      else if (this.#serverTokens.remaining < tokens) wait = Math.max(wait, this.#serverTokens.until - now);
    }
    return wait;
  }

  /** How long until the window ending then has room for one more request of `tokens`. */
  #windowWait(now: number, tokens: number): number {
    const horizon = this.windowMs + this.marginMs;
    while (this.#log.length > 0 && this.#log[0]!.at + horizon <= now) this.#log.shift();
    let wait = 0;
    if (this.#log.length >= this.rpm) {
      const blocking = this.#log[this.#log.length - this.rpm]!;
      wait = Math.max(wait, blocking.at + horizon - now);
    }
    if (Number.isFinite(this.tpm)) {
      let used = this.#log.reduce((sum, sent) => sum + sent.tokens, 0);
      for (const sent of this.#log) {
        if (used + tokens <= this.tpm) break;
        used -= sent.tokens;
        wait = Math.max(wait, sent.at + horizon - now);
      }
    }
    return wait;
  }
}

/** `x-ratelimit-*` headers as numbers; OpenAI writes resets as durations like `6m0s`, `1.5s`, `20ms`. */
export function readServerLimits(headers: Headers | undefined): ServerLimits {
  if (!headers) return {};
  const limits: ServerLimits = {};
  const remainingRequests = numberHeader(headers.get('x-ratelimit-remaining-requests'));
  const remainingTokens = numberHeader(headers.get('x-ratelimit-remaining-tokens'));
  const resetRequestsMs = parseDuration(headers.get('x-ratelimit-reset-requests'));
  const resetTokensMs = parseDuration(headers.get('x-ratelimit-reset-tokens'));
  if (remainingRequests !== undefined) limits.remainingRequests = remainingRequests;
  if (remainingTokens !== undefined) limits.remainingTokens = remainingTokens;
  if (resetRequestsMs !== undefined) limits.resetRequestsMs = resetRequestsMs;
  if (resetTokensMs !== undefined) limits.resetTokensMs = resetTokensMs;
  return limits;
}

/** Retry-After in milliseconds: `retry-after-ms`, then `retry-after` as seconds or an HTTP date. */
export function readRetryAfter(headers: Headers | undefined, now: number): number | undefined {
  if (!headers) return undefined;
  const milliseconds = numberHeader(headers.get('retry-after-ms'));
  if (milliseconds !== undefined && milliseconds >= 0) return milliseconds;
  const value = headers.get('retry-after');
  if (value === null) return undefined;
  const seconds = numberHeader(value);
  if (seconds !== undefined && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** `1h2m3.5s`, `6m0s`, `20ms`, `1.5s` → milliseconds. */
export function parseDuration(value: string | null | undefined): number | undefined {
  if (value === null || value === undefined || value.trim() === '') return undefined;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  const pattern = /(\d+(?:\.\d+)?)(ms|h|m|s)/gy;
  let total = 0;
  let matched = 0;
  for (const match of text.matchAll(pattern)) {
    const amount = Number(match[1]);
    const unit = match[2];
    total += amount * (unit === 'h' ? 3_600_000 : unit === 'm' ? 60_000 : unit === 's' ? 1000 : 1);
    matched += match[0].length;
  }
  return matched === text.length ? total : undefined;
}

function numberHeader(value: string | null): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const number = Number(value);
  return Number.isFinite(number) ? number : undefined;
}
