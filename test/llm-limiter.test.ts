import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../src/llm/clock.js';
import { parseDuration, readRetryAfter, readServerLimits, SlidingWindowLimiter } from '../src/llm/limiter.js';
import { RetryPolicy } from '../src/llm/retry.js';

/** The most entries of `times` inside any half-open window [t, t + length). */
function maxInWindow(times: number[], length: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  let start = 0;
  for (let end = 0; end < sorted.length; end += 1) {
    while (sorted[end]! - sorted[start]! >= length) start += 1;
    most = Math.max(most, end - start + 1);
  }
  return most;
}

describe('SlidingWindowLimiter', () => {
  it('never lets a 60-second window hold more than rpm sends, at any boundary', async () => {
    const clock = new VirtualClock(1_000_000);
    const limiter = new SlidingWindowLimiter({ rpm: 20, clock });
    for (let index = 0; index < 100; index += 1) {
      await limiter.acquire();
      // Uneven gaps between sends, as retries and slow documents make them.
      clock.advance(index % 7 === 0 ? 1700 : 13);
    }
    const times = limiter.sendTimes;
    expect(maxInWindow(times, 60_000)).toBeLessThanOrEqual(20);
    // And it does send at the limit, not far below it.
    expect(maxInWindow(times, 60_000 + limiter.marginMs + 1)).toBe(20);
  });

  it('holds back the second burst that fixed per-minute intervals (p-queue style) would send across a minute boundary', async () => {
    const clock = new VirtualClock(59_000);
    const limiter = new SlidingWindowLimiter({ rpm: 20, clock });
    const times: number[] = [];
    const send = async () => {
      await limiter.acquire();
      times.push(clock.now());
    };
    // 20 requests at the end of one fixed minute, then 20 more asked for at the start of the next.
    for (let index = 0; index < 20; index += 1) await send();
    expect(times.at(-1)).toBe(59_000);
    clock.advance(60_000 - clock.now());
    for (let index = 0; index < 20; index += 1) await send();
    expect(maxInWindow(times, 60_000)).toBeLessThanOrEqual(20);
    // The 21st waited for the first to leave the window, not merely for the fixed minute to turn.
    expect(times[20]).toBeGreaterThanOrEqual(59_000 + 60_000);
  });

  it('counts prompt plus max_tokens against tpm', async () => {
    const clock = new VirtualClock(0);
    const limiter = new SlidingWindowLimiter({ tpm: 10_000, clock });
    const sends: { at: number; tokens: number }[] = [];
    const sizes = [4000, 3000, 2500, 4000, 1000, 6000, 500, 3500, 4200, 2000];
    for (const tokens of sizes) {
      await limiter.acquire(tokens);
      sends.push({ at: clock.now(), tokens });
      clock.advance(250);
    }
    for (const first of sends) {
      const inside = sends.filter((send) => send.at >= first.at && send.at < first.at + 60_000);
      expect(inside.reduce((sum, send) => sum + send.tokens, 0)).toBeLessThanOrEqual(10_000);
    }
    expect(clock.now()).toBeGreaterThan(60_000);
  });

  it('rejects a request larger than tpm instead of waiting forever', async () => {
    const limiter = new SlidingWindowLimiter({ tpm: 1000, clock: new VirtualClock() });
    await expect(limiter.acquire(1001)).rejects.toMatchObject({ code: 'E_LLM_TPM' });
  });

  it('holds every send until a pause ends', async () => {
    const clock = new VirtualClock(0);
    const limiter = new SlidingWindowLimiter({ rpm: 100, clock });
    limiter.pauseUntil(5000);
    await limiter.acquire();
    expect(clock.now()).toBe(5000);
    limiter.observe({ remainingRequests: 0, resetRequestsMs: 1500 });
    await limiter.acquire();
    expect(clock.now()).toBe(6500);
    limiter.observe({ remainingRequests: 3, resetRequestsMs: 9000 });
    await limiter.acquire();
    expect(clock.now()).toBe(6500);
  });

  it('draws on the remaining tokens the server reported until its reset', async () => {
    const clock = new VirtualClock(0);
    const limiter = new SlidingWindowLimiter({ clock });
    limiter.observe({ remainingTokens: 1000, resetTokensMs: 2000, remainingRequests: 50, resetRequestsMs: 500 });
    await limiter.acquire(600);
    expect(clock.now()).toBe(0);
    await limiter.acquire(600);
    expect(clock.now()).toBe(2000);
    await limiter.acquire(5000);
    expect(clock.now()).toBe(2000);
  });

  it.each([
    ['rpm', { rpm: 0 }],
    ['tpm', { tpm: -5 }],
    ['windowMs', { windowMs: 0 }],
    ['marginMs', { marginMs: -1 }],
  ])('throws a TypeError naming `%s`', (name, options) => {
    expect(() => new SlidingWindowLimiter(options)).toThrow(new RegExp(`Expected \`${name}\``));
  });
});

describe('rate-limit headers', () => {
  it.each([
    ['1s', 1000],
    ['6m0s', 360_000],
    ['20ms', 20],
    ['1.5s', 1500],
    ['1h2m3s', 3_723_000],
    ['0.250s', 250],
    ['2', 2000],
    ['soon', undefined],
    ['', undefined],
  ])('parseDuration(%j) is %j ms', (text, expected) => {
    expect(parseDuration(text)).toBe(expected);
  });

  it('prefers retry-after-ms, then retry-after seconds or date', () => {
    expect(readRetryAfter(new Headers({ 'retry-after-ms': '250', 'retry-after': '1' }), 0)).toBe(250);
    expect(readRetryAfter(new Headers({ 'retry-after': '3' }), 0)).toBe(3000);
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(readRetryAfter(new Headers({ 'retry-after': 'Thu, 01 Jan 2026 00:00:05 GMT' }), now)).toBe(5000);
    expect(readRetryAfter(new Headers({}), 0)).toBeUndefined();
  });

  it('reads x-ratelimit-* headers', () => {
    const headers = new Headers({
      'x-ratelimit-remaining-requests': '0',
      'x-ratelimit-reset-requests': '1.5s',
      'x-ratelimit-remaining-tokens': '1200',
      'x-ratelimit-reset-tokens': '6m0s',
    });
    expect(readServerLimits(headers)).toEqual({ remainingRequests: 0, resetRequestsMs: 1500, remainingTokens: 1200, resetTokensMs: 360_000 });
  });
});

describe('RetryPolicy', () => {
  it('draws full jitter under a capped exponential ceiling', () => {
    const high = new RetryPolicy({ baseDelayMs: 100, maxDelayMs: 1000, random: () => 0.999 });
    expect([0, 1, 2, 3, 4, 8].map((retry) => Math.round(high.delay(retry)))).toEqual([100, 200, 400, 799, 999, 999]);
    const low = new RetryPolicy({ baseDelayMs: 100, maxDelayMs: 1000, random: () => 0 });
    expect(low.delay(5)).toBe(0);
  });

  it('never retries before Retry-After', () => {
    const policy = new RetryPolicy({ baseDelayMs: 100, maxDelayMs: 1000, random: () => 0.5 });
    expect(policy.delay(0, 2500)).toBe(2500);
    expect(policy.delay(4, 10)).toBe(500);
  });

  it.each([
    ['maxRetries', { maxRetries: -1 }],
    ['baseDelayMs', { baseDelayMs: -1 }],
    ['maxDelayMs', { baseDelayMs: 100, maxDelayMs: 50 }],
  ])('throws a TypeError naming `%s`', (name, options) => {
    expect(() => new RetryPolicy(options)).toThrow(new RegExp(`Expected \`${name}\``));
  });
});
