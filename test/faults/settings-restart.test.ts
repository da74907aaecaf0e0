/**
 * A setting that needs a restart (pg_settings.context = postmaster): applied with ALTER SYSTEM, the node
 * restarted through EmbeddedCluster.restart, verified in pg_settings, and restored (with another restart)
 * from the journal. Its own cluster: restarts would disturb the shared one. (Not max_prepared_transactions or
 * max_connections: a standby must have at least the primary's value, so raising them on the primary alone stops
 * the replica's replay.)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applySettings, restoreSettings, type SettingsNode } from '../../src/tuner/settings.ts';
import { startFaultCluster, type FaultCluster } from './fault-cluster.ts';

let fc: FaultCluster;
let dir: string;
beforeAll(async () => {
  fc = await startFaultCluster('settings');
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'esb-restart-'));
});
afterAll(async () => {
  await fc?.destroy();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function setting(url: string, name: string): Promise<{ setting: string; pending_restart: boolean }> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<{ setting: string; pending_restart: boolean }>('SELECT setting, pending_restart FROM pg_settings WHERE name = $1', [name])).rows[0]!;
  } finally {
    await c.end();
  }
}

describe('settings that need a restart', () => {
  it('restarts the node to apply and again to restore, verified in pg_settings', { timeout: 240_000 }, async () => {
    const restarts: SettingsNode[] = [];
    const target = {
      primaryUrl: fc.primaryUrl,
      replicaUrl: fc.replicaUrl,
      restart: async (node: SettingsNode) => {
        restarts.push(node);
        await fc.cluster.restart(node);
      },
    };
    const journal = path.join(dir, 'journal.json');
    const before = await setting(fc.primaryUrl, 'max_files_per_process');
    const wanted = String(Number(before.setting) - 10);
    await applySettings(target, { primary: { max_files_per_process: wanted } }, journal);
    expect(restarts).toEqual(['primary']);
    expect(await setting(fc.primaryUrl, 'max_files_per_process')).toEqual({ setting: wanted, pending_restart: false });
    await restoreSettings(target, journal);
    expect(restarts).toEqual(['primary', 'primary']);
    expect((await setting(fc.primaryUrl, 'max_files_per_process')).setting).toBe(before.setting);
    // The replica streams again after the restarts.
    const r = await setting(fc.replicaUrl, 'max_files_per_process');
    expect(r.setting).toBeDefined();
  });
});
