import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['tests/unit/**/*.test.ts'],
          environment: 'node',
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['tests/integration/**/*.test.ts'],
          environment: 'node',
          testTimeout: 180_000,
          hookTimeout: 180_000,
          // Integration tests load real models; on a 2-core machine running them one file at a
          // time keeps timings sane and memory bounded.
          fileParallelism: false,
        },
      },
      {
        // `npm run test:native-fallback`: builds node-llama-cpp from source (tens of minutes)
        test: {
          name: 'native-fallback',
          include: ['tests/native-fallback/**/*.test.ts'],
          environment: 'node',
          testTimeout: 180_000,
          hookTimeout: 3_600_000,
        },
      },
    ],
  },
});
