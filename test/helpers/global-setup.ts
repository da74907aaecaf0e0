/**
 * Starts one real embedded primary + streaming replica for the integration tier and hands its
 * ports to the tests; each test file then creates its own database (see db.ts).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { EmbeddedCluster } from '../../src/cluster/embedded-cluster.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    cluster: { primaryPort: number; replicaPort: number; dataDir: string };
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'esbench-test-'));
  const cluster = new EmbeddedCluster({ dataDir, tuningDir: path.resolve('tuning') });
  const state = await cluster.up();
  project.provide('cluster', { primaryPort: state.ports.primary, replicaPort: state.ports.replica, dataDir });
  return async () => {
    await cluster.destroy();
  };
}
