import { describe, expect, it } from 'vitest';
import type { TrialFigures } from '../../src/study/trial-figures.ts';
import { judge, VERDICT_IDS, type StudyEvidence, type Verdict } from '../../src/study/verdicts.ts';

const LOW = 125;
const HIGH = 150;

function trial(key: string, rate: number, rep: number, over: Partial<TrialFigures> = {}): TrialFigures {
  return {
    key,
    phase: 'ablation',
    rate,
    rep,
    path: `trials/${key}-${rate}-r${rep}/run.json`,
    partial: false,
    windowSeconds: 300,
    sent: rate * 300,
    ok: rate * 300,
    timeouts: 0,
    dropped: 0,
    http5xx: 0,
    poolTimeouts: 0,
    achievedRate: rate,
    meanMs: 20,
    p50Ms: 15,
    p99Ms: 80,
    appOverheadMs: 1,
    poolWaitMs: 0.1,
    spikes: 0,
    timeoutSpikes: [],
    spikePeriodSeconds: null,
    cacheHit: { primary: 0.999, replica: 0.998 },
    replicationLagP99Ms: 3,
    pools: {
      primary: { openMean: 4, openMax: 5, activeMean: 1.5, activeMax: 4, poolMax: 60, poolMin: 2 },
      replica: { openMean: 2, openMax: 2, activeMean: 0.1, activeMax: 1, poolMax: 60, poolMin: 2 },
    },
    ginPendingPagesMax: {},
    cpu: null,
    ...over,
  };
}

const LEVELS = ['original', 'original+pool-min', 'original+gin-fastupdate', 'original+autovacuum', 'original+memory', 'tuned', 'tuned+append-strategy', 'tuned+decisions', 'esbench'];

/** Three runs of every level at the low rate, tuned at the high rates; `tweak` adjusts any run. */
function evidence(tweak: (t: TrialFigures) => Partial<TrialFigures> = () => ({}), over: Partial<StudyEvidence> = {}): StudyEvidence {
  const trials: TrialFigures[] = [];
  for (const key of LEVELS) for (const rep of [1, 2, 3]) trials.push(trial(key, LOW, rep));
  trials.push(trial('tuned', HIGH, 1, { phase: 'scaled-pair' }), trial('tuned', 300, 1, { phase: 'study-pair', timeouts: 500, achievedRate: 280 }));
  // A little spread so that tests and CIs have something to work with.
  const jittered = trials.map((t) => ({ ...t, meanMs: (t.meanMs ?? 0) + t.rep * 0.3, p99Ms: (t.p99Ms ?? 0) + t.rep * 0.5 }));
  return {
    mode: 'full',
    trials: jittered.map((t) => ({ ...t, ...tweak(t) })),
    pair: { low: LOW, high: HIGH, scaled: true },
    studyRates: { low: 250, high: 300 },
    capacity: { maxRate: HIGH, ci: null, configuration: 'tuned', saturation: { cause: 'CPU (1.9 of 2 cores busy)', evidence: 'service 0.6, primary 1.1' }, path: 'capacity' },
    memory: { measurable: true, reason: null },
    seed: 1,
    ...over,
  };
}

function byId(vs: Verdict[], id: string): Verdict {
  const v = vs.find((x) => x.id === id);
  if (!v) throw new Error(`no verdict ${id}`);
  return v;
}

describe('study verdicts', () => {
  it('has a verdict for every criterion and claim, with the contract fields', () => {
    const vs = judge(evidence());
    for (const id of VERDICT_IDS) expect(vs.map((v) => v.id)).toContain(id);
    expect(vs.map((v) => v.id)).toContain('c2s-scaled-rate-without-timeouts');
    for (const v of vs) {
      expect(['holds', 'does not hold', 'cannot be measured here']).toContain(v.verdict);
      expect(typeof v.criterion).toBe('string');
      expect(typeof v.figure).toBe('string');
      expect(v).toHaveProperty('ci');
      expect(Array.isArray(v.evidence.runs)).toBe(true);
    }
  });

  it('300 req/s: does not hold with timeouts, and the scaled rate holds without', () => {
    const vs = judge(evidence());
    expect(byId(vs, 'c2-300-req-s-without-timeouts').verdict).toBe('does not hold');
    expect(byId(vs, 'c2s-scaled-rate-without-timeouts').verdict).toBe('holds');
    expect(byId(vs, 'c2-300-req-s-without-timeouts').evidence.text).toContain('CPU');
  });

  it('a criterion whose observation is missing cannot be measured here', () => {
    const vs = judge(evidence(() => ({ cacheHit: { primary: null, replica: null }, replicationLagP99Ms: null, pools: { primary: null, replica: null } })));
    expect(byId(vs, 'c4-cache-hit-both-nodes').verdict).toBe('cannot be measured here');
    expect(byId(vs, 'c5-replication-lag-under-10ms').verdict).toBe('cannot be measured here');
    expect(byId(vs, 'c3-connection-use-balanced').verdict).toBe('cannot be measured here');
  });

  it('cache hit, lag and connections: holds and does not hold from the figures', () => {
    const good = judge(evidence());
    expect(byId(good, 'c4-cache-hit-both-nodes')).toMatchObject({ verdict: 'holds', conclusive: true });
    expect(byId(good, 'c5-replication-lag-under-10ms')).toMatchObject({ verdict: 'holds', conclusive: true });
    expect(byId(good, 'c3-connection-use-balanced').verdict).toBe('holds');
    const bad = judge(
      evidence((t) =>
        t.key === 'tuned'
          ? {
              cacheHit: { primary: 0.9, replica: 0.95 },
              replicationLagP99Ms: 40 + t.rep,
              pools: { primary: { openMean: 20, openMax: 20, activeMean: 1, activeMax: 3, poolMax: 60, poolMin: 20 }, replica: { openMean: 20, openMax: 20, activeMean: 0, activeMax: 1, poolMax: 60, poolMin: 2 } },
            }
          : {},
      ),
    );
    expect(byId(bad, 'c4-cache-hit-both-nodes').verdict).toBe('does not hold');
    expect(byId(bad, 'c5-replication-lag-under-10ms')).toMatchObject({ verdict: 'does not hold', conclusive: true });
    expect(byId(bad, 'c3-connection-use-balanced').verdict).toBe('does not hold');
  });

  it('periodic spikes: recurring timeout spikes do not hold; short windows cannot be measured; long clean windows hold', () => {
    const spikes = [0, 110, 230].map((s) => ({ firstSecond: s, lastSecond: s + 3, timeouts: 20, causes: ['autovacuum (primary): auto vacuum public.events running'] }));
    const recurring = judge(evidence((t) => (t.key === 'tuned' ? { timeoutSpikes: spikes } : {})));
    expect(byId(recurring, 'c1-no-periodic-timeout-spikes').verdict).toBe('does not hold');
    expect(byId(recurring, 'c1-no-periodic-timeout-spikes').evidence.text).toContain('autovacuum');
    const short = judge(evidence(() => ({ windowSeconds: 12 })));
    expect(byId(short, 'c1-no-periodic-timeout-spikes').verdict).toBe('cannot be measured here');
    expect(byId(judge(evidence()), 'c1-no-periodic-timeout-spikes').verdict).toBe('holds');
  });

  it('response time 40%+: holds when tuned halves the mean, does not hold when it is the same', () => {
    const halved = judge(evidence((t) => (t.key === 'tuned' ? { meanMs: 10 + t.rep * 0.2 } : {})));
    expect(byId(halved, 'c6-response-time-40-percent-better')).toMatchObject({ verdict: 'holds', conclusive: true });
    const same = judge(evidence());
    expect(byId(same, 'c6-response-time-40-percent-better')).toMatchObject({ verdict: 'does not hold', conclusive: true });
  });

  it('MinConns 20→2: holds for a 14 ms gain, does not hold when nothing changes', () => {
    const gain = judge(evidence((t) => (t.key === 'original' ? { meanMs: 42.9 + t.rep * 0.4 } : t.key === 'original+pool-min' ? { meanMs: 28.9 + t.rep * 0.4 } : {})));
    expect(byId(gain, 'claim-pool-min')).toMatchObject({ verdict: 'holds', conclusive: true });
    expect(byId(gain, 'claim-pool-min').value).toBeCloseTo(14, 0);
    const none = judge(evidence());
    expect(byId(none, 'claim-pool-min')).toMatchObject({ verdict: 'does not hold', conclusive: true });
  });

  it('fastupdate on: a critical fix only when on is clearly faster than off', () => {
    const fix = judge(evidence((t) => (t.key === 'original' ? { p99Ms: 400 + t.rep } : {})));
    expect(byId(fix, 'claim-gin-fastupdate')).toMatchObject({ verdict: 'holds', conclusive: true });
    const worse = judge(evidence((t) => (t.key === 'original+gin-fastupdate' ? { p99Ms: 200 + t.rep } : {})));
    expect(byId(worse, 'claim-gin-fastupdate')).toMatchObject({ verdict: 'does not hold', conclusive: true });
  });

  it('autovacuum: cannot be measured without spikes to remove; holds when they go away', () => {
    expect(byId(judge(evidence()), 'claim-autovacuum-spikes').verdict).toBe('cannot be measured here');
    const spikes = [10, 130].map((s) => ({ firstSecond: s, lastSecond: s + 2, timeouts: 5, causes: [] }));
    const removed = judge(evidence((t) => (t.key === 'original' ? { timeoutSpikes: spikes } : {})));
    expect(byId(removed, 'claim-autovacuum-spikes').verdict).toBe('holds');
    const kept = judge(evidence((t) => (t.key === 'original' || t.key === 'original+autovacuum' ? { timeoutSpikes: spikes } : {})));
    expect(byId(kept, 'claim-autovacuum-spikes').verdict).toBe('does not hold');
  });

  it('memory cannot be measured on a cluster that cannot restart', () => {
    const vs = judge(evidence(undefined, { memory: { measurable: false, reason: 'external cluster: no restart' } }));
    expect(byId(vs, 'claim-memory-split')).toMatchObject({ verdict: 'cannot be measured here', figure: 'external cluster: no restart' });
  });

  it('one run per level is never conclusive', () => {
    const e = evidence((t) => (t.key === 'original' ? { meanMs: 60 } : {}));
    const single = { ...e, trials: e.trials.filter((t) => t.rep === 1) };
    const vs = judge(single);
    for (const id of ['claim-pool-min', 'claim-gin-fastupdate', 'claim-memory-split', 'c6-response-time-40-percent-better', 'esbench-vs-tuned']) {
      expect(byId(vs, id).conclusive, id).toBe(false);
    }
  });

  it('a missing level cannot be measured here', () => {
    const e = evidence();
    const vs = judge({ ...e, trials: e.trials.filter((t) => t.key !== 'tuned+decisions') });
    expect(byId(vs, 'esbench-snapshots').verdict).toBe('cannot be measured here');
  });
});

describe('study printer', () => {
  it('prints one row per verdict, grouped, with its figure, CI, runs and "not conclusive" marks', async () => {
    const { printVerdicts } = await import('../../src/report/study-printer.ts');
    const e = evidence((t) => (t.key === 'original' ? { meanMs: 60 } : {}));
    const vs = judge({ ...e, trials: e.trials.filter((t) => t.rep === 1) });
    const text = printVerdicts(vs);
    expect(text).toContain("Seed 003's success criteria:");
    expect(text).toContain("The study's claims, each factor changed alone:");
    for (const v of vs) expect(text).toContain(v.criterion);
    expect(text).toContain('(not conclusive)');
    expect(text).toMatch(/\[95% CI /);
    expect(text).toContain('runs: trials/');
  });
});
