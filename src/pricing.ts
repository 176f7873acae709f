/**
 * Per-million-token prices in US dollars. Overridable from config, because
 * OpenAI changes them and users negotiate their own.
 */
export interface ModelPrice {
  input: number;
  cachedInput: number;
  output: number;
}

export const defaultPrices: Readonly<Record<string, ModelPrice>> = {
  'gpt-4o': { input: 2.5, cachedInput: 1.25, output: 10 },
  'gpt-4o-mini': { input: 0.15, cachedInput: 0.075, output: 0.6 },
  'gpt-4.1': { input: 2, cachedInput: 0.5, output: 8 },
  'gpt-4.1-mini': { input: 0.4, cachedInput: 0.1, output: 1.6 },
  'gpt-4.1-nano': { input: 0.1, cachedInput: 0.025, output: 0.4 },
};

/** The Batch API bills half of the synchronous price. */
export const batchDiscount = 0.5;

export interface Usage {
  promptTokens: number;
  cachedTokens?: number;
  completionTokens?: number;
}

export interface PriceOptions {
  prices?: Record<string, ModelPrice>;
  batch?: boolean;
}

/** The price table for `model`, or undefined when we do not know it. Dated snapshots (`gpt-4o-2024-08-06`) use their family's price. */
export function priceOf(model: string, prices: Record<string, ModelPrice> = defaultPrices): ModelPrice | undefined {
  if (prices[model]) return prices[model];
  const family = Object.keys(prices)
    .filter((name) => model.startsWith(`${name}-`) && /^\d{4}-\d{2}-\d{2}$/.test(model.slice(name.length + 1)))
    .sort((a, b) => b.length - a.length)[0];
  return family ? prices[family] : undefined;
}

/**
 * Dollars for `usage` on `model`; `null` for an unknown model, because a
 * cost we cannot price must never read as free.
 */
export function costOf(model: string, usage: Usage, options: PriceOptions = {}): number | null {
  const price = priceOf(model, { ...defaultPrices, ...options.prices });
  if (!price) return null;
  const cached = Math.min(usage.cachedTokens ?? 0, usage.promptTokens);
  const uncached = usage.promptTokens - cached;
  const dollars = (uncached * price.input + cached * price.cachedInput + (usage.completionTokens ?? 0) * price.output) / 1_000_000;
  return options.batch ? dollars * batchDiscount : dollars;
}

/** `$0.0123`, or `unknown` for an unpriced model. */
export function formatUsd(dollars: number | null): string {
  if (dollars === null) return 'unknown';
  if (dollars === 0) return '$0';
  if (dollars < 0.01) return `$${dollars.toFixed(5)}`;
  return `$${dollars.toFixed(dollars < 10 ? 4 : 2)}`;
}
