/**
 * One error class per condition of the LLM stage, each with a stable `code`
 * and the SDK error as `cause` (after vitest's node/errors.ts). `stopsRun`
 * says whether later documents can succeed at all: a bad key or an empty
 * account fails every later request too, so the run stops sending.
 */
import { ApiError, DistillError } from '../errors.js';

interface ApiErrorOptions {
  cause?: unknown;
  fix?: string;
  status?: number;
}

/** 429 after every retry; the limits were hit and stayed hit. */
export class RateLimitError extends ApiError {
  readonly stopsRun = false;
  constructor(message: string, options: ApiErrorOptions = {}) {
    super(message, { ...options, code: 'E_LLM_RATE_LIMIT', fix: options.fix ?? 'Lower `--rpm`/`--tpm` or `--concurrency` to your account limits.' });
  }
}

/** 5xx from the API after every retry. */
export class ServerError extends ApiError {
  readonly stopsRun = false;
  constructor(message: string, options: ApiErrorOptions = {}) {
    super(message, { ...options, code: 'E_LLM_SERVER' });
  }
}

/** The server did not answer an attempt in time, after every retry (a hung or overloaded server, or a long answer). */
export class TimeoutError extends ApiError {
  readonly stopsRun: boolean;
  constructor(message: string, options: ApiErrorOptions & { stopsRun?: boolean } = {}) {
    super(message, {
      ...options,
      code: 'E_LLM_TIMEOUT',
      fix:
        options.fix ??
        'Check that the server at OPENAI_BASE_URL answers; if answers just take longer, raise `--timeout <seconds>` (`timeoutMs` in the library and the config file\'s `llm` section).',
    });
    this.stopsRun = options.stopsRun ?? false;
  }
}

/** The connection failed or was reset after every retry. */
export class ConnectionError extends ApiError {
  readonly stopsRun = false;
  constructor(message: string, options: ApiErrorOptions = {}) {
    super(message, { ...options, code: 'E_LLM_CONNECTION', fix: options.fix ?? 'Check the network and `OPENAI_BASE_URL`.' });
  }
}

/** 400 for this document (for example context_length_exceeded): never retried, other documents go on. */
export class BadRequestError extends ApiError {
  readonly stopsRun: boolean;
  constructor(message: string, options: ApiErrorOptions & { stopsRun?: boolean } = {}) {
    super(message, { ...options, code: 'E_LLM_BAD_REQUEST' });
    this.stopsRun = options.stopsRun ?? false;
  }
}

/** 401/403: the key is missing, wrong, or not allowed this model. Stops the run. */
export class AuthenticationError extends ApiError {
  readonly stopsRun = true;
  constructor(message: string, options: ApiErrorOptions = {}) {
    super(message, { ...options, code: 'E_LLM_AUTH', fix: options.fix ?? 'Set a valid `OPENAI_API_KEY` with access to the model.' });
  }
}

/** 404: the model or endpoint does not exist. Stops the run. */
export class NotFoundError extends ApiError {
  readonly stopsRun = true;
  constructor(message: string, options: ApiErrorOptions = {}) {
    super(message, { ...options, code: 'E_LLM_NOT_FOUND', fix: options.fix ?? 'Check `--model` and `OPENAI_BASE_URL`.' });
  }
}

/** 429 `insufficient_quota`: the account is out of credit; retrying cannot help. Stops the run. */
export class QuotaExceededError extends ApiError {
  readonly stopsRun = true;
  constructor(message: string, options: ApiErrorOptions = {}) {
    super(message, { ...options, code: 'E_LLM_QUOTA', fix: options.fix ?? 'Add credit or raise the spending limit of the OpenAI account.' });
  }
}

/** A later document after the run stopped sending: names the first failure. */
export class RunStoppedError extends DistillError {
  constructor(readonly reason: DistillError) {
    super('E_LLM_STOPPED', `not sent: the run stopped sending after ${reason.code}: ${reason.message}`, { cause: reason, ...(reason.fix ? { fix: reason.fix } : {}) });
  }
}

/** One request needs more tokens than `tpm` allows in a whole window, so it can never be sent. */
export class TokenLimitError extends DistillError {
  constructor(tokens: number, tpm: number) {
    super('E_LLM_TPM', `the request needs ${tokens} tokens (prompt + max_tokens), more than \`tpm\` ${tpm} allows in one window`, {
      fix: 'Raise `--tpm`, lower `maxTokens`, or give a smaller `--budget`.',
    });
  }
}

/** The response cache (disk or Redis) cannot be read or written. */
export class CacheError extends DistillError {
  constructor(message: string, options: { cause?: unknown; fix?: string } = {}) {
    super('E_LLM_CACHE', message, options);
  }
}

/** A Batch API step (upload, create, status, collect) failed. */
export class BatchError extends DistillError {
  constructor(message: string, options: { cause?: unknown; fix?: string; code?: string } = {}) {
    super(options.code ?? 'E_LLM_BATCH', message, options);
  }
}

/** The request was aborted (Ctrl-C); nothing is retried. */
export class AbortedError extends DistillError {
  constructor(options: { cause?: unknown } = {}) {
    super('E_LLM_ABORTED', 'the request was aborted', options);
  }
}
