/** A node's summary keeps the primary's replication lag and the replica's own replay delay apart (two clocks). */
import { describe, expect, it } from 'vitest';
import { summarize } from '../../src/observe/node-summary.ts';
import { T0, sample } from '../fixtures/spikes/synthetic.ts';

describe('summarize: replication', () => {
  it("a primary's samples give the lag (replication-lag.ts's definition), not a replica delay", () => {
    const samples = [10, 20, 30].map((lag, i) =>
      sample(T0 + i * 500, { replication: { primary: [{ application: 'esbench_replica', state: 'streaming', replayLagMs: lag, lagBytes: lag * 100 }] } }),
    );
    const s = summarize(samples, []);
    expect(s.replicationLagMs).toMatchObject({ mean: 20, max: 30 });
    expect(s.replicationLagBytes).toMatchObject({ max: 3000 });
    expect(s.replicaReplayDelayMs).toBeNull();
    expect(s.replicaReceiveReplayBytes).toBeNull();
  });

  it("a replica's samples give its replay delay under its own name, never the lag", () => {
    const samples = [0, 5000].map((delay, i) =>
      sample(T0 + i * 500, { replication: { replica: { replayLagMs: delay, receiveReplayBytes: delay > 0 ? 8192 : 0 } } }),
    );
    const s = summarize(samples, []);
    expect(s.replicationLagMs).toBeNull();
    expect(s.replicationLagBytes).toBeNull();
    expect(s.replicaReplayDelayMs).toMatchObject({ mean: 2500, max: 5000 });
    expect(s.replicaReceiveReplayBytes).toMatchObject({ max: 8192 });
  });
});
