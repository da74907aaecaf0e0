/** Streaming replication as the primary sees it, the replica's own view, and inactive slots. */
import { formatBytes } from '../../core/format.ts';
import {
  asStatus,
  defineCheck,
  num,
  rows,
  thresholdText,
  worst,
  type CheckStatus,
  type Row,
  type CheckOutcome,
} from './check.ts';

/**
 * The standbys streaming from the primary (pg_stat_replication: name, state, replay lag in time and
 * bytes), and whether a replica URL was given at all.
 */
export interface ReplicationFigures {
  replicaConfigured: boolean;
  standbys: Array<{ name: string; state: string; replayLagMs: number; replayLagBytes: number }>;
}

export const replication = defineCheck({
  id: 'replication',
  title: 'replication',
  sources: ['09_replication.sql', '09_replication_slots.sql', '09_replica_status.sql'],
  async run(s): Promise<CheckOutcome<ReplicationFigures>> {
    const standbys = await rows(s.primary, '09_replication.sql');
    const slots = await rows(s.primary, '09_replication_slots.sql');
    const threshold = thresholdText(
      standbys[0],
      '09_replication.sql',
      (t) =>
        `replay lag: good <= ${String(t.good_max_ms)} ms (the study's criterion), ok <= ${String(t.ok_max_ms)} ms, warning above or not streaming; inactive slot: warning`,
    );
    const statuses: CheckStatus[] = [
      ...standbys.map((r) => asStatus(r.status)),
      ...slots.map((r) => asStatus(r.status)),
    ];
    const notes: string[] = slots
      .filter((r) => r.status === 'warning')
      .map((r) => `slot ${String(r.slot_name)} is inactive and retains ${formatBytes(r.retained_wal_bytes)} of WAL`);
    const figures: ReplicationFigures = {
      replicaConfigured: s.replicaConfigured,
      standbys: standbys.map((r) => ({
        name: String(r.application_name),
        state: String(r.state),
        replayLagMs: num(r.replay_lag_ms) ?? 0,
        replayLagBytes: num(r.replay_lag_bytes) ?? 0,
      })),
    };
    const details: Row[] = [
      ...standbys.map((r) => ({ kind: 'standby', ...r })),
      ...slots.map((r) => ({ kind: 'slot', ...r })),
    ];
    if (!s.replicaConfigured) {
      return {
        status: standbys.length > 0 ? worst(statuses) : 'ok',
        figures,
        value: null,
        threshold,
        nodes: ['primary'],
        sources: ['09_replication.sql', '09_replication_slots.sql'],
        details,
        notes,
      };
    }
    if (s.replica) {
      const [rs] = await rows(s.replica, '09_replica_status.sql');
      if (rs) {
        statuses.push(asStatus(rs.status));
        details.push({ kind: 'replica', ...rs });
        if (rs.status === 'warning')
          notes.push('the replica URL points at a server that is not in recovery (not a standby)');
      }
    } else {
      statuses.push('warning');
      notes.push(`replica unreachable: ${s.replicaError ?? 'unknown error'}`);
    }
    if (standbys.length === 0) {
      statuses.push('warning');
      notes.push('no standby is connected to the primary (pg_stat_replication is empty)');
    }
    const lags = standbys.map((r) => num(r.replay_lag_ms) ?? 0);
    return {
      status: worst(statuses),
      figures,
      value: lags.length > 0 ? Math.max(...lags) : null,
      threshold,
      nodes: s.replica ? ['primary', 'replica'] : ['primary'],
      details,
      notes,
    };
  },
});
