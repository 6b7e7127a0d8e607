import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Builds dist/ (npm run build:ts) once per run for the tests that load the
    // compiled package in child processes and worker threads.
    globalSetup: ['test/setup/build.ts'],
    reporters: ['default', './test/setup/summary-reporter.ts'],
  },
});
