/**
 * The `llm` stage: sends the distilled document, delimited as data, to the
 * chat model through the official `openai` SDK. With no API key, or with
 * `dryRun`, nothing goes on the network: the record shows the request that
 * would have been sent and what it would cost.
 */
import OpenAI from 'openai';
import type { DistillDocument } from '../src/document.js';
import { invalidOption } from '../src/errors.js';
import { costOf, type ModelPrice } from '../src/pricing.js';
import { buildMessages, countPromptTokens, type ChatMessage } from '../src/prompt.js';
import type { Stage, StageContext } from '../src/stage.js';

/** The part of the OpenAI client the stage uses, so tests and embedders can inject one. */
export type ChatClient = Pick<OpenAI, 'chat'>;

export interface CallModelOptions {
  /** The chat model. @default context.model, else 'gpt-4o' */
  model?: string;
  /** Upper bound on the answer's tokens; also what cost estimates assume. @default 1024 */
  maxTokens?: number;
  temperature?: number;
  /** Record the request and its estimated cost, send nothing. @default false (true when no API key) */
  dryRun?: boolean;
  /** @default process.env.OPENAI_API_KEY */
  apiKey?: string;
  /** @default process.env.OPENAI_BASE_URL */
  baseURL?: string;
  /** Per-request timeout in milliseconds. @default 120000 */
  timeoutMs?: number;
  prices?: Record<string, ModelPrice>;
  /** An OpenAI client to use instead of one built from `apiKey`/`baseURL`. */
  client?: ChatClient;
}

export interface LlmRecord {
  dryRun: boolean;
  cached: boolean;
  model: string;
  /** Dollars for this document: actual usage when sent, the estimate with `max_tokens` in a dry run; null for an unpriced model. */
  costUsd: number | null;
  attempts: number;
  estimated?: boolean;
}

declare module '../src/document.js' {
  interface DataMap {
    llm?: LlmRecord;
  }
}

export function callModel(options: CallModelOptions = {}): Stage {
  const maxTokens = options.maxTokens ?? 1024;
  if (!Number.isInteger(maxTokens) || maxTokens < 1) throw invalidOption('maxTokens', 'a positive integer', options.maxTokens);
  const timeoutMs = options.timeoutMs ?? 120_000;
  if (!(timeoutMs > 0)) throw invalidOption('timeoutMs', 'a positive number', options.timeoutMs);
  const apiKey = options.apiKey ?? process.env.OPENAI_API_KEY;
  const baseURL = options.baseURL ?? process.env.OPENAI_BASE_URL;
  const dryRun = options.dryRun ?? (options.client === undefined && !apiKey);
  let client = options.client;

  return {
    name: 'llm',
    async run(doc: DistillDocument, context: StageContext) {
      const model = options.model ?? context.model ?? 'gpt-4o';
      const messages: ChatMessage[] = buildMessages(context.task, doc.value, doc.source);
      const request = { model, messages, max_tokens: maxTokens, ...(options.temperature === undefined ? {} : { temperature: options.temperature }) };
      doc.data.request = request;
      if (dryRun) {
        const promptTokens = countPromptTokens(messages, context.tokenizer);
        doc.data.llm = {
          dryRun: true,
          cached: false,
          model,
          costUsd: costOf(model, { promptTokens, completionTokens: maxTokens }, optionsOf(options.prices)),
          attempts: 0,
          estimated: true,
        };
        return;
      }
      // Our own policy owns retries, so the SDK's are off.
      client ??= new OpenAI({ apiKey: apiKey ?? '', ...(baseURL ? { baseURL } : {}), maxRetries: 0, timeout: timeoutMs });
      const completion = await client.chat.completions.create(request, context.signal ? { signal: context.signal } : {});
      const usage = {
        promptTokens: completion.usage?.prompt_tokens ?? 0,
        cachedTokens: completion.usage?.prompt_tokens_details?.cached_tokens ?? 0,
        completionTokens: completion.usage?.completion_tokens ?? 0,
      };
      doc.data.response = completion.choices[0]?.message.content ?? '';
      doc.data.usage = usage;
      doc.data.llm = { dryRun: false, cached: false, model, costUsd: costOf(model, usage, optionsOf(options.prices)), attempts: 1 };
    },
  };
}

function optionsOf(prices: Record<string, ModelPrice> | undefined) {
  return prices ? { prices } : {};
}
