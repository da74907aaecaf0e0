import { defineConfig } from 'vitest/config';

// Tiers: unit (no database), integration (real embedded primary + replica started once by
// the global setup), e2e (the CLI as a user runs it), faults (each file its own cluster, which it
// crashes), and solo (load-sensitive, alone, last). `npm test` runs them all.
/**
 * Load-sensitive files: run after the other projects, so the rest of the suite does not take their
 * CPU. gin-pending measures latency under load; observer times a VACUUM between samples (under the
 * full parallel suite on 2 cores it once saw one VACUUM as two runs: most likely an autovacuum
 * worker visiting its table, which the test now creates with autovacuum off).
 * pool-min was here too until its failures turned out to be a bug, not load: the pool's top-up
 * borrowed idle clients instead of opening new ones (src/store/db-pool.ts, regression test in it).
 */
const SOLO_FAULTS = ['test/faults/gin-pending.test.ts'];
const SOLO_INTEGRATION = ['test/integration/observer.test.ts'];

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
          exclude: SOLO_INTEGRATION,
          globalSetup: ['test/helpers/global-setup.ts'],
        },
      },
      { extends: true, test: { name: 'e2e', include: ['test/e2e/**/*.test.ts'] } },
      // Faults kill and stop nodes: each file starts its own cluster (no shared global setup).
      { extends: true, test: { name: 'faults', include: ['test/faults/**/*.test.ts'], exclude: SOLO_FAULTS } },
      // Tests whose subject is latency under load (a GIN pending list slowing the appends) are read
      // wrongly when the rest of the suite takes the CPU: the analysis then rightly blames the busy
      // machine (seen in CI). They run after every other project, alone.
      {
        extends: true,
        test: { name: 'solo', include: SOLO_INTEGRATION, globalSetup: ['test/helpers/global-setup.ts'], sequence: { groupOrder: 1 } },
      },
      // Last and alone: its own cluster under load for about two minutes.
      { extends: true, test: { name: 'solo-load', include: SOLO_FAULTS, sequence: { groupOrder: 2 } } },
    ],
  },
});
