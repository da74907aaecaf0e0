import { defineConfig } from 'vitest/config';

// Four tiers: unit (no database), integration (real embedded primary + replica started once by
// the global setup), e2e (the CLI as a user runs it), faults (each file its own cluster, which it
// crashes). `npm test` runs all four.
export default defineConfig({
  test: {
    reporters: ['default'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    teardownTimeout: 60_000,
    // Two cores: integration files share one cluster (each file has its own database).
    maxWorkers: 2,
    minWorkers: 1,
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/helpers/global-setup.ts'],
        },
      },
      { extends: true, test: { name: 'e2e', include: ['test/e2e/**/*.test.ts'] } },
      // Faults kill and stop nodes: each file starts its own cluster (no shared global setup).
      { extends: true, test: { name: 'faults', include: ['test/faults/**/*.test.ts'] } },
    ],
  },
});
