import { describe, expect, it } from 'vitest';
import { createArrivalSchedule, takeShare, type ArrivalProcess } from '../../src/load/arrival-schedule.ts';

const take = (next: () => number, n: number) => Array.from({ length: n }, next);

describe('shares of one arrival schedule', () => {
  for (const process of ['even', 'poisson'] as ArrivalProcess[]) {
    it(`${process}: the shares of N generators are disjoint and together are exactly the full schedule`, () => {
      const full = take(createArrivalSchedule({ rate: 1000, process, seed: 7 }).next, 300);
      const shares = [0, 1, 2].map((index) => take(takeShare(createArrivalSchedule({ rate: 1000, process, seed: 7 }), { index, of: 3 }).next, 100));
      expect(shares[0]![0]).toBe(full[0]);
      expect(shares[1]![0]).toBe(full[1]);
      expect(shares[2]![99]).toBe(full[299]);
      expect(shares.flat().sort((x, y) => x - y)).toEqual(full);
    });
  }

  it('one share of one is the schedule itself; a bad share is refused', () => {
    const s = takeShare(createArrivalSchedule({ rate: 10, process: 'even', seed: 1 }), { index: 0, of: 1 });
    expect(take(s.next, 3)).toEqual([0, 100, 200]);
    expect(() => takeShare(createArrivalSchedule({ rate: 10, process: 'even', seed: 1 }), { index: 2, of: 2 })).toThrow(RangeError);
  });
});
