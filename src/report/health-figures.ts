/**
 * The one line of figures `esbench health` prints per check, from the figures the check measured
 * (src/observe/health/*: data, typed per check). One formatter per check id; the compiler makes
 * sure every check has one and that it reads what that check returns.
 */
import { ago, formatBytes, percent, shortMs } from '../core/format.ts';
import type { CheckFigures, CheckId, CheckResult } from '../observe/health-checks.ts';

const FIGURE_TEXT: { [Id in CheckId]: (f: CheckFigures[Id]) => string } = {
  vacuum_analyze: (tables) =>
    tables.map((t) => `${t.table}: vacuumed ${ago(t.vacuumAgeS)}, analyzed ${ago(t.analyzeAgeS)}`).join('; '),
  dead_tuples: (tables) =>
    tables
      .map((t) => `${t.table} ${percent(t.deadPct ?? 0)} (${String(t.deadRows)} dead / ${String(t.liveRows)} live)`)
      .join('; '),
  index_usage: (f) =>
    `${f.scanned} of ${f.indexes} indexes scanned (${f.scans.map((n) => `${n.node} ${n.scans} scans`).join(', ')})` +
    (f.unscanned.length > 0 ? `; not yet: ${f.unscanned.join(', ')}` : '') +
    (f.invalid.length > 0 ? `; INVALID: ${f.invalid.join(', ')}` : ''),
  query_plans: (probes) =>
    probes.length === 0
      ? 'no events to probe yet'
      : probes.map((p) => `${p.query}: ${p.scan} ${shortMs(p.executionMs)}`).join('; '),
  autovacuum_settings: (f) =>
    `autovacuum ${f.autovacuum}, naptime ${f.naptime}, vacuum scale ${f.vacuumScaleFactor}, analyze scale ${f.analyzeScaleFactor}` +
    (f.perTable.length > 0
      ? `; per table: ${f.perTable.map((p) => `${p.table}.${p.name}=${p.value}`).join(', ')}`
      : '; no per-table settings'),
  bloat: (f) =>
    f.tables
      .map((t) =>
        f.measured === 'pgstattuple'
          ? `${t.table} ${percent(t.bloatPct)} of ${formatBytes(t.tableBytes)} (dead ${percent(t.deadPct)}, free ${percent(t.freePct)})`
          : `${t.table} ${percent(t.bloatPct ?? 0)} dead of ${formatBytes(t.tableBytes)}`,
      )
      .join('; '),
  cache_hit: (nodes) =>
    nodes.map((n) => `${n.node} ${n.hitPct === null ? 'no reads yet' : percent(n.hitPct)}`).join(', '),
  storage: (f) =>
    [
      `database ${formatBytes(f.databaseBytes)}`,
      ...f.tables.map(
        (t) =>
          `${t.table} ~${String(t.estimatedRows)} rows, ${formatBytes(t.tableBytes)} heap + ${formatBytes(t.indexBytes)} indexes`,
      ),
      ...(f.disk ? [`disk of ${f.disk.dataDir} ${f.disk.usedPct.toFixed(0)}% used`] : []),
    ].join('; '),
  replication: (f) => {
    if (!f.replicaConfigured) {
      return f.standbys.length > 0
        ? `${f.standbys.length} standby(s) streaming from the primary; no replica URL given`
        : 'no replica configured (reads go to the primary)';
    }
    return f.standbys.length > 0
      ? f.standbys
          .map((s) => `${s.name} ${s.state}, replay lag ${shortMs(s.replayLagMs)}, ${s.replayLagBytes} bytes behind`)
          .join('; ')
      : 'not streaming';
  },
  unused_indexes: (indexes) =>
    indexes.length === 0
      ? 'none: every non-unique index was scanned on some node'
      : `${indexes.length} unused: ${indexes.map((i) => `${i.index} (${formatBytes(i.sizeBytes)})`).join(', ')}`,
  slow_queries: (f) =>
    !f.available
      ? 'pg_stat_statements unavailable: cannot tell'
      : f.slowest
        ? `slowest mean ${shortMs(f.slowest.meanMs)} over ${String(f.slowest.calls)} calls on ${f.slowest.node}: ${f.slowest.query.slice(0, 80)}`
        : 'no DML statements recorded yet',
};

function textOf<Id extends CheckId>(id: Id, figures: CheckFigures[Id]): string {
  return FIGURE_TEXT[id](figures);
}

/** A check's figures as one line; a check that could not run says why. */
export function figureText(check: CheckResult): string {
  return check.figures === null ? `could not run: ${check.error ?? 'unknown error'}` : textOf(check.id, check.figures);
}
