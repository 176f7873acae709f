import { describe, expect, it } from 'vitest';
import { costOf, formatUsd, priceOf } from '../src/pricing.js';
import { buildMessages, countPromptTokens } from '../src/prompt.js';
import { o200k } from '../src/tokens.js';

describe('pricing', () => {
  it.each([
    ['gpt-4o', 1_000_000, 0, 0, 2.5],
    ['gpt-4o', 1_000_000, 1_000_000, 0, 1.25],
    ['gpt-4o-mini', 2_000_000, 0, 1_000_000, 0.9],
    ['gpt-4.1', 1_000_000, 500_000, 100_000, 1 + 0.25 + 0.8],
    ['gpt-4.1-nano', 1_000_000, 0, 1_000_000, 0.5],
  ])('prices %s: %d prompt (%d cached), %d completion', (model, promptTokens, cachedTokens, completionTokens, expected) => {
    expect(costOf(model, { promptTokens, cachedTokens, completionTokens })).toBeCloseTo(expected, 10);
  });

  it('bills batch runs at half price', () => {
    expect(costOf('gpt-4o', { promptTokens: 1_000_000 }, { batch: true })).toBeCloseTo(1.25, 10);
  });

  it('prices a dated snapshot like its family, and an unknown model as unknown, never $0', () => {
    expect(priceOf('gpt-4o-2024-08-06')).toEqual(priceOf('gpt-4o'));
    expect(priceOf('gpt-4o-mini-2024-07-18')).toEqual(priceOf('gpt-4o-mini'));
    expect(costOf('claude-9', { promptTokens: 10 })).toBeNull();
    expect(formatUsd(null)).toBe('unknown');
  });

  it('lets config prices override and extend the table', () => {
    const prices = { 'gpt-4o': { input: 5, cachedInput: 2.5, output: 15 }, 'my-model': { input: 1, cachedInput: 1, output: 1 } };
    expect(costOf('gpt-4o', { promptTokens: 1_000_000 }, { prices })).toBeCloseTo(5, 10);
    expect(costOf('my-model', { promptTokens: 1_000_000 }, { prices })).toBeCloseTo(1, 10);
  });

  it('counts prompt tokens as the document plus a fixed wrapping, so shorter text always costs less', () => {
    const long = countPromptTokens(buildMessages('task', 'word '.repeat(100), 'a.txt'), o200k);
    const short = countPromptTokens(buildMessages('task', 'word '.repeat(10), 'a.txt'), o200k);
    expect(long - short).toBe(o200k.count('word '.repeat(100)) - o200k.count('word '.repeat(10)));
  });
});
