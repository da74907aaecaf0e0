import { describe, expect, it } from 'vitest';
import { deriveEvents, type CheckpointEvent, type MaintenanceEvent } from '../../src/observe/events.ts';
import type { CheckpointCounters, MaintenanceActivity, Sample, TableStats } from '../../src/observe/sample.ts';

const table = (over: Partial<TableStats> = {}): TableStats => ({
  relation: 'public.events',
  liveTuples: 0,
  deadTuples: 0,
  modSinceAnalyze: 0,
  vacuumCount: 0,
  autovacuumCount: 0,
  analyzeCount: 0,
  autoanalyzeCount: 0,
  lastVacuum: null,
  lastAutovacuum: null,
  lastAnalyze: null,
  lastAutoanalyze: null,
  ...over,
});

const counters = (over: Partial<CheckpointCounters> = {}): CheckpointCounters => ({
  timed: 0,
  requested: 0,
  done: null,
  buffersWritten: 0,
  restartpointsDone: null,
  lastCheckpointAt: 1000,
  redoLsn: '0/1',
  ...over,
});

function sample(at: number, over: { maintenance?: MaintenanceActivity[]; tables?: TableStats[]; checkpoint?: CheckpointCounters; detail?: boolean } = {}): Sample {
  if (over.detail === false) {
    // A light sample (sampler.ts): no table, GIN, checkpoint or database parts.
    return { at, serverAt: at, costMs: 1, detail: false, backends: [], maintenance: over.maintenance ?? [], checkpoint: null, gin: [], walBytes: 0, replication: { primary: [] }, database: null, tables: [] };
  }
  return {
    at,
    serverAt: at,
    costMs: 1,
    backends: [],
    maintenance: over.maintenance ?? [],
    checkpoint: over.checkpoint ?? counters(),
    gin: [],
    walBytes: 0,
    replication: { primary: [] },
    database: null,
    tables: over.tables ?? [table()],
  };
}

const autovacuum: MaintenanceActivity = {
  pid: 7,
  kind: 'vacuum',
  auto: true,
  relation: 'public.events',
  phase: 'scanning heap',
  startedAt: 10_100,
  blocksTotal: 10,
  blocksDone: 1,
};

describe('timeline events', () => {
  it('pairs an autovacuum seen in progress with its completion, even when one sample shows both', () => {
    const done = table({ autovacuumCount: 1, lastAutovacuum: 10_700 });
    const events = deriveEvents(
      [
        sample(10_000),
        sample(10_250, { maintenance: [autovacuum] }),
        sample(10_500, { maintenance: [autovacuum] }),
        sample(10_750, { maintenance: [autovacuum], tables: [done] }), // counters move before the progress row goes
        sample(11_000, { tables: [done] }),
      ],
      'primary',
      false,
    );
    const runs = events.filter((e): e is MaintenanceEvent => e.kind === 'maintenance');
    expect(runs).toEqual([
      expect.objectContaining({ operation: 'vacuum', auto: true, startedAt: 10_100, endedAt: 10_700, seenFrom: 10_250, seenTo: 10_750, source: 'progress+counters' }),
    ]);
  });

  it('still reports a run too short to be seen in progress, from its counters', () => {
    const events = deriveEvents(
      [sample(0), sample(250, { tables: [table({ analyzeCount: 1, lastAnalyze: 120 })] })],
      'primary',
      false,
    );
    expect(events).toEqual([expect.objectContaining({ kind: 'maintenance', operation: 'analyze', auto: false, startedAt: null, endedAt: 120, completedBetween: [0, 250], source: 'counters' })]);
  });

  // Regression: observer.test.ts once saw its one VACUUM as two runs under load. Table counters come
  // only with the detailed samples (once a second), progress with every sample: a manual VACUUM seen
  // in light samples only, completing between two detailed samples a second apart, must still be
  // one run, paired with its completion — also when an autovacuum of the same table completes in
  // the same second without being seen (a run of its own, labelled auto, which is what the test
  // had: its table was left to autovacuum; it now turns autovacuum off for it).
  it('pairs a VACUUM seen only in light samples with its completion between detailed samples a second apart', () => {
    const manual: MaintenanceActivity = { ...autovacuum, pid: 9, auto: false, relation: 'public.observed', startedAt: 20_300 };
    const before = table({ relation: 'public.observed' });
    const after = table({ relation: 'public.observed', vacuumCount: 1, lastVacuum: 20_700 });
    const light = (at: number, running: boolean): Sample => sample(at, { detail: false, ...(running ? { maintenance: [manual] } : {}) });
    const timeline = [sample(20_000, { tables: [before] }), light(20_250, false), light(20_500, true), light(20_750, false), sample(21_000, { tables: [after] })];
    const runs = deriveEvents(timeline, 'primary', false).filter((e): e is MaintenanceEvent => e.kind === 'maintenance');
    expect(runs).toEqual([
      expect.objectContaining({ operation: 'vacuum', auto: false, relation: 'public.observed', startedAt: 20_300, endedAt: 20_700, seenFrom: 20_500, seenTo: 20_500, completedBetween: [20_000, 21_000], source: 'progress+counters' }),
    ]);
    // The same second with an unseen autovacuum of that table as well: two runs, told apart by origin.
    const both = table({ relation: 'public.observed', vacuumCount: 1, lastVacuum: 20_700, autovacuumCount: 1, lastAutovacuum: 20_900 });
    const two = deriveEvents([...timeline.slice(0, 4), sample(21_000, { tables: [both] })], 'primary', false).filter((e): e is MaintenanceEvent => e.kind === 'maintenance');
    expect(two.map((e) => [e.auto, e.source])).toEqual([
      [false, 'progress+counters'],
      [true, 'counters'],
    ]);
  });

  it('dates a checkpoint by the control file and attributes counters flushed just after it', () => {
    const events = deriveEvents(
      [
        sample(0, { checkpoint: counters({ timed: 3 }) }),
        sample(250, { checkpoint: counters({ timed: 3 }) }),
        // The control file names a new checkpoint; the checkpointer's counters arrive a sample later.
        sample(500, { checkpoint: counters({ timed: 3, lastCheckpointAt: 400, redoLsn: '0/2' }) }),
        sample(750, { checkpoint: counters({ timed: 3, requested: 1, buffersWritten: 80, lastCheckpointAt: 400, redoLsn: '0/2' }) }),
        // A later timed one.
        sample(5000, { checkpoint: counters({ timed: 4, requested: 1, buffersWritten: 90, lastCheckpointAt: 4000, redoLsn: '0/3' }) }),
      ],
      'primary',
      false,
    );
    const checkpoints = events.filter((e): e is CheckpointEvent => e.kind === 'checkpoint');
    expect(checkpoints).toEqual([
      expect.objectContaining({ type: 'checkpoint', startedAt: 400, completedBetween: [250, 500], reason: 'requested', buffersWritten: 80 }),
      expect.objectContaining({ startedAt: 4000, completedBetween: [750, 5000], reason: 'timed', buffersWritten: 10 }),
    ]);
  });
});
