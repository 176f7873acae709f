import type { DistillDocument, DocumentFormat, DocumentMessage, DocumentStatus, Entity, StageMetric } from './document.js';
import { costOf, type ModelPrice } from './pricing.js';
import { buildMessages, countPromptTokens } from './prompt.js';
import { redactDeep, redactSecrets } from './redact.js';
import { spanRecord, type SpanRecord } from './spans/trace.js';
import type { Tokenizer } from './tokens.js';

/**
 * The JSONL record of one input. Other tools read these fields, so they are
 * stable: add fields, never rename or remove them.
 */
export interface DistillRecord {
  id: string;
  source: string;
  format: DocumentFormat;
  status: DocumentStatus;
  /** Why the document is not ok: the first fatal message, or the skip reason. */
  error?: string;
  /** What the user can do about `error`. */
  fix?: string;
  messages: DocumentMessage[];
  stages: StageMetric[];
  /** The text that is, or would be, sent as the document. */
  distilled: string;
  tokens: { original: number; distilled: number };
  /** Prompt cost of sending the original document against the distilled one, same prompt around both. */
  cost: { model: string; originalUsd: number | null; distilledUsd: number | null; originalPromptTokens: number; distilledPromptTokens: number };
  entities?: Entity[];
  entityDigest?: unknown;
  labels?: unknown;
  /** Sections the regex stage labelled (quoted, signature, legal, footer, navigation), by section id: priors, not deletions. */
  priors?: Record<string, { label: string; origin: string }>;
  classification?: unknown;
  selection?: unknown;
  request?: unknown;
  response?: string;
  usage?: unknown;
  llm?: unknown;
  metadata?: Record<string, unknown>;
  /** Labels to group costs by (`--tag`, a JSONL line's `tags`, the folder); absent when there are none. */
  tags?: Record<string, string>;
  /** Span provenance, only with `spans: true` (`--report`, `--spans`): what removed each part of the document as loaded. */
  spans?: SpanRecord;
}

/** Data keys stages leave on the document that belong in the record. */
const recordedData = ['entities', 'entityDigest', 'labels', 'priors', 'classification', 'selection', 'request', 'response', 'usage', 'llm'] as const;

export interface RecordOptions {
  task: string;
  model: string;
  tokenizer: Tokenizer;
  prices?: Record<string, ModelPrice>;
}

export function toRecord(doc: DistillDocument, options: RecordOptions): DistillRecord {
  const { tokenizer, model, task } = options;
  const distilled = doc.status === 'ok' ? doc.value : '';
  const problem = doc.messages.find((message) => message.fatal) ?? (doc.status === 'skipped' ? doc.messages.at(-1) : undefined);
  const original = typeof doc.data.originalTokens === 'number' ? doc.data.originalTokens : tokenizer.count(doc.original);
  const distilledTokens = doc.stages.at(-1)?.tokensOut ?? tokenizer.count(distilled);
  const counted = doc.data.originalPromptTokens;
  const originalPromptTokens = counted?.task === task ? counted.tokens : countPromptTokens(buildMessages(task, doc.original, doc.source), tokenizer);
  const distilledPromptTokens = countPromptTokens(buildMessages(task, distilled, doc.source), tokenizer);
  const pricing = options.prices ? { prices: options.prices } : {};
  const record: DistillRecord = {
    id: doc.id,
    source: doc.source,
    format: doc.format,
    status: doc.status,
    // Messages quote what loaders and servers said, which may echo a key: nothing key-shaped is written out.
    ...(problem ? { error: redactSecrets(problem.reason), ...(problem.fix ? { fix: redactSecrets(problem.fix) } : {}) } : {}),
    messages: redactDeep(doc.messages),
    stages: doc.stages,
    distilled,
    tokens: { original, distilled: doc.status === 'ok' ? distilledTokens : 0 },
    cost: {
      model,
      originalUsd: costOf(model, { promptTokens: originalPromptTokens }, pricing),
      distilledUsd: costOf(model, { promptTokens: distilledPromptTokens }, pricing),
      originalPromptTokens,
      distilledPromptTokens,
    },
  };
  for (const key of recordedData) {
    const value = doc.data[key];
    if (value !== undefined) (record as unknown as Record<string, unknown>)[key] = key === 'response' || key === 'llm' ? redactDeep(value) : value;
  }
  if (Object.keys(doc.metadata).length > 0) record.metadata = doc.metadata;
  if (Object.keys(doc.tags).length > 0) record.tags = doc.tags;
  if (doc.data.spans && doc.status === 'ok') record.spans = spanRecord(doc.data.spans, doc.original);
  return record;
}
