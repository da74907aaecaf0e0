/** One line per second for a live display of a run (the engines' onProgress). */
import { formatMs } from '../core/units.ts';
import type { SecondRecord } from './latency-recorder.ts';

export interface ProgressContext {
  inFlight?: number;
  queued?: number;
}

export function formatProgressLine(second: SecondRecord, live: ProgressContext = {}): string {
  const c = second.counters;
  const l = second.latency;
  const when = second.phase === 'warmup' ? `warm-up ${second.index}s` : `${second.index + 1}s`;
  const parts = [
    when.padStart(12),
    `sent ${c.sent}`,
    `ok ${c.ok}`,
    `err ${c.errors}`,
    `timeout ${c.timeouts}`,
    `drop ${c.dropped}`,
    `p50 ${formatMs(l.p50)}`,
    `p99 ${formatMs(l.p99)}`,
    `max ${formatMs(l.max)}`,
  ];
  if (live.inFlight !== undefined) parts.push(`in flight ${live.inFlight}`);
  if (live.queued) parts.push(`queued ${live.queued}`);
  if (second.client && second.client.cpu > 0.8) parts.push(`client cpu ${(second.client.cpu * 100).toFixed(0)}%`);
  return parts.join('  ');
}
