/** The CPU section of a run or soak summary (figures from observe/cpu-meter.ts). */
import { fixed as f } from '../core/format.ts';
import type { CpuWindow } from '../observe/cpu-meter.ts';


export function printCpuWindow(cpu: CpuWindow | null): string[] {
  if (!cpu) return ['', 'CPU: not measured (the measured window never started)'];
  const out = ['', `CPU during the measured window (${f(cpu.windowSeconds, 0)} s, ${cpu.requests} requests sent; per process from /proc, this process from process.cpuUsage):`];
  for (const p of cpu.processes) {
    out.push(`  ${p.label.padEnd(72)} ${f(p.cores, 2).padStart(5)} cores  ${f(p.msPerRequest, 2).padStart(7)} ms/request`);
  }
  const missing = cpu.unread.length > 0 ? ` (not counted: ${cpu.unread.join(', ')})` : '';
  out.push(`  total ${f(cpu.totalMsPerRequest, 2)} ms of CPU per request${missing}`);
  if (cpu.unread.length > 0) out.push('  no CPU-bound rate estimate: part of the work was not measured (a node on another host, or not Linux)');
  else if (cpu.cpuBoundRateEstimate !== null) {
    out.push(
      `  estimate, not a measurement: at that cost the ${cpu.cpus} cpus are all busy at ~${f(cpu.cpuBoundRateEstimate, 0)} req/s; no higher rate can be held on this machine, and latency grows well before it`,
    );
  }
  return out;
}
