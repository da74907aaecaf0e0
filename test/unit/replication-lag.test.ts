/** Replication lag has one definition (src/cluster/replication-lag.ts); the health SQL restates it for psql users. */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  REPLICATION_LAG_SQL,
  replayLagBytesSql,
  replayLagMsSql,
  replicationLagFromRows,
} from '../../src/cluster/replication-lag.ts';
import { buildSampleSql, type SampleSqlOptions } from '../../src/observe/sample-sql.ts';

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

  it("is the observer's primary-side figure too (sample-sql.ts), and only the replica says otherwise", () => {
    expect(squash(REPLICATION_LAG_SQL)).toContain(`${replayLagMsSql()} AS replay_lag_ms`);
    expect(squash(REPLICATION_LAG_SQL)).toContain(`${replayLagBytesSql()} AS replay_lag_bytes`);
    for (const serverVersionNum of [150000, 170000, 180000]) {
      const options: SampleSqlOptions = { serverVersionNum, inRecovery: false, pgstattupleSchema: null, controlFile: true };
      for (const sql of [buildSampleSql(options), buildSampleSql({ ...options, detail: false })]) {
        const primary = squash(sql);
        expect(primary).toContain(`${replayLagMsSql('w')} AS "replayLagMs"`);
        expect(primary).toContain(`${replayLagBytesSql('w')} AS "lagBytes"`);
        // No lag of its own beside them: with the two expressions taken out, no replay column is left.
        const rest = primary.replaceAll(replayLagMsSql('w'), '').replaceAll(replayLagBytesSql('w'), '');
        expect(rest).not.toMatch(/replay_lag|replay_lsn|pg_last_xact_replay_timestamp/);
      }
      // The replica's replay delay (its own clock) is a different figure under a different key.
      const replica = squash(buildSampleSql({ ...options, inRecovery: true }));
      expect(replica).not.toContain('replay_lag');
      expect(replica).toContain("json_build_object('replica'");
    }
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
