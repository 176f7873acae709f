import type { DocumentStatus } from './document.js';
import type { ModelPrice } from './pricing.js';
import type { DistillRecord } from './record.js';

/** Run totals, accumulated record by record so nothing is held in memory. */
export interface StageTotals {
  stage: string;
  tokensIn: number;
  tokensOut: number;
  ms: number;
  documents: number;
  rules: Map<string, { hits: number; tokensRemoved: number }>;
}

export class RunSummary {
  readonly stages = new Map<string, StageTotals>();
  readonly statuses: Record<DocumentStatus, number> = { ok: 0, skipped: 0, error: 0 };
  documents = 0;
  tokensOriginal = 0;
  tokensDistilled = 0;
  originalUsd: number | null = 0;
  distilledUsd: number | null = 0;
  model = '';
  /** Price overrides from the config, so per-stage dollars use the user's prices. */
  prices: Record<string, ModelPrice> | undefined;
  bytes = 0;
  /** Sections labelled by a task-independent rule, by label: weighed against the task by selection, not removed. */
  readonly priors = new Map<string, number>();
  readonly failures: { source: string; error: string; fix?: string; status: DocumentStatus }[] = [];
  readonly started = performance.now();

  add(record: DistillRecord): void {
    this.documents++;
    this.statuses[record.status]++;
    this.model = record.cost.model;
    this.bytes += typeof record.metadata?.bytes === 'number' ? record.metadata.bytes : 0;
    if (record.status !== 'ok') {
      this.failures.push({ source: record.source, error: record.error ?? record.status, status: record.status, ...(record.fix ? { fix: record.fix } : {}) });
    }
    this.tokensOriginal += record.tokens.original;
    this.tokensDistilled += record.tokens.distilled;
    this.originalUsd = addCost(this.originalUsd, record.cost.originalUsd);
    if (record.status === 'ok') this.distilledUsd = addCost(this.distilledUsd, record.cost.distilledUsd);
    for (const prior of Object.values(record.priors ?? {})) this.priors.set(prior.label, (this.priors.get(prior.label) ?? 0) + 1);
    for (const metric of record.stages) {
      let totals = this.stages.get(metric.stage);
      if (!totals) {
        totals = { stage: metric.stage, tokensIn: 0, tokensOut: 0, ms: 0, documents: 0, rules: new Map() };
        this.stages.set(metric.stage, totals);
      }
      if (metric.skipped) continue;
      totals.documents++;
      totals.tokensIn += metric.tokensIn;
      totals.tokensOut += metric.tokensOut;
      totals.ms += metric.ms;
      for (const rule of metric.rules ?? []) {
        const ruleTotals = totals.rules.get(rule.rule) ?? { hits: 0, tokensRemoved: 0 };
        ruleTotals.hits += rule.hits;
        ruleTotals.tokensRemoved += rule.tokensRemoved;
        totals.rules.set(rule.rule, ruleTotals);
      }
    }
  }

  get elapsedMs(): number {
    return performance.now() - this.started;
  }
}

/** An unknown price anywhere makes the total unknown: a partial sum would understate the bill. */
function addCost(total: number | null, cost: number | null): number | null {
  return total === null || cost === null ? null : total + cost;
}
