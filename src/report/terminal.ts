import { costOf, formatUsd } from '../pricing.js';
import type { RunSummary } from '../summary.js';
// Type-only: the report names the LLM stage's totals without loading the stage.
import type { LlmSummary } from '../../stages/llm.js';

/** Plain-text tables for the terminal: what each stage removed, and what it is worth. */

export function formatTable(header: readonly string[], rows: readonly (readonly string[])[], rightAligned: ReadonlySet<number> = new Set()): string {
  const widths = header.map((cell, index) => Math.max(cell.length, ...rows.map((row) => (row[index] ?? '').length)));
  const line = (row: readonly string[]) =>
    row
      .map((cell, index) => (rightAligned.has(index) ? cell.padStart(widths[index]!) : cell.padEnd(widths[index]!)))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n');
}

export const formatInt = (value: number) => Math.round(value).toLocaleString('en-US');

export function percent(part: number, whole: number): string {
  return whole > 0 ? `${((100 * part) / whole).toFixed(1)}%` : '-';
}

export function formatMs(ms: number): string {
  return ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`;
}

export interface ReportOptions {
  dryRun: boolean;
  /** Why it was a dry run, in the user's terms. */
  dryRunReason?: string;
  /** Lines the LLM stage adds (spent, cache savings, routing). */
  llmLines?: string[];
  /** How many rules per stage to list. @default 8 */
  topRules?: number;
}

export function formatSummary(summary: RunSummary, options: ReportOptions): string {
  const out: string[] = [];
  const first = [...summary.stages.values()][0];
  const base = first?.tokensIn ?? 0;
  // What the text entering and leaving each stage would cost as GPT input: the dollars each stage saves.
  const model = summary.model || 'gpt-4o';
  const usd = (tokens: number) => formatUsd(costOf(model, { promptTokens: tokens }, summary.prices ? { prices: summary.prices } : {}));
  const rows = [...summary.stages.values()].map((stage) => [
    stage.stage,
    formatInt(stage.documents),
    formatInt(stage.tokensIn),
    formatInt(stage.tokensOut),
    percent(stage.tokensIn - stage.tokensOut, stage.tokensIn),
    percent(base - stage.tokensOut, base),
    usd(stage.tokensIn),
    usd(stage.tokensOut),
    formatMs(stage.ms),
  ]);
  out.push(formatTable(['stage', 'docs', 'tokens in', 'tokens out', 'removed', 'cumulative', `${model} in`, 'out', 'time'], rows, new Set([1, 2, 3, 4, 5, 6, 7, 8])));

  const ruleRows: string[][] = [];
  for (const stage of summary.stages.values()) {
    const rules = [...stage.rules.entries()].sort((a, b) => b[1].tokensRemoved - a[1].tokensRemoved).slice(0, options.topRules ?? 8);
    for (const [rule, totals] of rules) ruleRows.push([rule, formatInt(totals.hits), formatInt(totals.tokensRemoved), percent(totals.tokensRemoved, stage.tokensIn)]);
  }
  for (const stage of summary.stages.values()) {
    // Families are the first word of a rule's name (`regex:email-signature` → email): one line shows which kind of boilerplate paid.
    const families = new Map<string, number>();
    for (const [rule, totals] of stage.rules) {
      const match = /^[\w-]+:([a-z]+)-/.exec(rule);
      if (match) families.set(match[1]!, (families.get(match[1]!) ?? 0) + totals.tokensRemoved);
    }
    if (families.size > 1) {
      const parts = [...families.entries()].sort((a, b) => b[1] - a[1]).map(([family, tokens]) => `${family} ${formatInt(tokens)} (${percent(tokens, stage.tokensIn)})`);
      out.push('', `${stage.stage} by family: ${parts.join(', ')}`);
    }
  }
  if (summary.priors.size > 0) {
    const parts = [...summary.priors.entries()].sort((a, b) => b[1] - a[1]).map(([label, count]) => `${label} ${formatInt(count)}`);
    out.push('', `Labelled, not removed (sections the sections stage weighed against the task): ${parts.join(', ')}`);
  }
  if (ruleRows.length > 0) {
    out.push('', 'What paid (tokens removed by rule; turn one off with --disable-rule <name>):');
    out.push(formatTable(['rule', 'hits', 'tokens', 'of stage input'], ruleRows, new Set([1, 2, 3])));
  }

  out.push('');
  out.push(
    `Tokens: ${formatInt(summary.tokensOriginal)} as loaded → ${formatInt(summary.tokensDistilled)} distilled (${percent(summary.tokensOriginal - summary.tokensDistilled, summary.tokensOriginal)} removed).`,
  );
  const saved = summary.originalUsd !== null && summary.distilledUsd !== null ? summary.originalUsd - summary.distilledUsd : null;
  out.push(
    `${model} prompt cost: original ${formatUsd(summary.originalUsd)}, distilled ${formatUsd(summary.distilledUsd)}` +
      (saved === null ? ' (no price known for this model: set one under "prices" in the config file).' : `, saving ${formatUsd(saved)}.`),
  );
  for (const line of options.llmLines ?? []) out.push(line);
  if (options.dryRun) {
    out.push(`DRY RUN: nothing was sent to ${model}${options.dryRunReason ? ` (${options.dryRunReason})` : ''}. Each record's "request" shows what would be sent.`);
  }
  const { ok, skipped, error } = summary.statuses;
  const seconds = summary.elapsedMs / 1000;
  out.push(`${formatInt(summary.documents)} document${summary.documents === 1 ? '' : 's'}: ${ok} ok, ${skipped} skipped, ${error} error, in ${seconds.toFixed(1)} s.`);
  for (const failure of summary.failures.slice(0, 20)) {
    out.push(`  ${failure.status}: ${failure.source}: ${failure.error}${failure.fix ? `\n      fix: ${failure.fix}` : ''}`);
  }
  if (summary.failures.length > 20) out.push(`  … and ${summary.failures.length - 20} more (see the records' "error" field).`);
  return out.join('\n');
}

export function formatLlmLines(totals: LlmSummary): string[] {
  const lines: string[] = [];
  if (totals.dryRun) {
    lines.push(`Would spend at most ${formatUsd(totals.estimatedUsd)} on the model (prompts plus max-tokens answers).`);
    return lines;
  }
  if (totals.batch) {
    for (const batch of totals.batches) lines.push(`Batch ${batch.id} submitted${batch.requests ? ` (${batch.requests} requests)` : ''}: check it with "distill batch status ${batch.id}", then "distill batch collect ${batch.id} --out answers.jsonl".`);
    if (totals.batchPending > 0) lines.push(`${totals.batchPending} documents are already in a submitted batch and were not sent again.`);
    lines.push(`Batch estimate: at most ${formatUsd(totals.estimatedUsd)} at batch prices.`);
  }
  const retries = Object.entries(totals.retriesByCode)
    .map(([code, count]) => `${count}× ${code}`)
    .join(', ');
  lines.push(
    `Model calls: ${totals.sent} answered over the network, ${totals.cacheHits} from the cache${totals.cache ? ` (${totals.cache})` : ''}, ${totals.failed} failed; ${totals.requests} HTTP attempts, ${totals.retries} retries${retries ? ` (${retries})` : ''}.`,
  );
  if (totals.rateLimit.pauses > 0) lines.push(`Rate limits: waited ${(totals.rateLimit.waitedMs / 1000).toFixed(1)} s over ${totals.rateLimit.pauses} pauses.`);
  lines.push(`Spent ${formatUsd(totals.spentUsd)} (billed usage)${totals.unpriced > 0 ? `, plus ${totals.unpriced} documents on a model with no known price` : ''}; saved by cache ${formatUsd(totals.savedByCacheUsd)}.`);
  const models = Object.entries(totals.models);
  if (models.length > 1) lines.push(`Routing: ${models.map(([name, split]) => `${name} ${split.documents} docs ${formatUsd(split.spentUsd)}`).join(', ')}.`);
  if (totals.maxCostUsd !== null && totals.skippedByMaxCost > 0) lines.push(`--max-cost ${formatUsd(totals.maxCostUsd)} reached: ${totals.skippedByMaxCost} documents skipped, not sent.`);
  if (totals.stopped) lines.push(`STOPPED SENDING: ${totals.stopped.reason} [${totals.stopped.code}]${totals.stopped.fix ? `\n  fix: ${totals.stopped.fix}` : ''}`);
  return lines;
}

/** The per-stage and per-method tables of one measured corpus (`npm run bench`, `distill bench`). */
export function formatMeasure(result: import('../measure.js').MeasureResult): string {
  const pct = (value: number) => `${value.toFixed(1)}%`;
  const lines: string[] = [];
  lines.push(`${result.corpus}: ${result.documents} documents, ${result.megabytes.toFixed(2)} MB, budget ${result.budget ?? 'none'}`);
  lines.push(`task: "${result.task}"`);
  lines.push('');
  lines.push(
    formatTable(
      ['stage', 'docs', 'tokens in', 'tokens out', 'removed', 'cumulative', 'busy ms', 'MB/s'],
      result.stages.map((row) => [row.stage, String(row.documents), formatInt(row.tokensIn), formatInt(row.tokensOut), pct(row.removedPercent), pct(row.cumulativePercent), formatInt(row.ms), row.mbPerSecond.toFixed(2)]),
      new Set([1, 2, 3, 4, 5, 6, 7]),
    ),
  );
  lines.push('');
  const withRetention = result.methods.some((row) => row.retention !== undefined);
  lines.push(
    formatTable(
      ['method', 'tokens', 'gpt-4o prompts', 'gpt-4o-mini prompts', ...(withRetention ? ['must-keep kept'] : [])],
      result.methods.map((row) => [row.method, formatInt(row.tokens), formatUsd(row.gpt4oUsd), formatUsd(row.gpt4oMiniUsd), ...(withRetention ? [row.retention === undefined ? '-' : pct(100 * row.retention)] : [])]),
      new Set([1, 2, 3, 4]),
    ),
  );
  lines.push('');
  lines.push(
    `whole local pipeline (${result.threads} thread${result.threads === 1 ? '' : 's'}): ${result.mbPerSecond.toFixed(2)} MB/s, ${result.documentsPerSecond.toFixed(1)} docs/s, ${(result.wallMs / 1000).toFixed(1)} s wall after ${(result.readyMs / 1000).toFixed(1)} s to start threads and load models (a stage's ms is the wall time it was busy with at least one document), peak RSS ${result.peakRssMb} MB; ${result.statuses.ok ?? 0} ok, ${result.statuses.skipped ?? 0} skipped, ${result.statuses.error ?? 0} error`,
  );
  return lines.join('\n');
}
