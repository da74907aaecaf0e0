/**
 * What maintenance may name in SQL. Identifiers cannot be bound as parameters, so every table,
 * index and storage parameter in a maintenance statement comes from these fixed allow-lists.
 */
export const MAINTAINED_TABLES = ['events', 'snapshots'] as const;
export type MaintainedTable = (typeof MAINTAINED_TABLES)[number];

/** The event store's indexes (sql/schema.sql), GIN first: they are the ones seed 003/004 worried about. */
export const REINDEX_ALLOW_LIST = [
  'idx_events_payload_gin',
  'idx_events_metadata_gin',
  'idx_events_event_type',
  'idx_events_occurred_at',
  'events_pkey',
] as const;

/** Storage parameters a profile may set per table (ALTER TABLE ... SET / RESET). */
export const TABLE_PARAMETERS = [
  'autovacuum_enabled',
  'autovacuum_vacuum_threshold',
  'autovacuum_vacuum_scale_factor',
  'autovacuum_vacuum_insert_threshold',
  'autovacuum_vacuum_insert_scale_factor',
  'autovacuum_analyze_threshold',
  'autovacuum_analyze_scale_factor',
  'autovacuum_vacuum_cost_delay',
  'autovacuum_vacuum_cost_limit',
  'fillfactor',
  'vacuum_truncate',
] as const;
export type TableParameter = (typeof TABLE_PARAMETERS)[number];

export function isOneOf<T extends string>(list: readonly T[], value: string): value is T {
  return (list as readonly string[]).includes(value);
}
