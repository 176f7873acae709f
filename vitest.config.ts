import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Tests load a real model, start worker threads and spawn the CLI; on a busy 2-core machine a single test can take
    // tens of seconds. Timeouts only catch hangs here: speed is measured by `npm run bench`, never asserted.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Hands test files a place for "service not installed" notices and prints them once each at the end.
    // Builds dist/ once, before any file runs: the CLI tests spawn bin/distill.js, which imports it.
    globalSetup: ['test/helpers/build-setup.ts', 'test/helpers/services-setup.ts'],
  },
});
