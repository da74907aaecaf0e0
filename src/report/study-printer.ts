/** The study's summary for a terminal: what ran, the capacity found, and the verdict table. */
import type { StudyResult } from '../study/study-result.ts';
import type { Verdict } from '../study/verdicts.ts';

const MARK: Record<Verdict['verdict'], string> = {
  holds: 'holds',
  'does not hold': 'does not hold',
  'cannot be measured here': 'cannot be measured here',
};

function fmtCi(v: Verdict): string {
  if (!v.ci) return '';
  const d = Math.abs(v.ci.hi - v.ci.lo) < 0.1 && Math.abs(v.ci.hi) < 10 ? 3 : 1;
  return ` [95% CI ${v.ci.lo.toFixed(d)}, ${v.ci.hi.toFixed(d)}${v.unit ? ` ${v.unit}` : ''}]`;
}

function wrap(text: string, width: number, indent: string): string {
  const words = text.split(' ');
  const lines: string[] = [];
  let line = '';
  for (const w of words) {
    if (line.length + w.length + 1 > width && line.length > 0) {
      lines.push(line);
      line = w;
    } else line = line ? `${line} ${w}` : w;
  }
  if (line) lines.push(line);
  return lines.map((l) => `${indent}${l}`).join('\n');
}

export function printVerdicts(verdicts: readonly Verdict[]): string {
  const out: string[] = [];
  const groups: Array<[Verdict['kind'], string]> = [
    ['criterion', "Seed 003's success criteria"],
    ['claim', "The study's claims, each factor changed alone"],
    ['esbench', "esbench's own changes"],
  ];
  for (const [kind, title] of groups) {
    const vs = verdicts.filter((v) => v.kind === kind);
    if (vs.length === 0) continue;
    out.push(`\n${title}:`);
    for (const v of vs) {
      const mark = `${MARK[v.verdict]}${v.conclusive || v.verdict === 'cannot be measured here' ? '' : ' (not conclusive)'}`;
      out.push(`  ${mark.padEnd(30)} ${v.criterion}`);
      out.push(wrap(`${v.figure}${fmtCi(v)}`, 100, '      '));
      if (v.evidence.text && v.evidence.text !== v.figure) out.push(wrap(v.evidence.text, 100, '      '));
      if (v.evidence.runs.length > 0) out.push(wrap(`runs: ${v.evidence.runs.join(' ')}`, 100, '      '));
    }
  }
  return out.join('\n');
}

export function printStudy(result: StudyResult, file: string): string {
  const out: string[] = [];
  const minutes = (Date.parse(result.finishedAt) - Date.parse(result.startedAt)) / 60_000;
  out.push(`esbench study (${result.size.mode}${result.partial ? ', PARTIAL: interrupted' : ''}) — ${minutes.toFixed(1)} min wall time`);
  out.push(
    `  machine: ${result.machine.cpus} CPUs, ${result.machine.memGiB} GiB; history ${result.history.events} events seeded (COPY) and reset to that before every trial`,
  );
  out.push(
    `  trials: ${result.trials.length} (${result.size.repeats} repetition(s) per ablation level, windows ${result.size.durationMs / 1000} s after ${result.size.warmupMs / 1000} s warm-up; rate pair windows ${result.size.pairDurationMs / 1000} s)`,
  );
  if (result.capacity) {
    const c = result.capacity;
    out.push(
      `  capacity of ${c.configuration}${c.slo ? ` (SLO ${c.slo})` : ''}: ${c.maxRate === null ? 'no rate held' : `${c.maxRate.toFixed(0)} req/s`}${c.bracket ? ` (limit between ${c.bracket[0]} and ${c.bracket[1]} req/s)` : ''}${c.saturation ? `; saturated first: ${c.saturation.cause} — ${c.saturation.evidence}` : ''}`,
    );
  }
  const p = result.pair;
  out.push(
    p.scaled
      ? `  rates: the study's ${result.studyRates.low}/${result.studyRates.high} req/s cannot be held here (${p.reason}); criteria judged at the same ratio scaled to this machine: ${p.low.toFixed(0)}/${p.high.toFixed(0)} req/s`
      : `  rates: the study's ${p.low}/${p.high} req/s`,
  );
  if (result.size.mode === 'quick') {
    out.push(`  --quick: ${result.size.repeats} repetitions and ${result.size.durationMs / 1000} s windows, so confidence intervals are wide; "(not conclusive)" marks a verdict whose CI straddles its threshold (the point estimate decides). --full runs ${'~'}450K events, longer windows and more repetitions.`);
  }
  out.push(printVerdicts(result.verdicts));
  for (const n of result.notes) out.push(wrap(`note: ${n}`, 100, ''));
  out.push(`\nsaved: ${file}`);
  return `${out.join('\n')}\n`;
}
