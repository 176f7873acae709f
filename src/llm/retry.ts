/**
 * Our retry policy. The SDK's own retries are off, so every attempt goes
 * through the scheduler and counts against the window. We retry what can
 * pass on its own (429, 5xx, timeouts, resets) with capped exponential
 * backoff and full jitter, and never what cannot (400/401/403/404,
 * insufficient_quota).
 */
import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import { DistillError, invalidOption } from '../errors.js';
import {
  AbortedError,
  AuthenticationError,
  BadRequestError,
  ConnectionError,
  NotFoundError,
  QuotaExceededError,
  RateLimitError,
  ServerError,
  TimeoutError,
} from './errors.js';
import { readRetryAfter } from './limiter.js';

export interface RetryOptions {
  /** Retries after the first attempt. @default 6 */
  maxRetries?: number;
  /**
   * Retries of an attempt that timed out, at most `maxRetries`. A server that
   * did not answer in `timeoutMs` rarely answers the same request on the
   * sixth try, and each try costs a whole timeout of silence, so an
   * interactive run gives it one more chance, not six.
   * @default 1
   */
  maxTimeoutRetries?: number;
  /** The first backoff's ceiling. @default 500 */
  baseDelayMs?: number;
  /** No backoff is longer than this. @default 30000 */
  maxDelayMs?: number;
  /** A Retry-After longer than this (a daily limit, say) stops the run instead of stalling it. @default 600000 (10 minutes) */
  maxRetryAfterMs?: number;
  /** Source of jitter in [0, 1). @default Math.random */
  random?: () => number;
}

export class RetryPolicy {
  readonly maxRetries: number;
  readonly maxTimeoutRetries: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly maxRetryAfterMs: number;
  readonly #random: () => number;

  constructor(options: RetryOptions = {}) {
    this.maxRetries = options.maxRetries ?? 6;
    this.baseDelayMs = options.baseDelayMs ?? 500;
    this.maxDelayMs = options.maxDelayMs ?? 30_000;
    if (!Number.isInteger(this.maxRetries) || this.maxRetries < 0) throw invalidOption('maxRetries', 'an integer ≥ 0', options.maxRetries);
    const timeoutRetries = options.maxTimeoutRetries ?? 1;
    if (!Number.isInteger(timeoutRetries) || timeoutRetries < 0) throw invalidOption('maxTimeoutRetries', 'an integer ≥ 0', options.maxTimeoutRetries);
    this.maxTimeoutRetries = Math.min(timeoutRetries, this.maxRetries);
    if (!(this.baseDelayMs >= 0)) throw invalidOption('baseDelayMs', 'a number ≥ 0', options.baseDelayMs);
    if (!(this.maxDelayMs >= this.baseDelayMs)) throw invalidOption('maxDelayMs', `a number ≥ baseDelayMs (${this.baseDelayMs})`, options.maxDelayMs);
    this.maxRetryAfterMs = options.maxRetryAfterMs ?? 600_000;
    if (!(this.maxRetryAfterMs >= 0)) throw invalidOption('maxRetryAfterMs', 'a number ≥ 0', options.maxRetryAfterMs);
    this.#random = options.random ?? Math.random;
  }

  /** Full jitter (AWS's recipe): uniform in [0, min(cap, base·2^retry)), and never before the server's Retry-After. */
  delay(retry: number, retryAfterMs?: number): number {
    const ceiling = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** retry);
    const jittered = this.#random() * ceiling;
    return retryAfterMs === undefined ? jittered : Math.max(retryAfterMs, jittered);
  }
}

/** What one failed attempt means for the document and the run. */
export interface Failure {
  error: DistillError;
  retryable: boolean;
  /** Later requests would fail the same way: stop sending. */
  stopsRun: boolean;
  retryAfterMs?: number;
}

/** Seconds for messages: `60`, `0.3`. */
export function formatSeconds(ms: number): string {
  return String(Number((ms / 1000).toFixed(3)));
}

/** Map an SDK (or other) throw onto our error classes; `timeoutMs` (the per-attempt timeout) goes into a timeout's message. */
export function classifyFailure(thrown: unknown, now: number, timeoutMs?: number): Failure {
  if (thrown instanceof DistillError) return { error: thrown, retryable: false, stopsRun: false };
  if (thrown instanceof APIUserAbortError || (thrown instanceof Error && thrown.name === 'AbortError')) {
    return { error: new AbortedError({ cause: thrown }), retryable: false, stopsRun: false };
  }
  if (thrown instanceof APIConnectionTimeoutError) {
    const message = timeoutMs === undefined ? `the server did not answer in time (${thrown.message})` : `the server did not answer in ${formatSeconds(timeoutMs)} s (--timeout ${formatSeconds(timeoutMs)})`;
    return { error: new TimeoutError(message, { cause: thrown }), retryable: true, stopsRun: false };
  }
  if (thrown instanceof APIConnectionError) {
    const detail = thrown.cause instanceof Error ? `${thrown.message} (${thrown.cause.message})` : thrown.message;
    return { error: new ConnectionError(`connection failed: ${detail}`, { cause: thrown }), retryable: true, stopsRun: false };
  }
  if (thrown instanceof APIError) {
    const status = thrown.status;
    const message = `${status ?? '?'} ${thrown.message}`;
    const options = { cause: thrown, ...(status === undefined ? {} : { status }) };
    const code = thrown.code ?? (thrown.error as { code?: string } | undefined)?.code;
    const type = thrown.type ?? (thrown.error as { type?: string } | undefined)?.type;
    if (code === 'insufficient_quota' || type === 'insufficient_quota') {
      return { error: new QuotaExceededError(`the account is out of quota: ${message}`, options), retryable: false, stopsRun: true };
    }
    if (status === 429) {
      const retryAfterMs = readRetryAfter(thrown.headers, now);
      return {
        error: new RateLimitError(`rate limited: ${message}`, options),
        retryable: true,
        stopsRun: false,
        ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      };
    }
    if (status === 401 || status === 403) return { error: new AuthenticationError(`not authorised: ${message}`, options), retryable: false, stopsRun: true };
    if (status === 404) return { error: new NotFoundError(`not found: ${message}`, options), retryable: false, stopsRun: true };
    if (status === 400 || status === 422) {
      // Too long a prompt is this document's problem; any other 400 is in parameters every request shares.
      const documentOnly = code === 'context_length_exceeded' || code === 'string_above_max_length' || /maximum context length/i.test(thrown.message);
      return {
        error: new BadRequestError(`request rejected: ${message}`, { ...options, stopsRun: !documentOnly }),
        retryable: false,
        stopsRun: !documentOnly,
      };
    }
    if (status === 408 || status === 409 || (status !== undefined && status >= 500)) {
      const retryAfterMs = readRetryAfter(thrown.headers, now);
      return {
        error: new ServerError(`server error: ${message}`, options),
        retryable: true,
        stopsRun: false,
        ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      };
    }
    return { error: new BadRequestError(`request failed: ${message}`, options), retryable: false, stopsRun: false };
  }
  const detail = thrown instanceof Error ? thrown.message : String(thrown);
  return { error: new ConnectionError(`request failed: ${detail}`, { cause: thrown }), retryable: false, stopsRun: false };
}
