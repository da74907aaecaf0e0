/**
 * The spike analysis of a saved run, recomputed from its run.json (per-second records + the
 * observer's samples and events), so runs saved before the current analysis get it too. Reads only
 * the parts it needs, checked, so a run from an older esbench (or a file that is not a run) gives
 * a clear error rather than a crash.
 */
import fs from 'node:fs';
import path from 'node:path';
import { EsbenchError } from '../core/errors.ts';
import type { SecondRecord } from '../load/latency-recorder.ts';
import type { CpuWindow } from '../observe/cpu-meter.ts';
import type { SamplerResult } from '../observe/sampler.ts';
import { compareSpikes, spikeFigures, type SpikeComparison } from './spike-comparison.ts';
import { detectSpikes } from './spikes.ts';
import type { SpikeReport } from './spike-types.ts';

/** What the analysis needs of a run.json (TrialResult); everything else is ignored. */
interface SavedRunShape {
  id?: string;
  kind?: string;
  config?: { pools?: { primary?: { max: number }; replica?: { max: number } }; timeoutMs?: number };
  load?: { seconds?: SecondRecord[] };
  observation?: { samplers?: SamplerResult[] } | null;
  cpu?: CpuWindow | null;
}

export interface SavedRunSpikes {
  /** The run directory and its run.json. */
  dir: string;
  file: string;
  id: string | null;
  seconds: SecondRecord[];
  report: SpikeReport;
  /** The analysis run.json holds (what `esbench run` printed), when it has one. */
  saved: SpikeReport | null;
}

export function readRunFile(target: string): { dir: string; file: string; run: SavedRunShape } {
  const abs = path.resolve(target);
  let file = abs;
  try {
    if (fs.statSync(abs).isDirectory()) file = path.join(abs, 'run.json');
  } catch {
    throw new EsbenchError('RUN_NOT_READABLE', `${abs} does not exist`);
  }
  let run: SavedRunShape;
  try {
    run = JSON.parse(fs.readFileSync(file, 'utf8')) as SavedRunShape;
  } catch (e) {
    throw new EsbenchError('RUN_NOT_READABLE', `${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no run.json here' : (e as Error).message}`);
  }
  if (typeof run !== 'object' || run === null || !Array.isArray(run.load?.seconds)) {
    throw new EsbenchError('RUN_NOT_READABLE', `${file} is not a run saved by esbench run (no per-second records under load.seconds)`);
  }
  return { dir: path.dirname(file), file, run };
}

export function analyzeSavedRun(target: string): SavedRunSpikes {
  const { dir, file, run } = readRunFile(target);
  const seconds = run.load!.seconds!;
  const samplers = Array.isArray(run.observation?.samplers) ? run.observation.samplers : [];
  const report = detectSpikes(seconds, samplers, { cpu: run.cpu ?? null, pools: run.config?.pools, timeoutMs: run.config?.timeoutMs });
  const saved = (run as { spikes?: SpikeReport }).spikes ?? null;
  return { dir, file, id: run.id ?? null, seconds, report, saved };
}

export interface SpikesResult {
  kind: 'spikes';
  computedAt: string;
  run: { file: string; id: string | null };
  spikes: SpikeReport;
  /** How many spikes the analysis saved in run.json had (older runs: the fixed-threshold analysis). */
  savedSpikeCount: number | null;
  against: { file: string; id: string | null; spikes: SpikeReport } | null;
  comparison: SpikeComparison | null;
}

/** The spikes of a run, and with `against`, whether the reference run's spikes are gone in it. */
export function spikesOf(target: string, against?: string, now: Date = new Date()): SpikesResult {
  const a = analyzeSavedRun(target);
  const b = against === undefined ? null : analyzeSavedRun(against);
  return {
    kind: 'spikes',
    computedAt: now.toISOString(),
    run: { file: a.file, id: a.id },
    spikes: a.report,
    savedSpikeCount: a.saved ? a.saved.spikes.length : null,
    against: b ? { file: b.file, id: b.id, spikes: b.report } : null,
    comparison: b ? compareSpikes(spikeFigures(a.file, a.report, a.seconds), spikeFigures(b.file, b.report, b.seconds)) : null,
  };
}
