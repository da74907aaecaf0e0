import { describe, expect, it } from 'vitest';
import { EsbenchError } from '../../src/core/errors.ts';
import { MAX_BOOKS_PER_READER } from '../../src/load/library-model.ts';
import { createRng } from '../../src/core/prng.ts';
import { createWorkload, parseWeights, resolveWorkloadSpec, WORKLOAD_PRESETS, type PlannedRequest, type ServiceErrorBody } from '../../src/load/workload.ts';

/** The service's business rules, in memory: answers a command as the real service would. */
class FakeLibrary {
  readonly inCirculation = new Set<string>();
  readonly lentTo = new Map<string, string>();

  /** Answers like the service, rejections with the copy's state in `details` as the service sends it. */
  answer(req: PlannedRequest): { status: number; error?: ServiceErrorBody } {
    const a = this.decide(req);
    if (a.errorCode === undefined) return { status: a.status };
    const b = (JSON.parse(req.body ?? '{}') as { bookId: string }).bookId;
    return { status: a.status, error: { code: a.errorCode, details: { book: { id: b, inCirculation: this.inCirculation.has(b), lentTo: this.lentTo.get(b) ?? null } } } };
  }

  private decide(req: PlannedRequest): { status: number; errorCode?: string } {
    const body = JSON.parse(req.body ?? '{}') as { bookId: string; readerId?: string };
    const b = body.bookId;
    const held = (r: string) => [...this.lentTo.values()].filter((x) => x === r).length;
    switch (req.endpoint) {
      case 'add-book-copy':
        if (this.inCirculation.has(b)) return { status: 422, errorCode: 'BOOK_ALREADY_IN_CIRCULATION' };
        this.inCirculation.add(b);
        return { status: 201 };
      case 'remove-book-copy':
        if (!this.inCirculation.has(b)) return { status: 422, errorCode: 'BOOK_NOT_IN_CIRCULATION' };
        if (this.lentTo.has(b)) return { status: 422, errorCode: 'BOOK_ALREADY_LENT' };
        this.inCirculation.delete(b);
        return { status: 201 };
      case 'lend-book-copy':
        if (!this.inCirculation.has(b)) return { status: 422, errorCode: 'BOOK_NOT_IN_CIRCULATION' };
        if (this.lentTo.has(b)) return { status: 422, errorCode: 'BOOK_ALREADY_LENT' };
        if (held(body.readerId!) >= MAX_BOOKS_PER_READER) return { status: 422, errorCode: 'READER_LIMIT_REACHED' };
        this.lentTo.set(b, body.readerId!);
        return { status: 201 };
      case 'return-book-copy':
        if (this.lentTo.get(b) !== body.readerId) return { status: 422, errorCode: 'BOOK_NOT_LENT_TO_READER' };
        this.lentTo.delete(b);
        return { status: 201 };
      default:
        return { status: 200 };
    }
  }
}

describe('workloads', () => {
  it("draws the study's mix: 20% circulation (add/remove 50/50), 80% lending (lend/return 50/50)", () => {
    const w = createWorkload(WORKLOAD_PRESETS.study);
    const rng = createRng(1);
    for (let i = 0; i < 20_000; i++) w.complete(w.next(rng), { kind: 'dropped' });
    const p = w.stats().planned;
    expect((p['add-book-copy']! + p['remove-book-copy']!) / 20_000).toBeCloseTo(0.2, 1);
    expect(p['lend-book-copy']! / 20_000).toBeCloseTo(0.4, 1);
    expect(p['return-book-copy']! / 20_000).toBeCloseTo(0.4, 1);
    expect(w.stats().model!.reserved).toBe(0);
  });

  it('picks IDs so that commands succeed, also with many requests in flight', () => {
    const library = new FakeLibrary();
    // Start from a stocked library, as a seed would leave it.
    const inCirculation = Array.from({ length: 600 }, (_, i) => `book-${i + 1}`);
    inCirculation.forEach((b) => library.inCirculation.add(b));
    const w = createWorkload(WORKLOAD_PRESETS.study, { snapshot: { inCirculation, lent: {} } });
    const rng = createRng(2);
    let ok = 0;
    let rejected = 0;
    for (let round = 0; round < 200; round++) {
      // 25 concurrent requests: none may target a copy another in-flight request holds (a pick
      // that found no eligible copy draws random IDs and is expected to be rejected).
      const inFlight = Array.from({ length: 25 }, () => w.next(rng));
      const books = inFlight.filter((r) => r.pick?.eligible).map((r) => r.pick!.bookId);
      expect(new Set(books).size).toBe(books.length);
      for (const req of inFlight.sort(() => rng() - 0.5)) {
        const a = library.answer(req);
        if (a.status < 300) ok += 1;
        else rejected += 1;
        w.complete(req, { kind: 'response', status: a.status, error: a.error });
      }
    }
    expect(ok / (ok + rejected)).toBeGreaterThan(0.97);
    // Rejections come from picks that found no eligible copy; a random pick that happens to
    // succeed can still pre-empt a reserved copy now and then.
    const noEligible = Object.values(w.stats().model!.noEligible).reduce((x, y) => x + y, 0);
    expect(rejected - noEligible).toBeLessThanOrEqual(3);
    const m = w.stats().model!;
    // The model agrees with the service, except for copies it set aside as unknown.
    expect(m.unknown).toBeLessThanOrEqual(3);
    expect(Math.abs(m.lent - library.lentTo.size)).toBeLessThanOrEqual(m.unknown);
    expect(Math.abs(m.lent + m.available - library.inCirculation.size)).toBeLessThanOrEqual(m.unknown);
  });

  it('recovers from timeouts: copies set aside as unknown are learnt back from the answers about them', () => {
    const library = new FakeLibrary();
    const inCirculation = Array.from({ length: 300 }, (_, i) => `book-${i + 1}`);
    inCirculation.forEach((b) => library.inCirculation.add(b));
    const spec = { ...WORKLOAD_PRESETS.study, books: 300, readers: 30 };
    const w = createWorkload(spec, { snapshot: { inCirculation, lent: {} } });
    const rng = createRng(3);
    const round = (timeoutShare: number): { ok: number; all: number } => {
      let ok = 0;
      const inFlight = Array.from({ length: 20 }, () => w.next(rng));
      for (const req of inFlight) {
        const a = library.answer(req);
        if (a.status < 300) ok += 1;
        // An overloaded service: the command was applied, but the client gave up first.
        if (rng() < timeoutShare) w.complete(req, { kind: 'timeout' });
        else w.complete(req, { kind: 'response', status: a.status, error: a.error });
      }
      return { ok, all: inFlight.length };
    };
    for (let i = 0; i < 150; i++) round(0.5);
    expect(w.stats().model!.unknown).toBeGreaterThan(40); // a good part of the library set aside
    for (let i = 0; i < 100; i++) round(0);
    let ok = 0;
    let all = 0;
    for (let i = 0; i < 50; i++) {
      const r = round(0);
      ok += r.ok;
      all += r.all;
    }
    const m = w.stats().model!;
    expect(m.unknown).toBeLessThan(5);
    expect(ok / all).toBeGreaterThan(0.95);
    expect(Math.abs(m.lent - library.lentTo.size)).toBeLessThanOrEqual(m.unknown);
  });

  it('reads weights from flags and files, and rejects what it does not know', () => {
    expect(parseWeights('lend=40, return=40,add=10,remove=10')).toEqual({
      'lend-book-copy': 40,
      'return-book-copy': 40,
      'add-book-copy': 10,
      'remove-book-copy': 10,
    });
    const spec = resolveWorkloadSpec({ preset: 'read-models', file: { weights: { 'books-lent': 3, circulation: 1 }, readers: 5 } });
    expect(spec.weights).toEqual({ 'books-lent': 3, 'books-in-circulation': 1 });
    expect(spec.readers).toBe(5);
    expect(spec.readFrom).toBe('replica');
    expect(() => parseWeights('borrow=1')).toThrow(EsbenchError);
    expect(() => parseWeights('lend=0')).toThrow(/at least one weight/);
    expect(() => resolveWorkloadSpec({ preset: 'nope' })).toThrow(/unknown workload/);
    expect(() => resolveWorkloadSpec({ file: { weights: { lend: 1 }, extra: true } })).toThrow(/unknown field/);
  });

  it('builds requests exactly as docs/service-api.md specifies', () => {
    const rng = createRng(3);
    const read = createWorkload(WORKLOAD_PRESETS['read-models']).next(rng);
    expect(read.method).toBe('GET');
    expect(read.path).toMatch(/^\/library\/(readers\/reader-\d+\/books-lent|books-in-circulation)\?from=replica$/);
    const append = createWorkload(WORKLOAD_PRESETS['raw-append'], { runTag: 't' }).next(rng);
    expect(append.path).toBe('/events/append');
    const body = JSON.parse(append.body!) as { events: Array<{ type: string }>; filter: { items: unknown[] }; expectedVersion: number };
    expect(body.expectedVersion).toBe(0);
    expect(body.events[0]!.type).toBe('BenchmarkEventAppended');
    expect(body.filter.items).toHaveLength(1);
    const query = createWorkload(WORKLOAD_PRESETS['raw-query']).next(rng);
    expect(JSON.parse(query.body!)).toMatchObject({ from: 'primary', filter: { items: [{ payload: { anyOf: [{ BookID: expect.stringMatching(/^book-\d+$/) }] } }] } });
  });
});
