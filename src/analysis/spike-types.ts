/**
 * The shapes of a spike analysis (saved in run.json as `spikes` and in spikes.json). Fields added
 * after the first version are optional, so runs saved before them still read.
 */

export type SpikeCauseKind =
  | 'outage'
  | 'lock wait'
  | 'advisory lock wait'
  | 'timeout codes'
  /** An autovacuum worker's VACUUM (not its ANALYZE: that is `autoanalyze`). */
  | 'autovacuum'
  | 'autoanalyze'
  /** A VACUUM / ANALYZE command. */
  | 'vacuum'
  | 'analyze'
  | 'checkpoint'
  | 'GIN pending list'
  | 'pool exhaustion'
  | 'replication lag'
  | 'generator delay'
  | 'CPU'
  /** Backends waiting on I/O: the WAL flush of their commit (IO:WalSync, LWLock:WALWrite) or data file reads. */
  | 'IO wait'
  | 'unexplained';

/**
 * - primary: the evidence explains the episode (it tracks the latency, or it is the latency);
 * - contributing: present and plausibly adding to it, weaker evidence (or downstream of a primary cause);
 * - ended it: what ended a primary cause (e.g. the autoanalyze that flushed a GIN pending list);
 * - coincident: ran in the same seconds, nothing more links it.
 */
export type SpikeCauseRole = 'primary' | 'contributing' | 'ended it' | 'coincident';

export interface SpikeCause {
  kind: SpikeCauseKind;
  node: string | null;
  /** What was seen, in a few words, with its figure (wait events, table, sizes, durations, correlations). */
  evidence: string;
  role?: SpikeCauseRole;
  /** 0..1: how strongly the evidence ties it to this episode (what the causes are ordered by). */
  score?: number;
  /** The figures behind the evidence, machine-readable. */
  figures?: Record<string, number | string | null>;
}

export interface Spike {
  /** Epoch ms (client clock): start of the first and end of the last second of the episode. */
  from: number;
  to: number;
  /** Seconds since the start of the measured window. */
  firstSecond: number;
  lastSecond: number;
  worstP99Ms: number | null;
  timeouts: number;
  errors: number;
  causes: SpikeCause[];
  /** Seconds of the episode above the spike threshold (or with timeouts / errors); the rest were elevated. */
  spikeSeconds?: number;
  /** The second with the worst p99 (or the most timeouts). */
  peakSecond?: number;
  /** Worst p99 ÷ the run's baseline p99. */
  severity?: number | null;
  /** Requests sent during the episode. */
  requests?: number;
}

/** A window in which the observer could not sample a node (down, restarting, unreachable). */
export interface Outage {
  node: string;
  from: number;
  to: number;
  failedSamples: number;
  firstError: string;
}

/** A drop of a GIN index's pending list (its entries moved into the main index). */
export interface GinFlush {
  node: string;
  index: string;
  table: string;
  /** Client-clock epoch ms of the samples before and after the drop. */
  between: [number, number];
  second: number;
  tuplesBefore: number;
  tuplesAfter: number;
  pagesBefore: number;
  pagesAfter: number;
  /** What flushed it: an (auto)vacuum / autoanalyze of the table, or an insert past gin_pending_list_limit. */
  by: string;
  byKind: 'autovacuum' | 'autoanalyze' | 'vacuum' | 'gin_pending_list_limit';
}

export interface PeriodicCause {
  /** e.g. 'autoanalyze public.events (primary)'. */
  what: string;
  kind: SpikeCauseKind;
  occurrences: number;
  meanSeconds: number | null;
  stddevSeconds: number | null;
  /** Spikes that this cause is listed in (any role). */
  spikesWithIt: number;
  /** Its period is within 15 % (or two stddevs) of the spikes' period, and it is in at least half the spikes. */
  matches: boolean;
}

export interface Periodicity {
  spikes: { count: number; meanSeconds: number; medianSeconds: number; stddevSeconds: number };
  causes: PeriodicCause[];
  /** Settings that set a period, as the node reported them (autovacuum_naptime, checkpoint_timeout). */
  settings: Record<string, string>;
  sentence: string;
}

export interface Detection {
  method: string;
  /** Half-sample mode of the per-second client p99 (ms): the run's normal level. */
  baselineP99Ms: number | null;
  /** Second-to-second noise of ln(p99), from the MAD of first differences. */
  noiseSigmaLog: number | null;
  /** A second is a spike second above this p99 (ms), or with timeouts / errors. */
  spikeThresholdMs: number | null;
  /** Seconds above this p99 (ms) next to spike seconds belong to the same episode. */
  elevatedThresholdMs: number | null;
  measuredSeconds: number;
}

export interface SpikeReport {
  /** Windows in which a node could not be observed; reported whether or not latency spiked. */
  outages: Outage[];
  /** The run's normal per-second client p99 (ms): see detection.method (the plain median before v2). */
  baselineP99Ms: number | null;
  thresholdMs: number | null;
  spikes: Spike[];
  /** With three spikes or more: the interval between spike starts. */
  period: { spikes: number; meanSeconds: number; stddevSeconds: number } | null;
  measuredAt: string;
  /** 2 from the robust detection on; absent in runs saved before it. */
  version?: number;
  detection?: Detection;
  periodicity?: Periodicity | null;
  ginFlushes?: GinFlush[];
  /** Causes that could not be looked for in this run, and why. */
  notMeasured?: string[];
}
