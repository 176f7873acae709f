import { defineConfig } from 'vitest/config';

/**
 * The opt-in timing suite (`npm run test:timing`): tests that measure time
 * (ratios of CPU times, real rate-limit windows). CI runs it on its own,
 * after `npm test`, which holds no timing assertion.
 */
export default defineConfig({
  test: {
    include: ['test/timing/**/*.timing.ts'],
    testTimeout: 400_000,
    hookTimeout: 120_000,
    // One file at a time: timings measured beside each other would measure each other.
    fileParallelism: false,
  },
});
