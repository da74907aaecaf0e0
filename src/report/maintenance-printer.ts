import { formatMs } from '../core/units.ts';
import type { MaintenanceReport } from '../store/maintenance.ts';

/** `--dry-run`: the plan as a psql-ready script, each step preceded by what it locks. */
function printDryRun(report: MaintenanceReport): string {
  const lines = ['-- esbench maintain --dry-run: nothing was run. Run on the PRIMARY, in this order, outside a transaction block.'];
  if (report.profile) lines.push(`-- autovacuum profile: ${report.profile}`);
  for (const step of report.steps) {
    lines.push('', `-- step ${step.name}: ${step.description}`, `-- locks: ${step.locks}`);
    for (const s of step.statements) lines.push(`${s.sql};`);
  }
  return `${lines.join('\n')}\n`;
}

export function printMaintenanceReport(report: MaintenanceReport): string {
  if (report.dryRun) return printDryRun(report);
  const lines = [`maintenance of database ${report.database ?? '?'} (primary)${report.profile ? `, profile ${report.profile}` : ''}`];
  for (const step of report.steps) {
    lines.push(`  ${step.name.padEnd(11)} ${step.status.padEnd(8)} ${formatMs(step.durationMs, 1).padStart(10)}   ${step.description}`);
    const width = Math.max(...step.statements.map((s) => s.sql.length), 10);
    for (const s of step.statements) {
      const figure = s.status === 'done' ? formatMs(s.durationMs, 1) : s.status;
      lines.push(`      ${s.sql.padEnd(width)}  ${figure}${s.detail ? `  (${s.detail})` : ''}`);
    }
    for (const n of step.notes) lines.push(`      note: ${n}`);
  }
  lines.push(`  total ${formatMs(report.totalMs, 1)}${report.ok ? '' : ' - with failures'}`);
  return `${lines.join('\n')}\n`;
}
