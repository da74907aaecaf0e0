import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTOCANNON_LABEL, runAutocannon } from '../../src/load/autocannon-engine.ts';
import { createWorkload, WORKLOAD_PRESETS } from '../../src/load/workload.ts';
import { startDelayServer, type DelayServer } from '../helpers/delay-server.ts';

describe('autocannon engine', () => {
  let server: DelayServer;

  beforeAll(async () => {
    server = await startDelayServer({ '/events/append': 10 });
  });

  afterAll(async () => {
    await server.close();
  });

  it('runs closed loop, labels its figures, and records every response per endpoint', async () => {
    const r = await runAutocannon({ url: server.url, workload: createWorkload(WORKLOAD_PRESETS['raw-append']), connections: 2, durationMs: 1000, seed: 1 });
    expect(r.label).toBe(AUTOCANNON_LABEL);
    expect(r.config.coordinatedOmission).toBe('not applicable (closed loop, no rate)');
    // Closed loop: 2 connections x ~10 ms per request ≈ 200 req/s at most.
    expect(r.counters.completed).toBeGreaterThan(50);
    expect(r.completedRate).toBeLessThan(2 * (1000 / 10) * 1.1);
    expect(r.byEndpoint['events-append']!.latency.count).toBe(r.counters.completed);
    expect(r.byEndpoint['events-append']!.server.total.count).toBe(r.counters.completed);
    expect(Math.abs(r.autocannon.completed - r.counters.completed)).toBeLessThanOrEqual(2);
    expect(r.byEndpoint['events-append']!.latency.min!).toBeGreaterThanOrEqual(r.byEndpoint['events-append']!.server.total.min!);
  }, 10_000);

  it("does not let autocannon's rate-limited 'correction' invent samples, unless asked to", async () => {
    const run = (autocannonCorrection: boolean) =>
      runAutocannon({
        url: server.url,
        workload: createWorkload(WORKLOAD_PRESETS['raw-append']),
        connections: 2,
        durationMs: 1000,
        overallRate: 40,
        autocannonCorrection,
        seed: 2,
      });
    const plain = await run(false);
    expect(plain.config.coordinatedOmission).toBe('not corrected (latency from actual send)');
    // One latency sample per response.
    expect(plain.autocannon.latencyMs.samples).toBe(plain.autocannon.completed);
    expect(plain.autocannon.latencyMs.p50).toBeGreaterThanOrEqual(10);

    const corrected = await run(true);
    // Its default expected interval is ceil(1 / rate) = 1 ms: a ~10 ms response adds ~9 samples
    // below it, and the median falls under the server's own delay.
    expect(corrected.autocannon.latencyMs.samples).toBeGreaterThan(3 * corrected.autocannon.completed);
    expect(corrected.autocannon.latencyMs.p50).toBeLessThan(10);
    expect(corrected.notes.join(' ')).toMatch(/1 ms expected interval/);
  }, 10_000);
});
