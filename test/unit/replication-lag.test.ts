/** Replication lag has one definition (src/cluster/replication-lag.ts); the health SQL restates it for psql users. */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPLICATION_LAG_SQL, replicationLagFromRows } from '../../src/cluster/replication-lag.ts';

const squash = (s: string) => s.replace(/\s+/g, ' ');

describe('replication lag', () => {
  it('is measured the same way by esbench health (sql/health/09_replication.sql)', () => {
    const health = squash(
      fs.readFileSync(path.resolve(import.meta.dirname, '../../sql/health/09_replication.sql'), 'utf8'),
    );
    expect(health).toContain('FROM pg_stat_replication');
    expect(squash(REPLICATION_LAG_SQL)).toContain(
      'pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::bigint AS replay_lag_bytes',
    );
    expect(health).toContain('pg_wal_lsn_diff(pg_current_wal_lsn(), r.replay_lsn)::bigint AS replay_lag_bytes');
    expect(squash(REPLICATION_LAG_SQL)).toContain('extract(epoch FROM replay_lag) * 1000');
    expect(health).toContain('extract(epoch FROM r.replay_lag) * 1000');
  });

  it('turns rows into numbers (bigint bytes arrive as strings)', () => {
    expect(
      replicationLagFromRows([
        { application_name: 'esbench_replica', state: 'streaming', replay_lag_ms: 1.5, replay_lag_bytes: '4096' },
      ]),
    ).toEqual([{ applicationName: 'esbench_replica', state: 'streaming', replayLagMs: 1.5, replayLagBytes: 4096 }]);
    expect(
      replicationLagFromRows([{ application_name: 'x', state: 'startup', replay_lag_ms: 0, replay_lag_bytes: null }])[0]
        ?.replayLagBytes,
    ).toBeNull();
  });
});
