import { describe, expect, it } from 'vitest';
import { linearityCases, linearityRatio, superlinearRatio } from '../../bench/regex-linear.js';

/**
 * Opt-in (`npm run test:timing`, run by CI on its own): every regex rule in
 * linear time on its adversarial inputs, by the ratio of CPU times at 1 MB
 * and 512 KB (bench/regex-linear.ts). A ratio of times, not a time limit,
 * but a measurement all the same, so it stays out of `npm test`.
 */
describe('regex rules on adversarial input', () => {
  it.each(linearityCases)('$name runs in linear time (1 MB vs 512 KB)', (linearityCase) => {
    expect(linearityRatio(linearityCase)).toBeLessThan(superlinearRatio);
  }, 120_000);
});
