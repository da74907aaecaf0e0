/** Seed 004 test 5: autovacuum and track_counts on, per-table settings, and when autovacuum will next trigger (primary). */
import { asStatus, defineCheck, rows, worst, type CheckOutcome } from './check.ts';

/** The server's autovacuum settings (as SHOW prints them) and every per-table storage parameter set. */
export interface AutovacuumSettingsFigures {
  autovacuum: string;
  naptime: string;
  vacuumScaleFactor: string;
  analyzeScaleFactor: string;
  perTable: Array<{ table: string; name: string; value: string }>;
}

export const autovacuumSettings = defineCheck({
  id: 'autovacuum_settings',
  title: 'autovacuum settings',
  sources: ['05_autovacuum_settings.sql', '05_autovacuum_triggers.sql'],
  async run(s): Promise<CheckOutcome<AutovacuumSettingsFigures>> {
    const settings = await rows(s.primary, '05_autovacuum_settings.sql');
    const triggers = await rows(s.primary, '05_autovacuum_triggers.sql');
    const get = (name: string) => settings.find((r) => r.scope === 'server' && r.name === name)?.value;
    // scope is 'server' or 'table:<name>'.
    const perTable = settings
      .filter((r) => r.scope !== 'server')
      .map((r) => ({ table: String(r.scope).slice(6), name: String(r.name), value: String(r.value) }));
    const next = triggers.map(
      (t) =>
        `${String(t.table_name)}: vacuum at ${String(t.vacuum_trigger_dead_rows)} dead (now ${String(t.n_dead_tup ?? 0)}) or ${String(t.vacuum_trigger_inserted_rows)} inserted (now ${String(t.n_ins_since_vacuum ?? 0)}), analyze at ${String(t.analyze_trigger_changed_rows)} changed (now ${String(t.n_mod_since_analyze ?? 0)})`,
    );
    return {
      status: worst(settings.map((r) => asStatus(r.status))),
      figures: {
        autovacuum: String(get('autovacuum')),
        naptime: String(get('autovacuum_naptime')),
        vacuumScaleFactor: String(get('autovacuum_vacuum_scale_factor')),
        analyzeScaleFactor: String(get('autovacuum_analyze_scale_factor')),
        perTable,
      },
      value: null,
      threshold: 'good: autovacuum and track_counts on and not disabled on a table; warning otherwise',
      nodes: ['primary'],
      details: [...settings, ...triggers],
      notes: next,
    };
  },
});
