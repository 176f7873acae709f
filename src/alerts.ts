/**
 * Spend alerts (`--alert-usd 5`, `"alerts": {"usd": [1, 5], "webhook": …}`):
 * as records come in, the run's spend is added up, and each threshold it
 * crosses is reported once: a warning on stderr, a line in the HTML
 * report, and, when a webhook URL is given, a JSON POST to it.
 *
 * Webhook URLs carry their secret in the query string (Slack, Teams,
 * generic hooks), so a URL is only ever shown as `safeUrl` gives it.
 */
import type { DistillRecord } from './record.js';
import type { LlmRecord } from '../stages/llm.js';

export interface AlertOptions {
  /** Spend thresholds in US dollars; each warns once, when the run's spend first reaches it. */
  usd?: number | number[];
  /** Where to POST a JSON payload for each threshold crossed. Never logged with its query string. */
  webhook?: string;
}

/** One threshold crossed. */
export interface SpendAlert {
  thresholdUsd: number;
  /** The run's spend when it crossed. */
  spentUsd: number;
  /** True when the spend is an estimate (a dry run or a batch not yet billed), not billed usage. */
  estimated: boolean;
  /** Documents counted when it crossed. */
  documents: number;
  /** The document whose cost crossed it. */
  source: string;
}

/**
 * What a record cost or would cost: the model call's billed dollars, or
 * its estimate in a dry run or batch (prompt plus a full `max_tokens`
 * answer); with no model call, the distilled prompt's price.
 */
export function spendOf(record: DistillRecord): { usd: number; estimated: boolean } {
  const llm = record.llm as LlmRecord | undefined;
  if (llm && llm.costUsd !== null) return { usd: llm.costUsd, estimated: llm.dryRun || llm.estimated === true };
  return { usd: record.status === 'ok' ? (record.cost.distilledUsd ?? 0) : 0, estimated: true };
}

/** Adds up spend record by record and says which thresholds each record crossed. */
export class SpendWatch {
  readonly alerts: SpendAlert[] = [];
  #thresholds: number[];
  #spent = 0;
  #estimated = false;
  #documents = 0;

  constructor(thresholds: number | readonly number[] = []) {
    this.#thresholds = [...(typeof thresholds === 'number' ? [thresholds] : thresholds)].sort((a, b) => a - b);
  }

  get spentUsd(): number {
    return this.#spent;
  }

  /** The thresholds this record took the spend past (usually none). */
  add(record: DistillRecord): SpendAlert[] {
    const { usd, estimated } = spendOf(record);
    this.#spent += usd;
    this.#estimated ||= estimated && usd > 0;
    this.#documents++;
    const crossed: SpendAlert[] = [];
    while (this.#thresholds.length > 0 && this.#spent >= this.#thresholds[0]!) {
      const alert = { thresholdUsd: this.#thresholds.shift()!, spentUsd: this.#spent, estimated: this.#estimated, documents: this.#documents, source: record.source };
      crossed.push(alert);
      this.alerts.push(alert);
    }
    return crossed;
  }
}

/** `url` without its query string, fragment or user and password: what may be logged. */
export function safeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}${parsed.search ? '?…' : ''}`;
  } catch {
    return '(an invalid URL)';
  }
}

/** The JSON a webhook receives: the alert, with what sent it, the run's model and when. */
export interface AlertPayload extends SpendAlert {
  event: 'distill.spend-alert';
  model: string;
  at: string;
}

/**
 * POST one alert. Resolves to a line fit for stderr, never the URL's query
 * string and never the error's own text (which may quote the URL).
 */
export async function postAlert(url: string, payload: AlertPayload, options: { timeoutMs?: number; fetch?: typeof fetch } = {}): Promise<string> {
  const send = options.fetch ?? fetch;
  try {
    const response = await send(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(payload),
      signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
    });
    await response.body?.cancel();
    return response.ok ? `alert posted to ${safeUrl(url)}` : `alert webhook ${safeUrl(url)} answered HTTP ${response.status}`;
  } catch (error) {
    const cause = (error as { cause?: { code?: string; errors?: { code?: string }[] } }).cause;
    const code = cause?.code ?? cause?.errors?.[0]?.code ?? (error as Error).name;
    return `alert webhook ${safeUrl(url)} failed (${code})`;
  }
}
