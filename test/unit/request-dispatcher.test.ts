import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LatencyRecorder } from '../../src/load/latency-recorder.ts';
import { RequestDispatcher } from '../../src/load/request-dispatcher.ts';
import { WORKLOAD_PRESETS, type PlannedRequest, type RequestOutcome, type Workload } from '../../src/load/workload.ts';

/** Holds every request until released; /reject answers 422 with a service error body. */
function holdingServer() {
  const held: Array<() => void> = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    req.on('end', () => {
      const answer = () => {
        if (res.destroyed) return;
        res.setHeader('server-timing', 'total;dur=1.5, pool;dur=0, db;dur=1, app;dur=0.5');
        if (req.url === '/base/reject') {
          res.statusCode = 422;
          res.end('{"error":{"code":"BOOK_ALREADY_LENT","message":"x"}}');
        } else res.end('{}');
      };
      if (req.url === '/base/hold') held.push(answer);
      else answer();
    });
  });
  return { server, held };
}

function workload(): Workload & { outcomes: RequestOutcome[] } {
  const outcomes: RequestOutcome[] = [];
  return {
    spec: WORKLOAD_PRESETS.raw,
    outcomes,
    next: () => {
      throw new Error('not used');
    },
    complete: (_r, o) => void outcomes.push(o),
    stats: () => ({ planned: {}, model: null }),
  };
}

const req = (path: string): PlannedRequest => ({ endpoint: path, method: 'GET', path: `/${path}`, body: undefined, pick: undefined });

describe('the paced engine’s dispatcher', () => {
  const { server, held } = holdingServer();
  let url = '';
  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/base`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  /** A dispatcher on a clock the test sets; resolves `idle` when everything ended. */
  function setup(cap: number, queueSize: number, timeoutMs = 5000) {
    const clock = { now: 1000 };
    const recorder = new LatencyRecorder({ originMs: 0, originEpochMs: 0, phase: 'measure' });
    const w = workload();
    const sent: number[] = [];
    let onIdle: () => void = () => undefined;
    const idle = new Promise<void>((r) => (onIdle = r));
    const d = new RequestDispatcher({ url, cap, queueSize, timeoutMs, recorder, workload: w, clock: () => clock.now, onSent: (t) => sent.push(t), onIdle: () => onIdle() });
    return { d, clock, recorder, w, sent, idle };
  }

  it('measures latency and schedule lag from the intended send time, not the actual one', async () => {
    const { d, clock, recorder, w, idle } = setup(4, 0);
    // Intended at 990, the clock reads 1000 when it leaves and when it is answered.
    d.dispatch(req('ok'), 990);
    await idle;
    await d.close();
    const r = recorder.finish();
    expect(w.outcomes).toEqual([{ kind: 'response', status: 200, error: undefined }]);
    expect(r.counters.completed).toBe(1);
    expect(r.latency.max).toBeCloseTo(10, 1);
    expect(r.scheduleLag.max).toBeCloseTo(10, 1);
    // Server-Timing is parsed: client latency − server total is the transport.
    expect(r.byEndpoint.ok!.server.total.max).toBeCloseTo(1.5, 2);
    expect(clock.now).toBe(1000);
  });

  it('reads the service error code of a rejection', async () => {
    const { d, recorder, w, idle } = setup(4, 0);
    d.dispatch(req('reject'), 1000);
    await idle;
    await d.close();
    expect(w.outcomes[0]).toMatchObject({ kind: 'response', status: 422, error: { code: 'BOOK_ALREADY_LENT' } });
    expect(recorder.finish().counters.errorCodes).toEqual({ BOOK_ALREADY_LENT: 1 });
  });

  it('queues at the cap, drops beyond the queue, and counts a queued request from its intended time', async () => {
    const { d, clock, recorder, w, sent, idle } = setup(1, 1);
    d.dispatch(req('hold'), 1000);
    d.dispatch(req('ok'), 1001);
    d.dispatch(req('ok'), 1002);
    expect(d.inFlight).toBe(1);
    expect(d.queued).toBe(1);
    expect(d.capHits).toBe(2);
    expect(d.capReached).toBe(true);
    expect(w.outcomes).toEqual([{ kind: 'dropped' }]);
    expect(d.takeSecondMaxInFlight()).toBe(1);
    while (held.length === 0) await new Promise((r) => setTimeout(r, 5));
    // The held one is answered 50 ms (on the test's clock) after it was due; the queued one leaves then.
    clock.now = 1050;
    held.shift()!();
    await idle;
    await d.close();
    expect(sent).toEqual([1000, 1050]);
    const r = recorder.finish();
    expect(r.counters).toMatchObject({ sent: 2, completed: 2, dropped: 1 });
    expect(r.byEndpoint.ok!.latency.max).toBeCloseTo(49, 1);
    expect(r.byEndpoint.ok!.scheduleLag.max).toBeCloseTo(49, 1);
    expect(d.maxQueued).toBe(1);
    expect(d.idle).toBe(true);
  });

  it('counts a timeout from the actual send, and cancels what is still queued', async () => {
    const { d, recorder, w, idle } = setup(1, 2, 50);
    d.dispatch(req('hold'), 1000);
    d.dispatch(req('ok'), 1000);
    d.cancelQueued(1000);
    expect(w.outcomes).toEqual([{ kind: 'cancelled' }]);
    await idle;
    await d.close();
    held.splice(0);
    expect(w.outcomes).toEqual([{ kind: 'cancelled' }, { kind: 'timeout' }]);
    expect(recorder.finish().counters).toMatchObject({ sent: 1, timeouts: 1, cancelled: 1 });
  });

  it('a timeout frees the slot for the queued request, whose own timeout is kept too (one deadline timer)', async () => {
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timers();
    const { d, recorder, w, sent, idle } = setup(1, 1, 40);
    d.dispatch(req('hold'), 1000);
    d.dispatch(req('hold'), 1000);
    expect(timers()).toBe(before + 1);
    await idle;
    await d.close();
    held.splice(0);
    expect(sent).toHaveLength(2);
    expect(w.outcomes).toEqual([{ kind: 'timeout' }, { kind: 'timeout' }]);
    expect(recorder.finish().counters).toMatchObject({ sent: 2, timeouts: 2 });
    // No deadline timer left behind (undici may keep its own, shared one).
    expect(timers()).toBeLessThanOrEqual(before + 1);
  });

  // Regression: under a late generator a window counted more completed than sent requests — the
  // warm-up requests answered after the window opened were counted in it.
  it("counts an outcome in the phase its request was sent in, not the phase it arrived in", async () => {
    const clock = { now: 1000 };
    const recorder = new LatencyRecorder({ originMs: 1500, originEpochMs: 0, firstIndex: -1, phase: 'warmup' });
    const w = workload();
    let onIdle: () => void = () => undefined;
    const idle = new Promise<void>((r) => (onIdle = r));
    const d = new RequestDispatcher({ url, cap: 4, queueSize: 0, timeoutMs: 5000, recorder, workload: w, clock: () => clock.now, onIdle: () => onIdle() });
    d.dispatch(req('hold'), 1000);
    while (held.length === 0) await new Promise((r) => setTimeout(r, 5));
    recorder.setPhase('measure');
    clock.now = 1600;
    held.shift()!();
    await idle;
    await d.close();
    const r = recorder.finish();
    expect(r.counters).toMatchObject({ sent: 0, completed: 0 });
    expect(r.latency.count).toBe(0);
    // The per-second series still shows the response, in the second it arrived in.
    expect(r.seconds.find((s) => s.index === 0)?.latency.count).toBe(1);
  });
});
