/** `esbench spikes`: the spike table of a saved run and, with --against, whether they are gone. */
import type { SpikesResult } from '../analysis/saved-run-spikes.ts';
import type { Spike, SpikeCause, SpikeReport } from '../analysis/spike-types.ts';

const ms = (v: number | null | undefined): string => (v === null || v === undefined ? '-' : v >= 100 ? v.toFixed(0) : v.toFixed(1));

function when(s: Spike): string {
  // Seconds are printed 1-based, as the live line shows them.
  return s.firstSecond === s.lastSecond ? `${s.firstSecond + 1}s` : `${s.firstSecond + 1}-${s.lastSecond + 1}s`;
}

function cause(c: SpikeCause): string {
  return `${c.role ?? 'cause'}: ${c.kind}${c.node ? ` (${c.node})` : ''} — ${c.evidence}`;
}

export function printSpikeTable(r: SpikeReport, indent = '  '): string {
  const out: string[] = [];
  const d = r.detection;
  if (d) {
    out.push(
      `${indent}level: client p99 ${ms(d.baselineP99Ms)} ms per second; noise σ(ln p99) ${d.noiseSigmaLog ?? '-'}; spike second above ${ms(d.spikeThresholdMs)} ms or with timeouts/errors; episode while above ${ms(d.elevatedThresholdMs)} ms (${d.measuredSeconds} s measured)`,
    );
  } else out.push(`${indent}level: client p99 ${ms(r.baselineP99Ms)} ms; spike above ${ms(r.thresholdMs)} ms`);
  if (r.spikes.length === 0) out.push(`${indent}no spikes`);
  else {
    out.push(`${indent}${'#'.padStart(3)}  ${'seconds'.padEnd(10)} ${'worst p99'.padStart(10)} ${'× level'.padStart(8)} ${'timeouts'.padStart(9)} ${'errors'.padStart(7)}  causes (primary first)`);
    r.spikes.forEach((s, i) => {
      const [first, ...rest] = s.causes;
      out.push(
        `${indent}${String(i + 1).padStart(3)}  ${when(s).padEnd(10)} ${`${ms(s.worstP99Ms)} ms`.padStart(10)} ${(s.severity === null || s.severity === undefined ? '-' : s.severity.toFixed(1)).padStart(8)} ${String(s.timeouts).padStart(9)} ${String(s.errors).padStart(7)}  ${first ? cause(first) : '-'}`,
      );
      for (const c of rest) out.push(`${indent}${' '.repeat(54)}${cause(c)}`);
    });
  }
  if (r.periodicity) out.push(`${indent}period: ${r.periodicity.sentence}`);
  else if (r.period) out.push(`${indent}period: ${r.period.spikes} spikes, one every ${ms(r.period.meanSeconds)} s (stddev ${ms(r.period.stddevSeconds)} s)`);
  for (const f of r.ginFlushes ?? []) {
    out.push(`${indent}GIN flush: ${f.index} (${f.node}) in second ${f.second + 1}: ${f.tuplesBefore.toLocaleString('en-US')} → ${f.tuplesAfter.toLocaleString('en-US')} pending tuples, by ${f.by}`);
  }
  for (const o of r.outages) out.push(`${indent}outage: ${o.node} not observable for ${((o.to - o.from) / 1000).toFixed(1)} s (${o.failedSamples} samples): ${o.firstError}`);
  for (const n of r.notMeasured ?? []) out.push(`${indent}not measured: ${n}`);
  return `${out.join('\n')}\n`;
}

export function printSpikes(r: SpikesResult, savedTo: string): string {
  const out: string[] = [];
  out.push(`Spikes of ${r.run.file} (recomputed from its per-second records and the observer's samples):`);
  out.push(printSpikeTable(r.spikes).trimEnd());
  if (r.savedSpikeCount !== null && r.savedSpikeCount !== r.spikes.spikes.length) {
    out.push(`  (the analysis saved with the run listed ${r.savedSpikeCount} spike(s); this one finds ${r.spikes.spikes.length})`);
  }
  if (r.against && r.comparison) {
    const c = r.comparison;
    out.push('', `Against ${r.against.file}:`, printSpikeTable(r.against.spikes).trimEnd(), '');
    out.push('Are they gone?');
    out.push(`  ${'figure'.padEnd(26)} ${'this run'.padStart(12)} ${'reference'.padStart(12)}  test`);
    const row = (name: string, a: string, b: string, test: string): string => `  ${name.padEnd(26)} ${a.padStart(12)} ${b.padStart(12)}  ${test}`;
    const p = (x: number | undefined): string => (x === undefined ? '-' : x < 0.001 ? 'p < 0.001' : `p = ${x.toFixed(3)}`);
    out.push(row('spikes (per minute)', `${c.run.spikes} (${c.run.spikesPerMinute.toFixed(2)})`, `${c.against.spikes} (${c.against.spikesPerMinute.toFixed(2)})`, `${p(c.count?.pValue)} fewer (conditional binomial, rates per window second)`));
    out.push(row('timeouts (per request)', `${c.run.timeouts}`, `${c.against.timeouts}`, `${p(c.timeouts?.pValue)} fewer (conditional binomial, per request sent)`));
    out.push(row('seconds in spikes', `${c.run.spikeSeconds}`, `${c.against.spikeSeconds}`, ''));
    out.push(row('worst spike p99 (ms)', ms(c.run.worstP99Ms), ms(c.against.worstP99Ms), ''));
    out.push(
      row(
        'per-second p99 (ms, level)',
        ms(c.run.baselineP99Ms),
        ms(c.against.baselineP99Ms),
        c.severity ? `${p(c.severity.pValue)} reference higher (Mann-Whitney U, P(ref > run) = ${c.severity.probabilityBGreater.toFixed(2)}; ${c.severity.note})` : '',
      ),
    );
    out.push('', c.sentence);
  }
  out.push('', `saved: ${savedTo}`);
  return `${out.join('\n')}\n`;
}
