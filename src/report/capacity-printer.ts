/** The summary of a capacity search (capacity.json already saved). */
import type { CapacityResult } from '../tuner/capacity.ts';

export function printCapacity(r: CapacityResult, file: string): string {
  const out: string[] = [];
  out.push(`esbench capacity${r.partial ? ' (PARTIAL: interrupted)' : ''}: SLO ${r.slo.join(', ')}`);
  out.push('');
  out.push('step | phase | rate req/s | trials held | p99 ms (client) | timeouts | errors | achieved req/s');
  out.push('--- | --- | --- | --- | --- | --- | --- | ---');
  r.steps.forEach((s, i) => {
    const f = (pick: (t: (typeof s.trials)[number]) => number | null, d = 1) => s.trials.map((t) => { const v = pick(t); return v === null ? '-' : v.toFixed(d); }).join(' / ');
    out.push(`${i + 1} | ${s.phase} | ${s.rate} | ${s.trials.filter((t) => t.held).length}/${s.trials.length} | ${f((t) => t.summary.p99)} | ${f((t) => t.summary.timeouts, 0)} | ${f((t) => t.summary.errors, 0)} | ${f((t) => t.summary.achievedRate)}`);
  });
  out.push('');
  out.push(
    r.maxRate === null
      ? 'Highest rate holding the SLO: none (even the lowest rate tried broke it)'
      : `Highest rate holding the SLO: ${r.maxRate} req/s — between ${r.ci.lo ?? '?'} and ${r.ci.hi ?? 'more than the highest rate tried'} req/s (${r.ci.method})`,
  );
  out.push(`Saturated first: ${r.saturation.cause}`);
  for (const e of r.saturation.evidence) out.push(`  - ${e}`);
  out.push('');
  out.push(`Saved: ${file}`);
  return `${out.join('\n')}\n`;
}
