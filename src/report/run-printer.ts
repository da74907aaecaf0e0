/** The terminal summary of a run: every figure labelled with what it measures and where. */
import { fixed, fractionPercent } from '../core/format.ts';
import { printCpuWindow } from './cpu-printer.ts';
import type { SloVerdict } from '../analysis/slo.ts';
import type { SplitRow } from '../analysis/split.ts';
import type { TrialResult } from '../tuner/trial.ts';

const ms = (v: number | null | undefined, d = 2): string => fixed(v, d);
const pct = fractionPercent;

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export function printRun(r: TrialResult, file: string, slo: SloVerdict[] = []): string {
  const load = r.load;
  const c = load.counters;
  const out: string[] = [];
  out.push(`esbench run ${r.partial ? '(PARTIAL: stopped early) ' : ''}— ${load.label}`);
  if (load.engine === 'paced') {
    out.push(
      `  rate: target ${load.targetRate}/s, achieved ${ms(load.achievedRate, 1)}/s sent, ${ms(load.completedRate, 1)}/s completed (client, measured window ${fixed(r.config.durationMs / 1000, 0)} s)`,
    );
    out.push(`  concurrency: max in flight ${load.concurrency.maxInFlight} (cap ${load.concurrency.cap}${load.concurrency.capReached ? ', REACHED' : ''})`);
  } else {
    out.push(`  rate: ${ms(load.completedRate, 1)}/s completed (client, closed loop, ${load.config.connections} connections)`);
    for (const n of load.notes) out.push(`  note: ${n}`);
  }
  out.push(
    `  requests: sent ${c.sent}, ok ${c.ok}, 4xx ${c.http4xx}, 5xx ${c.http5xx}, transport errors ${c.transportErrors}, timeouts ${c.timeouts}, dropped ${c.dropped}`,
  );
  const codes = Object.entries(c.errorCodes).sort((a, b) => b[1] - a[1]);
  if (codes.length > 0) out.push(`  error codes: ${codes.map(([k, n]) => `${k} ${n}`).join(', ')}`);
  const l = load.latency;
  out.push(`  client latency (ms): p50 ${ms(l.p50)}  p90 ${ms(l.p90)}  p99 ${ms(l.p99)}  p99.9 ${ms(l.p999)}  max ${ms(l.max)}  mean ${ms(l.mean)}`);

  out.push('', 'Where the time goes (ms; means add up, percentiles do not):');
  const components: Array<[SplitRow['component'], string]> = [
    ['client', 'client'],
    ['server', 'server'],
    ['poolWait', 'pool wait'],
    ['dbRoundTrip', 'DB round trip'],
    ['dbExecution', 'DB exec'],
    ['dbPlanning', 'DB plan'],
    ['wire', 'wire+wake'],
    ['decode', 'decode'],
    ['dbUnexplained', 'unexplained'],
    ['appOverhead', 'app'],
    ['clientTransport', 'client/transport'],
  ];
  const rows: string[][] = [];
  for (const e of r.split.endpoints) {
    const get = (k: SplitRow['component']) => e.rows.find((x) => x.component === k);
    // A negative derived part is measurement noise: shown as ±magnitude, never clamped.
    const cell = (k: SplitRow['component']) => {
      const x = get(k);
      return x?.noise ? `±${ms(Math.abs(x.mean ?? 0))} noise` : ms(x?.mean);
    };
    rows.push([e.endpoint, String(e.requests), ...components.map(([k]) => cell(k)), ms(get('client')?.p99), ms(get('server')?.p99)]);
  }
  out.push(table(['endpoint', 'n', ...components.map(([, h]) => `${h} mean`), 'client p99', 'server p99'], rows));
  out.push(
    '  client = load generator; server/pool wait/DB round trip/decode = service (Server-Timing); DB exec/plan = pg_stat_statements,',
    "  each endpoint's own statements; wire+wake = the service's SELECT 1 probe round trip − its DB time, × round trips;",
    '  unexplained = round trip − exec − plan − wire − decode; app = server − round trip − pool wait; client/transport = client − server.',
  );
  const driverRows = r.split.endpoints.filter((e) => e.driver);
  if (driverRows.length > 0) {
    out.push(
      '  per request, received by the service\'s driver: ' +
        driverRows.map((e) => `${e.endpoint} ${ms(e.driver!.roundTripsPerRequest, 1)} round trips, ${ms(e.driver!.rowsPerRequest, 1)} rows, ${(e.driver!.bytesPerRequest / 1024).toFixed(1)} KiB`).join('; '),
    );
  }
  const probe = r.split.probe;
  if (probe) {
    out.push(
      `  probe (service, SELECT 1 on the primary pool, ${probe.readings} readings): round trip ${ms(probe.roundTripMeanMs, 3)} ms, of which DB ${ms(probe.dbMeanMs, 3)} ms (pg_stat_statements)`,
    );
  }
  for (const n of r.split.notes.slice(2)) out.push(`  note: ${n}`);
  for (const e of r.split.endpoints) for (const w of e.warnings) out.push(`  ${e.endpoint}: ${w}`);

  if (r.observerError) out.push('', `Database: not observed (${r.observerError})`);
  if (r.observation) {
    out.push('', 'Database during the measured window (observer, sampled every ' + `${r.config.sampleIntervalMs} ms):`);
    for (const s of r.observation.samplers) {
      const m = s.summary;
      const lag = m.replicationLagMs;
      out.push(
        `  ${s.node.padEnd(8)} cache hit ${pct(m.cacheHitRatio)}, autovacuum/analyze runs ${m.autovacuumRuns}, checkpoints ${m.checkpoints}` +
          (lag ? `, replication lag mean ${ms(lag.mean, 1)} ms max ${ms(lag.max, 1)} ms` : '') +
          (s.cost ? `, observer round trip ${ms(s.cost.meanMs, 1)} ms/sample (client clock)` : ''),
      );
      for (const [app, conn] of Object.entries(m.connections)) {
        if (app.startsWith('esbench_') && app.endsWith('_pool')) out.push(`           ${app}: connections mean ${ms(conn.mean, 1)} max ${conn.max}, active mean ${ms(conn.activeMean, 1)} max ${conn.activeMax}`);
      }
    }
    for (const e of r.observation.errors) out.push(`  ${e.node}: no statement window (${e.message})`);
    const shares = r.observation.statements.filter((w) => w.observerShare !== undefined);
    for (const w of shares) {
      out.push(
        `  ${w.node.padEnd(8)} observer's own statements: ${ms(w.observerMs, 1)} ms of ${ms(w.databaseMs, 1)} ms database statement time (exec + plan, pg_stat_statements) = ${pct(w.observerShare)}`,
      );
    }
    // A second denominator that does not depend on what the workload sends to a node: the node's
    // CPU time over the window (all its processes, /proc). The replica runs almost no statements
    // (it replays WAL), so the statement-time share there is ~100% whatever the observer costs.
    for (const w of shares) {
      const node = r.cpu?.processes.find((p) => p.process === (w.node === 'primary' ? 'postgres-primary' : 'postgres-replica'));
      if (node?.cpuSeconds == null || node.cpuSeconds <= 0) continue;
      const nodeMs = node.cpuSeconds * 1000;
      out.push(`  ${w.node.padEnd(8)} observer's own statements: ${ms(w.observerMs, 1)} ms = ${pct(w.observerMs / nodeMs)} of the node's CPU time (${ms(nodeMs, 0)} ms, all its processes, /proc)`);
    }
    if (shares.length > 1) {
      const observer = shares.reduce((a, w) => a + w.observerMs, 0);
      const database = shares.reduce((a, w) => a + w.databaseMs, 0);
      out.push(`  both     observer's own statements: ${ms(observer, 1)} ms of ${ms(database, 1)} ms = ${pct(database > 0 ? observer / database : null)} of the database's statement time`);
    }
    for (const w of r.observation.statements) {
      const top = Object.values(w.byName)
        .filter((s) => s.calls > 0)
        .sort((a, b) => b.calls * (b.meanExecMs ?? 0) - a.calls * (a.meanExecMs ?? 0))
        .slice(0, 5);
      if (top.length > 0) out.push(`  ${w.node} statements (pg_stat_statements): ${top.map((s) => `${s.name} ${s.calls}× ${ms(s.meanExecMs, 3)} ms`).join(', ')}`);
    }
  }
  out.push(...printCpuWindow(r.cpu));
  const sp = r.spikes;
  for (const o of sp.outages) {
    out.push('', `OUTAGE: ${o.node} could not be observed for ${fixed((o.to - o.from) / 1000, 1)} s from ${new Date(o.from).toISOString()} (${o.failedSamples} failed samples: ${o.firstError})`);
  }
  out.push('', `Latency spikes (client per-second p99 above ${ms(sp.thresholdMs, 1)} ms, or timeouts/errors; normal p99 ${ms(sp.baselineP99Ms, 1)} ms; \`esbench spikes <run-dir>\` for the full table):`);
  if (sp.spikes.length === 0) out.push('  none');
  for (const spike of sp.spikes.slice(0, 10)) {
    const when = spike.firstSecond === spike.lastSecond ? `${spike.firstSecond + 1}s` : `${spike.firstSecond + 1}-${spike.lastSecond + 1}s`;
    const causes = spike.causes.map((c) => `${c.role && c.role !== 'primary' ? `[${c.role}] ` : ''}${c.kind}${c.node ? ` (${c.node})` : ''}: ${c.evidence}`).join('; ');
    out.push(`  ${when.padStart(9)}  p99 ${ms(spike.worstP99Ms, 1)} ms, timeouts ${spike.timeouts}, errors ${spike.errors} — ${causes}`);
  }
  if (sp.spikes.length > 10) out.push(`  ... ${sp.spikes.length - 10} more in run.json`);
  if (sp.periodicity) out.push(`  ${sp.periodicity.sentence}`);
  else if (sp.period) out.push(`  ${sp.period.spikes} spikes, one every ${ms(sp.period.meanSeconds, 1)} s on average (stddev ${ms(sp.period.stddevSeconds, 1)} s)`);
  const warnings = load.engine === 'paced' ? load.warnings : [];
  for (const w of warnings) out.push(`  WARNING (load generator): ${w.message}`);
  if (slo.length > 0) {
    out.push('', 'SLO:');
    for (const v of slo) out.push(`  ${v.ok ? 'ok  ' : 'FAIL'} ${v.text} (actual ${v.actual === null ? '-' : v.percent ? pct(v.actual, 3) : ms(v.actual)})`);
  }
  out.push('', `saved: ${file}`, '');
  return out.join('\n');
}
