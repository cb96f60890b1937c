import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Namespace tests share host state (netns names, veths): run files one at a time.
    fileParallelism: false,
  },
});
