import { describe, expect, it } from 'vitest';
import { cpuWindow, type CpuReading } from '../../src/observe/cpu-meter.ts';

const reading = (at: number, s: CpuReading['seconds']): CpuReading => ({ at, seconds: s });

describe('cpu window', () => {
  it('divides each process CPU by the window and the requests, sums them and bounds the rate', () => {
    const a = reading(0, { service: 10, 'postgres-primary': 100, 'postgres-replica': 5, generator: 1 });
    const b = reading(10_000, { service: 13, 'postgres-primary': 106, 'postgres-replica': 5.5, generator: 1.5 });
    const w = cpuWindow(a, b, 1000, 2);
    const by = Object.fromEntries(w.processes.map((p) => [p.process, p]));
    expect(by.service).toMatchObject({ cores: 0.3, msPerRequest: 3 });
    expect(by['postgres-primary']!.msPerRequest).toBeCloseTo(6);
    expect(w.totalMsPerRequest).toBeCloseTo(10);
    // 2 cpus, 10 ms of CPU per request: every core busy at 200 req/s.
    expect(w.cpuBoundRateEstimate).toBeCloseTo(200);
    expect(w.unread).toEqual([]);
  });

  it('leaves out what could not be read, and says so', () => {
    const a = reading(0, { service: null, 'postgres-primary': null, 'postgres-replica': null, generator: 1 });
    const b = reading(1000, { service: null, 'postgres-primary': null, 'postgres-replica': null, generator: 2 });
    const w = cpuWindow(a, b, 100, 2);
    expect(w.unread).toEqual(['service', 'postgres-primary', 'postgres-replica']);
    expect(w.totalMsPerRequest).toBeCloseTo(10);
    // A bound without PostgreSQL's share would overstate the machine: none is given.
    expect(w.cpuBoundRateEstimate).toBeNull();
  });
});
