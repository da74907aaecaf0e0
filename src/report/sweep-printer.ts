/** The summary of a sweep (sweep.json already saved): levels with CIs, comparisons, recommendation, drift, power. */
import type { SweepResult } from '../tuner/sweep.ts';
import type { Estimate } from '../analysis/statistics.ts';

const ci = (e: Estimate | null, digits = 1) => (e === null ? '-' : `${e.estimate.toFixed(digits)} [${e.lo.toFixed(digits)}, ${e.hi.toFixed(digits)}]`);
const p = (x: number) => (x < 0.001 ? '<0.001' : x.toFixed(3));

export function printSweep(r: SweepResult, file: string): string {
  const out: string[] = [];
  const plan = r.plan;
  out.push(
    `esbench sweep${r.partial ? ' (PARTIAL: interrupted; `--resume` continues it)' : ''}: ${plan.levels.length} levels × ${plan.repeats} repeats at ${plan.rate} req/s, ` +
      `${plan.durationMs / 1000}s measured after ${plan.warmupMs / 1000}s warm-up per trial; ${r.ran} trials run now, ${r.reused} reused`,
  );
  out.push('');
  out.push('Per level — client latency (load generator), median over trials with a 95 % bootstrap CI; n = trials:');
  out.push('level | n | p50 ms | p99 ms | timeouts | achieved req/s');
  out.push('--- | --- | --- | --- | --- | ---');
  for (const l of r.levels) out.push(`${l.key}${l.key === plan.baselineKey ? ' (baseline)' : ''} | ${l.trials} | ${ci(l.p50)} | ${ci(l.p99)} | ${ci(l.timeouts, 0)} | ${ci(l.achievedRate)}`);
  if (r.comparisons.length > 0) {
    out.push('');
    out.push(`Comparisons (effect = b − a; Holm-corrected over ${r.comparisons.length}; practical = beyond ${(plan.threshold.relative * 100).toFixed(0)} % or ${plan.threshold.absoluteMs} ms):`);
    out.push('a → b | metric | test | effect [CI] | p | p adj. | verdict');
    out.push('--- | --- | --- | --- | --- | --- | ---');
    for (const c of r.comparisons) {
      const verdict = !c.significant ? 'no significant difference' : c.practical ? 'significant' : 'significant, below the practical threshold';
      out.push(`${c.a} → ${c.b} | ${c.metric} | ${c.test} | ${c.effect.toFixed(2)} [${c.ci[0].toFixed(2)}, ${c.ci[1].toFixed(2)}] | ${p(c.pValue)} | ${p(c.pAdjusted)} | ${verdict}`);
    }
  }
  out.push('');
  out.push(`Recommendation: ${r.recommendation.factor} = ${r.recommendation.value}`);
  out.push(`  ${r.recommendation.reason}`);
  if (r.recommendation.crossCheck) {
    out.push(`  Little's law: ${r.recommendation.crossCheck.littlesLaw}`);
    out.push(`  Erlang C: ${r.recommendation.crossCheck.erlangC}`);
  }
  out.push(`Drift: ${r.drift.flagged ? 'FLAGGED — ' : ''}${r.drift.note}`);
  out.push('Power:');
  for (const pw of r.power) out.push(`  ${pw.metric}: ${pw.note}`);
  if (r.settingsRestored) out.push('Database settings: restored to their originals.');
  out.push('');
  out.push(`Saved: ${file} (every trial's run.json under ${r.dir}/trials/)`);
  return `${out.join('\n')}\n`;
}
