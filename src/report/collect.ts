/**
 * What the HTML report shows, gathered record by record (a run's records
 * as they are written, or a JSONL file read back), so a run of any size
 * is never held in memory whole: the totals are sums, each document keeps
 * one table row, and its document view is kept gzipped.
 */
import { gzipSync } from 'node:zlib';
import type { SpendAlert } from '../alerts.js';
import { batchDiscount, priceOf, defaultPrices, type ModelPrice } from '../pricing.js';
import type { DistillRecord } from '../record.js';
import { redactKnown, redactSecrets } from '../redact.js';
import { RunSummary } from '../summary.js';
import type { LlmRecord, LlmSummary } from '../../stages/llm.js';

/** One row of the documents table: source, status, kind, tokens in, tokens out, cost (USD or null), cached (0/1), error. */
export type DocumentRow = [source: string, status: string, kind: string, tokensIn: number, tokensOut: number, costUsd: number | null, cached: 0 | 1, error: string];

export interface TagTotals {
  documents: number;
  tokensOriginal: number;
  tokensDistilled: number;
  originalUsd: number;
  distilledUsd: number;
}

/** Model-call figures; `null` where the records cannot tell (rate-limit waits live in the run, not in a record). */
export interface CallStats {
  dryRun: boolean;
  /** Documents that reached the llm stage. */
  documents: number;
  requests: number;
  cacheHits: number;
  retries: number;
  failed: number;
  rateLimitWaitMs: number | null;
  rateLimitPauses: number | null;
  batchJobs: number;
  batchQueued: number;
  spentUsd: number;
  estimatedUsd: number;
}

export interface ReportData {
  title: string;
  generatedAt: string;
  model: string;
  task: string | undefined;
  documents: number;
  statuses: Record<string, number>;
  /** Tokens as loaded, then after each stage. */
  funnel: { label: string; tokens: number }[];
  dollars: {
    /** At list prices, every prompt sent whole or distilled. */
    withoutUsd: number | null;
    withUsd: number | null;
    /** At the prices that applied (batch, cached prompt tokens), when any did; else null. */
    appliedWithoutUsd: number | null;
    appliedWithUsd: number | null;
    batchDocuments: number;
    cachedPromptTokens: number;
  };
  calls: CallStats;
  /** Tokens removed, by regex rule, classifier label and sections cut, most first. */
  savings: { rule: string; hits: number; tokens: number }[];
  /** Sections labelled but not removed, by label. */
  priors: [string, number][];
  /** Tag key → tag value → totals; a document without the key counts under "(none)". */
  tags: Record<string, Record<string, TagTotals>>;
  alerts: SpendAlert[];
  rows: DocumentRow[];
  /** Per row: its document view, gzipped JSON in base64 ('' for none). */
  views: string[];
}

export interface CollectOptions {
  title?: string;
  /** Strings never to show (the API key): removed from every text in the report. */
  secrets?: readonly (string | undefined)[];
  /** Price overrides of the run, for the batch and cached figures. */
  prices?: Record<string, ModelPrice>;
}

/** The view of one document, as the page's script reads it. */
export interface DocumentView {
  source: string;
  status: string;
  tags: Record<string, string>;
  distilled: string;
  /** The chat messages sent, or that would be sent. */
  prompt: { role: string; content: string }[] | null;
  messages: { origin: string; reason: string }[];
  spans: DistillRecord['spans'] | null;
}

const none = '(none)';

export class ReportCollector {
  readonly #summary = new RunSummary();
  readonly #options: CollectOptions;
  readonly #rows: DocumentRow[] = [];
  readonly #views: string[] = [];
  readonly #tags = new Map<string, Map<string, TagTotals>>();
  readonly #batchIds = new Set<string>();
  #task: string | undefined;
  #calls: CallStats = { dryRun: false, documents: 0, requests: 0, cacheHits: 0, retries: 0, failed: 0, rateLimitWaitMs: null, rateLimitPauses: null, batchJobs: 0, batchQueued: 0, spentUsd: 0, estimatedUsd: 0 };
  #dollars = { appliedWithoutUsd: 0 as number | null, appliedWithUsd: 0 as number | null, batchDocuments: 0, cachedPromptTokens: 0 };

  constructor(options: CollectOptions = {}) {
    this.#options = options;
    this.#summary.prices = options.prices;
  }

  add(record: DistillRecord): void {
    this.#summary.add(record);
    const llm = record.llm as LlmRecord | undefined;
    const text = (value: string) => redactSecrets(value, this.#options.secrets ?? []);
    this.#rows.push([
      text(record.source),
      record.status,
      record.format,
      record.tokens.original,
      record.tokens.distilled,
      record.status === 'ok' ? record.cost.distilledUsd : null,
      llm?.cached ? 1 : 0,
      text(record.error ?? ''),
    ]);
    this.#views.push(this.#view(record));
    this.#task ??= taskOf(record);
    this.#addTags(record);
    this.#addCall(record, llm);
  }

  /** Everything the page shows. `llm` is the run's own model-call summary, when the report is made at the end of a run. */
  data(extra: { llm?: LlmSummary; alerts?: SpendAlert[]; title?: string } = {}): ReportData {
    const summary = this.#summary;
    const stages = [...summary.stages.values()];
    const funnel = stages.length === 0 ? [] : [{ label: 'as loaded', tokens: stages[0]!.tokensIn }, ...stages.map((stage) => ({ label: stage.stage, tokens: stage.tokensOut }))];
    const savings = stages
      .flatMap((stage) => [...stage.rules].map(([rule, totals]) => ({ rule, hits: totals.hits, tokens: totals.tokensRemoved })))
      .sort((a, b) => b.tokens - a.tokens || a.rule.localeCompare(b.rule));
    const applied = this.#dollars.batchDocuments > 0 || this.#dollars.cachedPromptTokens > 0;
    const tags: ReportData['tags'] = {};
    for (const [key, values] of this.#tags) {
      const totals = Object.fromEntries(values);
      // Documents without this key are what is left of the run's totals.
      const counted = Object.values(totals).reduce((sum, entry) => sum + entry.documents, 0);
      if (counted < summary.documents) totals[none] = this.#remainder(values);
      tags[key] = totals;
    }
    return {
      title: extra.title ?? this.#options.title ?? 'distill report',
      generatedAt: new Date().toISOString(),
      model: summary.model || 'gpt-4o',
      task: this.#task,
      documents: summary.documents,
      statuses: { ...summary.statuses },
      funnel,
      dollars: {
        withoutUsd: summary.originalUsd,
        withUsd: summary.distilledUsd,
        appliedWithoutUsd: applied ? this.#dollars.appliedWithoutUsd : null,
        appliedWithUsd: applied ? this.#dollars.appliedWithUsd : null,
        batchDocuments: this.#dollars.batchDocuments,
        cachedPromptTokens: this.#dollars.cachedPromptTokens,
      },
      calls: extra.llm ? callsFromRun(extra.llm, this.#calls) : { ...this.#calls, batchJobs: this.#batchIds.size },
      savings,
      priors: [...summary.priors].sort((a, b) => b[1] - a[1]),
      tags,
      alerts: extra.alerts ?? [],
      rows: this.#rows,
      views: this.#views,
    };
  }

  #view(record: DistillRecord): string {
    const request = record.request as { messages?: { role: string; content: string }[] } | undefined;
    const view: DocumentView = {
      source: record.source,
      status: record.status,
      tags: record.tags ?? {},
      distilled: record.distilled,
      prompt: Array.isArray(request?.messages) ? request.messages.map(({ role, content }) => ({ role, content })) : null,
      messages: record.messages.map(({ origin, reason }) => ({ origin, reason })),
      spans: record.spans ?? null,
    };
    // Documents keep key-shaped examples (they are content); the key itself goes, as from every record written.
    return gzipSync(redactKnown(JSON.stringify(view), this.#options.secrets ?? [])).toString('base64');
  }

  #addTags(record: DistillRecord): void {
    for (const [key, value] of Object.entries(record.tags ?? {})) {
      let values = this.#tags.get(key);
      if (!values) this.#tags.set(key, (values = new Map()));
      let totals = values.get(value);
      if (!totals) values.set(value, (totals = { documents: 0, tokensOriginal: 0, tokensDistilled: 0, originalUsd: 0, distilledUsd: 0 }));
      addTo(totals, record);
    }
  }

  #remainder(values: Map<string, TagTotals>): TagTotals {
    const summary = this.#summary;
    const rest = { documents: summary.documents, tokensOriginal: summary.tokensOriginal, tokensDistilled: summary.tokensDistilled, originalUsd: summary.originalUsd ?? 0, distilledUsd: summary.distilledUsd ?? 0 };
    for (const totals of values.values()) {
      rest.documents -= totals.documents;
      rest.tokensOriginal -= totals.tokensOriginal;
      rest.tokensDistilled -= totals.tokensDistilled;
      rest.originalUsd -= totals.originalUsd;
      rest.distilledUsd -= totals.distilledUsd;
    }
    return rest;
  }

  #addCall(record: DistillRecord, llm: LlmRecord | undefined): void {
    const dollars = this.#dollars;
    const usage = record.usage as { cachedTokens?: number } | undefined;
    const batch = llm?.batch !== undefined;
    const cached = usage?.cachedTokens ?? 0;
    const price = priceOf(record.cost.model, { ...defaultPrices, ...this.#options.prices });
    const factor = batch ? batchDiscount : 1;
    if (batch) dollars.batchDocuments++;
    dollars.cachedPromptTokens += cached;
    dollars.appliedWithoutUsd = price && dollars.appliedWithoutUsd !== null ? dollars.appliedWithoutUsd + (factor * record.cost.originalPromptTokens * price.input) / 1e6 : null;
    if (record.status === 'ok') {
      const withUsd = price ? (factor * ((record.cost.distilledPromptTokens - cached) * price.input + cached * price.cachedInput)) / 1e6 : null;
      dollars.appliedWithUsd = withUsd !== null && dollars.appliedWithUsd !== null ? dollars.appliedWithUsd + withUsd : null;
    }
    if (!llm) return;
    const calls = this.#calls;
    calls.documents++;
    calls.dryRun ||= llm.dryRun;
    calls.requests += llm.attempts;
    calls.retries += Math.max(0, llm.attempts - 1);
    if (llm.cached) calls.cacheHits++;
    if (record.status === 'error') calls.failed++;
    if (llm.batch?.batchId) this.#batchIds.add(llm.batch.batchId);
    if (llm.batch?.state === 'queued') calls.batchQueued++;
    if (llm.estimated || llm.dryRun) calls.estimatedUsd += llm.costUsd ?? 0;
    else calls.spentUsd += llm.costUsd ?? 0;
  }
}

function addTo(totals: TagTotals, record: DistillRecord): void {
  totals.documents++;
  totals.tokensOriginal += record.tokens.original;
  totals.tokensDistilled += record.tokens.distilled;
  totals.originalUsd += record.cost.originalUsd ?? 0;
  if (record.status === 'ok') totals.distilledUsd += record.cost.distilledUsd ?? 0;
}

/** The task, read back from the request a record carries (`Task: …` opens the user message). */
function taskOf(record: DistillRecord): string | undefined {
  const request = record.request as { messages?: { role: string; content: string }[] } | undefined;
  const user = request?.messages?.find((message) => message.role === 'user')?.content;
  return user ? /^Task: (.*)$/m.exec(user)?.[1] : undefined;
}

/** The run's own figures: it saw the rate-limit waits and every HTTP attempt, which records do not carry. */
function callsFromRun(llm: LlmSummary, fromRecords: CallStats): CallStats {
  return {
    dryRun: llm.dryRun,
    documents: llm.documents,
    requests: llm.requests,
    cacheHits: llm.cacheHits,
    retries: llm.retries,
    failed: llm.failed,
    rateLimitWaitMs: llm.rateLimit.waitedMs,
    rateLimitPauses: llm.rateLimit.pauses,
    batchJobs: llm.batches.length,
    batchQueued: fromRecords.batchQueued,
    spentUsd: llm.spentUsd,
    estimatedUsd: llm.estimatedUsd,
  };
}
