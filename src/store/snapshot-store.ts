/**
 * Snapshots: a projection's state and the sequence number it is valid at (every event of the
 * entity's boundary up to and including it is folded in), keyed by projection name@version and the
 * hash of the entity's canonical boundary filter. Writes only move forward.
 */
import type { DbPool, Timing } from './db-pool.ts';
import type { JsonValue } from './filter.ts';

export interface SnapshotKey {
  projection: string;
  filterHash: string;
}

export interface Snapshot extends SnapshotKey {
  sequenceNumber: number;
  state: JsonValue;
}

export const SNAPSHOT_SQL = {
  load: `SELECT projection_type, filter_hash, sequence_number, snapshot_data
           FROM snapshots
          WHERE (projection_type, filter_hash) IN (SELECT * FROM unnest($1::text[], $2::text[]))`,
  /**
   * Forward-only upsert: the conflicting row is locked by ON CONFLICT, and the WHERE keeps the newer
   * one, so concurrent writers can never move a snapshot backwards.
   */
  upsert: `INSERT INTO snapshots (projection_type, filter_hash, sequence_number, snapshot_data)
           SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::jsonb[])
           ON CONFLICT (projection_type, filter_hash) DO UPDATE
              SET sequence_number = EXCLUDED.sequence_number, snapshot_data = EXCLUDED.snapshot_data, created_at = now()
            WHERE snapshots.sequence_number < EXCLUDED.sequence_number`,
} as const;

const keyOf = (k: SnapshotKey) => `${k.projection}\u0000${k.filterHash}`;

export class SnapshotStore {
  async load(pool: DbPool, keys: readonly SnapshotKey[], timing?: Timing): Promise<Map<string, Snapshot>> {
    const out = new Map<string, Snapshot>();
    if (keys.length === 0) return out;
    const r = await pool.query<{ projection_type: string; filter_hash: string; sequence_number: string; snapshot_data: JsonValue }>(
      'snapshot_load',
      SNAPSHOT_SQL.load,
      [keys.map((k) => k.projection), keys.map((k) => k.filterHash)],
      timing,
    );
    for (const row of r.rows) {
      const s: Snapshot = { projection: row.projection_type, filterHash: row.filter_hash, sequenceNumber: Number(row.sequence_number), state: row.snapshot_data };
      out.set(keyOf(s), s);
    }
    return out;
  }

  get(map: Map<string, Snapshot>, key: SnapshotKey): Snapshot | undefined {
    return map.get(keyOf(key));
  }

  /** Returns how many rows moved forward (0 when an equal or newer snapshot was already there). */
  async save(pool: DbPool, snapshots: readonly Snapshot[], timing?: Timing): Promise<number> {
    if (snapshots.length === 0) return 0;
    // Sorted so that two writers of the same keys lock rows in the same order (no deadlock).
    const sorted = [...snapshots].sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : 1));
    const r = await pool.query(
      'snapshot_save',
      SNAPSHOT_SQL.upsert,
      [sorted.map((s) => s.projection), sorted.map((s) => s.filterHash), sorted.map((s) => s.sequenceNumber), sorted.map((s) => JSON.stringify(s.state))],
      timing,
    );
    return r.rowCount ?? 0;
  }
}
