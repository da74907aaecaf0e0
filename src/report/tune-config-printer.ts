import { formatPgSize } from '../core/units.ts';
import type { SettingSection, TuneConfigResult } from '../tuner/memory-sizing.ts';

const SECTION_TITLES: Record<SettingSection, string> = {
  connections: 'connections',
  memory: 'memory (seed 002 sizing table)',
  wal: 'WAL and checkpoints',
  replication: 'replication',
  planner: 'planner',
  autovacuum: 'autovacuum (seed 003)',
};

/** A postgresql.conf fragment: one setting a line, each with its reason as a trailing comment. */
export function printTuneConfig(result: TuneConfigResult): string {
  const { input } = result;
  const lines = [
    `# esbench tune-config --ram ${formatPgSize(input.ramBytes)} --role ${input.role} --workload ${input.workload}` +
      (input.connections === undefined ? '' : ` --connections ${input.connections}`),
    '# Review before use: these are starting points with their reasons, not measured optima.',
  ];
  const width = Math.max(...result.settings.map((s) => `${s.name} = ${s.value}`.length)) + 2;
  let section: SettingSection | undefined;
  for (const s of result.settings) {
    if (s.section !== section) {
      section = s.section;
      lines.push('', `# --- ${SECTION_TITLES[section]}`);
    }
    lines.push(`${`${s.name} = ${s.value}`.padEnd(width)}# ${s.why}`);
  }
  if (result.notes.length > 0) {
    lines.push('');
    for (const n of result.notes) lines.push(`# note: ${n}`);
  }
  return `${lines.join('\n')}\n`;
}
