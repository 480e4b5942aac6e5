import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration tests start real processes, namespaces and signals: keep
    // files sequential on this 2-core machine so timing never decides a result.
    fileParallelism: false,
    reporters: ['default'],
  },
});
