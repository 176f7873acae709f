/**
 * An OpenAI-compatible HTTP server on 127.0.0.1 for tests: chat completions
 * with realistic `usage` and rate-limit headers, configurable faults (429 with
 * Retry-After, 500, connection resets, slow answers, a requests-per-window
 * limit), and the Batch API (files, batches, file content). Every request is
 * recorded, so tests can assert what went on the wire and when.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { o200k } from '../../src/tokens.js';

export interface ChatMessageBody {
  role: string;
  content: string;
}

export interface ChatRequestBody {
  model: string;
  messages: ChatMessageBody[];
  max_tokens?: number;
  max_completion_tokens?: number;
  [key: string]: unknown;
}

/** What the server does with one chat request instead of answering it. */
export type Fault =
  | { kind: 'status'; status: number; code?: string; type?: string; message?: string; retryAfterMs?: number }
  | { kind: 'reset' }
  | { kind: 'delay'; ms: number }
  /** Read the request, then never answer: a hung model server (the socket stays open until the client gives up or `close()`). */
  | { kind: 'hang' };

export interface RecordedRequest {
  /** 1-based count of chat requests this server received, faults included. */
  n: number;
  /** Arrival time, from the server's clock. */
  at: number;
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: ChatRequestBody;
  /** How the server answered: `ok`, or the fault it injected. */
  outcome: 'ok' | '429' | '500' | 'reset' | 'hang' | 'rpm' | 'tpm' | `status-${number}`;
}

export interface OpenAIServerOptions {
  /** Answer 429 (with Retry-After) to every Nth chat request. */
  rateLimitEvery?: number;
  /** Answer 500 to every Nth chat request. */
  serverErrorEvery?: number;
  /** Destroy the connection without answering on every Nth chat request. */
  resetEvery?: number;
  /** Retry-After sent with injected and limit 429s, in milliseconds (sent as `retry-after-ms` and whole-second `retry-after`). @default 1000 */
  retryAfterMs?: number;
  /** Delay before answering each chat request, or a function of the request number. @default 0 */
  delayMs?: number | ((n: number) => number);
  /** Requests allowed per window; the excess gets 429 `rate_limit_exceeded`. Rejected requests count too, as at OpenAI. */
  rpm?: number;
  /** Tokens (prompt + max_tokens) allowed per window. */
  tpm?: number;
  /** Length of the rate-limit window. @default 60000 */
  windowMs?: number;
  /** A custom fault per request, checked before the periodic ones; `headers` lets a fault echo what the client sent (its key). */
  fault?: (n: number, body: ChatRequestBody, headers: IncomingMessage['headers']) => Fault | undefined;
  /** The answer text; default: a deterministic digest of the request. */
  reply?: (body: ChatRequestBody, headers: IncomingMessage['headers']) => string;
  /** Batches report `in_progress` for this many status polls before `completed`. @default 1 */
  batchPolls?: number;
  now?: () => number;
}

export interface StoredFile {
  id: string;
  filename: string;
  purpose: string;
  content: string;
}

export interface StoredBatch {
  id: string;
  input_file_id: string;
  endpoint: string;
  completion_window: string;
  status: string;
  polls: number;
  output_file_id: string | null;
  error_file_id: string | null;
  metadata: Record<string, string> | null;
  request_counts: { total: number; completed: number; failed: number };
  created_at: number;
}

export interface OpenAIServer {
  /** Base URL for the SDK, ending in `/v1`. */
  url: string;
  /** Chat completion requests, in arrival order. */
  requests: RecordedRequest[];
  /** Every HTTP request, any endpoint. */
  log: { method: string; path: string; at: number }[];
  files: Map<string, StoredFile>;
  batches: Map<string, StoredBatch>;
  /** The chat requests answered `ok`. */
  answered(): RecordedRequest[];
  /** The most requests any window of `windowMs` held, by arrival time. */
  maxInWindow(windowMs?: number, outcomes?: RecordedRequest['outcome'][]): number;
  close(): Promise<void>;
}

/** The deterministic answer used when no `reply` is given. */
export function defaultReply(body: ChatRequestBody): string {
  const digest = createHash('sha256').update(JSON.stringify(body.messages)).digest('hex').slice(0, 12);
  const user = body.messages.find((message) => message.role === 'user')?.content ?? '';
  const task = /^Task: (.*)$/m.exec(user)?.[1] ?? '';
  return `Answer ${digest} to "${task.slice(0, 60)}".`;
}

export async function startOpenAIServer(options: OpenAIServerOptions = {}): Promise<OpenAIServer> {
  const now = options.now ?? Date.now;
  const windowMs = options.windowMs ?? 60_000;
  const retryAfterMs = options.retryAfterMs ?? 1000;
  const reply = options.reply ?? defaultReply;
  const requests: RecordedRequest[] = [];
  const log: OpenAIServer['log'] = [];
  const files = new Map<string, StoredFile>();
  const batches = new Map<string, StoredBatch>();
  // Token prefixes of earlier prompts, to emulate OpenAI's automatic prompt caching.
  const seenPrompts: Uint32Array[] = [];
  let arrivals: { at: number; tokens: number }[] = [];
  let count = 0;

  function inWindow(at: number) {
    // Bodies can finish out of arrival order, so filter rather than trim the front.
    arrivals = arrivals.filter((arrival) => arrival.at > at - windowMs);
    return arrivals;
  }

  function rateHeaders(at: number): Record<string, string> {
    const open = inWindow(at);
    const resetMs = open.length > 0 ? Math.min(...open.map((arrival) => arrival.at)) + windowMs - at : 0;
    const headers: Record<string, string> = {};
    if (options.rpm !== undefined) {
      headers['x-ratelimit-limit-requests'] = String(options.rpm);
      headers['x-ratelimit-remaining-requests'] = String(Math.max(0, options.rpm - open.length));
      headers['x-ratelimit-reset-requests'] = `${(resetMs / 1000).toFixed(3)}s`;
    }
    if (options.tpm !== undefined) {
      const used = open.reduce((sum, arrival) => sum + arrival.tokens, 0);
      headers['x-ratelimit-limit-tokens'] = String(options.tpm);
      headers['x-ratelimit-remaining-tokens'] = String(Math.max(0, options.tpm - used));
      headers['x-ratelimit-reset-tokens'] = `${(resetMs / 1000).toFixed(3)}s`;
    }
    return headers;
  }

  function completion(body: ChatRequestBody, headers: IncomingMessage['headers'] = {}) {
    const text = reply(body, headers);
    const promptText = body.messages.map((message) => `${message.role}\n${message.content}`).join('\n');
    const promptTokens = o200k.encode(promptText);
    // OpenAI's rule: prompts of 1024+ tokens, cached in 128-token steps of a prefix seen before.
    let common = 0;
    for (const earlier of seenPrompts) {
      let index = 0;
      const limit = Math.min(earlier.length, promptTokens.length);
      while (index < limit && earlier[index] === promptTokens[index]) index += 1;
      common = Math.max(common, index);
    }
    seenPrompts.push(promptTokens);
    if (seenPrompts.length > 64) seenPrompts.shift();
    const cached = common >= 1024 ? Math.floor(common / 128) * 128 : 0;
    let prompt = 3;
    for (const message of body.messages) prompt += 3 + o200k.count(message.role) + o200k.count(message.content);
    const completionTokens = o200k.count(text);
    return {
      id: `chatcmpl-${randomBytes(8).toString('hex')}`,
      object: 'chat.completion',
      created: Math.floor(now() / 1000),
      model: body.model === 'gpt-4o' ? 'gpt-4o-2024-08-06' : body.model,
      choices: [{ index: 0, message: { role: 'assistant', content: text, refusal: null }, finish_reason: 'stop', logprobs: null }],
      usage: {
        prompt_tokens: prompt,
        completion_tokens: completionTokens,
        total_tokens: prompt + completionTokens,
        prompt_tokens_details: { cached_tokens: Math.min(cached, prompt), audio_tokens: 0 },
        completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
      },
      system_fingerprint: 'fp_distill_test',
    };
  }

  function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
    const text = JSON.stringify(body);
    response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
    response.end(text);
  }

  function sendError(response: ServerResponse, status: number, message: string, type: string, code: string | null, headers: Record<string, string> = {}) {
    sendJson(response, status, { error: { message, type, param: null, code } }, headers);
  }

  function retryHeaders(ms: number): Record<string, string> {
    return { 'retry-after-ms': String(Math.round(ms)), 'retry-after': String(Math.max(1, Math.ceil(ms / 1000))) };
  }

  function every(n: number, period: number | undefined) {
    return period !== undefined && period > 0 && n % period === 0;
  }

  async function chat(request: IncomingMessage, response: ServerResponse, raw: Buffer, arrivedAt: number) {
    let body: ChatRequestBody;
    try {
      body = JSON.parse(raw.toString('utf8')) as ChatRequestBody;
    } catch {
      sendError(response, 400, 'We could not parse the JSON body of your request.', 'invalid_request_error', null);
      return;
    }
    count += 1;
    const n = count;
    const at = arrivedAt;
    const record: RecordedRequest = { n, at, method: request.method ?? 'POST', path: request.url ?? '', headers: request.headers, body, outcome: 'ok' };
    requests.push(record);
    const tokens = estimateTokens(body);
    inWindow(at);
    const overRpm = options.rpm !== undefined && arrivals.length + 1 > options.rpm;
    const overTpm = options.tpm !== undefined && arrivals.reduce((sum, arrival) => sum + arrival.tokens, 0) + tokens > options.tpm;
    arrivals.push({ at, tokens });

    const fault = options.fault?.(n, body, request.headers);
    if (fault?.kind === 'delay') await sleep(fault.ms);
    const delay = typeof options.delayMs === 'function' ? options.delayMs(n) : options.delayMs ?? 0;
    if (delay > 0) await sleep(delay);

    if (overRpm || overTpm) {
      record.outcome = overRpm ? 'rpm' : 'tpm';
      const oldest = Math.min(at, ...arrivals.map((arrival) => arrival.at));
      const wait = Math.max(1, oldest + windowMs - at);
      const what = overRpm ? `requests per ${windowMs / 1000}s (RPM): Limit ${options.rpm}` : `tokens per ${windowMs / 1000}s (TPM): Limit ${options.tpm}`;
      sendError(response, 429, `Rate limit reached for ${body.model} on ${what}. Please try again in ${wait}ms.`, 'requests', 'rate_limit_exceeded', {
        ...retryHeaders(wait),
        ...rateHeaders(at),
      });
      return;
    }
    if (fault?.kind === 'status') {
      record.outcome = fault.status === 429 ? '429' : fault.status === 500 ? '500' : `status-${fault.status}`;
      sendError(response, fault.status, fault.message ?? `Injected ${fault.status}.`, fault.type ?? 'invalid_request_error', fault.code ?? null, {
        ...(fault.retryAfterMs === undefined ? {} : retryHeaders(fault.retryAfterMs)),
        ...rateHeaders(at),
      });
      return;
    }
    if (fault?.kind === 'reset') {
      record.outcome = 'reset';
      request.socket.destroy();
      return;
    }
    if (fault?.kind === 'hang') {
      record.outcome = 'hang';
      return;
    }
    if (every(n, options.rateLimitEvery)) {
      record.outcome = '429';
      sendError(response, 429, 'Rate limit reached (injected). Please try again later.', 'requests', 'rate_limit_exceeded', {
        ...retryHeaders(retryAfterMs),
        ...rateHeaders(at),
      });
      return;
    }
    if (every(n, options.serverErrorEvery)) {
      record.outcome = '500';
      sendError(response, 500, 'The server had an error while processing your request (injected).', 'server_error', null, rateHeaders(at));
      return;
    }
    if (every(n, options.resetEvery)) {
      record.outcome = 'reset';
      request.socket.destroy();
      return;
    }
    sendJson(response, 200, completion(body, request.headers), { 'x-request-id': `req_${n}`, ...rateHeaders(at) });
  }

  async function uploadFile(request: IncomingMessage, response: ServerResponse, raw: Buffer) {
    const form = await new Request('http://127.0.0.1/upload', {
      method: 'POST',
      headers: { 'content-type': request.headers['content-type'] ?? '' },
      body: raw,
    }).formData();
    const file = form.get('file');
    const purpose = form.get('purpose');
    if (file === null || typeof file === 'string' || typeof purpose !== 'string') {
      sendError(response, 400, 'Expected multipart fields `file` and `purpose`.', 'invalid_request_error', null);
      return;
    }
    const stored: StoredFile = { id: `file-${randomBytes(12).toString('hex')}`, filename: file.name, purpose, content: await file.text() };
    files.set(stored.id, stored);
    sendJson(response, 200, fileObject(stored));
  }

  function fileObject(file: StoredFile) {
    return { id: file.id, object: 'file', bytes: Buffer.byteLength(file.content), created_at: Math.floor(now() / 1000), filename: file.filename, purpose: file.purpose, status: 'processed' };
  }

  function batchObject(batch: StoredBatch) {
    return {
      id: batch.id,
      object: 'batch',
      endpoint: batch.endpoint,
      errors: null,
      input_file_id: batch.input_file_id,
      completion_window: batch.completion_window,
      status: batch.status,
      output_file_id: batch.output_file_id,
      error_file_id: batch.error_file_id,
      created_at: batch.created_at,
      request_counts: batch.request_counts,
      metadata: batch.metadata,
    };
  }

  function createBatch(response: ServerResponse, raw: Buffer) {
    const body = JSON.parse(raw.toString('utf8')) as { input_file_id?: string; endpoint?: string; completion_window?: string; metadata?: Record<string, string> };
    const input = body.input_file_id === undefined ? undefined : files.get(body.input_file_id);
    if (!input) {
      sendError(response, 400, `No such file: ${body.input_file_id}`, 'invalid_request_error', 'invalid_file');
      return;
    }
    if (body.endpoint !== '/v1/chat/completions' || body.completion_window !== '24h') {
      sendError(response, 400, 'Expected endpoint /v1/chat/completions and completion_window 24h.', 'invalid_request_error', 'invalid_value');
      return;
    }
    const lines = input.content.split('\n').filter((line) => line.trim() !== '');
    const batch: StoredBatch = {
      id: `batch_${randomBytes(12).toString('hex')}`,
      input_file_id: input.id,
      endpoint: body.endpoint,
      completion_window: body.completion_window,
      status: 'validating',
      polls: 0,
      output_file_id: null,
      error_file_id: null,
      metadata: body.metadata ?? null,
      request_counts: { total: lines.length, completed: 0, failed: 0 },
      created_at: Math.floor(now() / 1000),
    };
    batches.set(batch.id, batch);
    sendJson(response, 200, batchObject(batch));
  }

  function runBatch(batch: StoredBatch) {
    const input = files.get(batch.input_file_id)!;
    const output: string[] = [];
    const errors: string[] = [];
    for (const line of input.content.split('\n')) {
      if (line.trim() === '') continue;
      const item = JSON.parse(line) as { custom_id: string; method: string; url: string; body: ChatRequestBody };
      if (item.url !== '/v1/chat/completions' || !Array.isArray(item.body?.messages)) {
        errors.push(JSON.stringify({ id: `batch_req_${randomBytes(6).toString('hex')}`, custom_id: item.custom_id, response: null, error: { code: 'invalid_request', message: 'Bad line.' } }));
        continue;
      }
      const body = completion(item.body);
      output.push(
        JSON.stringify({
          id: `batch_req_${randomBytes(6).toString('hex')}`,
          custom_id: item.custom_id,
          response: { status_code: 200, request_id: `req_${randomBytes(6).toString('hex')}`, body },
          error: null,
        }),
      );
    }
    const out: StoredFile = { id: `file-${randomBytes(12).toString('hex')}`, filename: 'batch_output.jsonl', purpose: 'batch_output', content: output.join('\n') + '\n' };
    files.set(out.id, out);
    batch.output_file_id = out.id;
    if (errors.length > 0) {
      const error: StoredFile = { id: `file-${randomBytes(12).toString('hex')}`, filename: 'batch_errors.jsonl', purpose: 'batch_output', content: errors.join('\n') + '\n' };
      files.set(error.id, error);
      batch.error_file_id = error.id;
    }
    batch.request_counts = { total: output.length + errors.length, completed: output.length, failed: errors.length };
    batch.status = 'completed';
  }

  const server = createServer((request, response) => {
    // Stamped when the request line arrives, not when the body is read, as a rate limiter at the edge would.
    const arrivedAt = now();
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const raw = Buffer.concat(chunks);
      const url = new URL(request.url ?? '/', 'http://127.0.0.1');
      const path = url.pathname.replace(/\/+$/, '');
      log.push({ method: request.method ?? '', path, at: now() });
      const handle = async () => {
        if (request.method === 'POST' && path === '/v1/chat/completions') return chat(request, response, raw, arrivedAt);
        if (request.method === 'POST' && path === '/v1/files') return uploadFile(request, response, raw);
        if (request.method === 'POST' && path === '/v1/batches') return createBatch(response, raw);
        let match = /^\/v1\/batches\/([^/]+)$/.exec(path);
        if (request.method === 'GET' && match) {
          const batch = batches.get(match[1]!);
          if (!batch) return sendError(response, 404, `No batch ${match[1]}`, 'invalid_request_error', 'not_found');
          batch.polls += 1;
          if (batch.status === 'validating') batch.status = 'in_progress';
          else if (batch.status === 'in_progress' && batch.polls > (options.batchPolls ?? 1)) runBatch(batch);
          return sendJson(response, 200, batchObject(batch));
        }
        match = /^\/v1\/files\/([^/]+)\/content$/.exec(path);
        if (request.method === 'GET' && match) {
          const file = files.get(match[1]!);
          if (!file) return sendError(response, 404, `No file ${match[1]}`, 'invalid_request_error', 'not_found');
          response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': Buffer.byteLength(file.content) });
          response.end(file.content);
          return;
        }
        match = /^\/v1\/files\/([^/]+)$/.exec(path);
        if (request.method === 'GET' && match) {
          const file = files.get(match[1]!);
          if (!file) return sendError(response, 404, `No file ${match[1]}`, 'invalid_request_error', 'not_found');
          return sendJson(response, 200, fileObject(file));
        }
        sendError(response, 404, `Unknown route ${request.method} ${path}`, 'invalid_request_error', 'unknown_url');
      };
      handle().catch((error: unknown) => {
        if (!response.headersSent) sendError(response, 500, String(error), 'server_error', null);
      });
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    log,
    files,
    batches,
    answered: () => requests.filter((request) => request.outcome === 'ok'),
    maxInWindow(length = windowMs, outcomes) {
      const times = requests
        .filter((request) => outcomes === undefined || outcomes.includes(request.outcome))
        .map((request) => request.at)
        .sort((a, b) => a - b);
      let most = 0;
      let start = 0;
      // Half-open windows [t, t + length): a request exactly `length` after another is in the next window.
      for (let end = 0; end < times.length; end += 1) {
        while (times[end]! - times[start]! >= length) start += 1;
        most = Math.max(most, end - start + 1);
      }
      return most;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

function estimateTokens(body: ChatRequestBody): number {
  let total = 3;
  for (const message of body.messages ?? []) total += 3 + o200k.count(message.role) + o200k.count(String(message.content));
  return total + (body.max_tokens ?? body.max_completion_tokens ?? 0);
}

function sleep(ms: number) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
