/** The study's baseline append and the safe append decide identically when nothing races. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRng } from '../../src/core/prng.ts';
import { appFixture, type AppFixture } from '../helpers/app.ts';

let safe: AppFixture;
let baseline: AppFixture;
beforeAll(async () => {
  safe = await appFixture({ service: { appendStrategy: 'safe' } });
  baseline = await appFixture({ service: { appendStrategy: 'baseline' } });
});
afterAll(async () => {
  await safe?.close();
  await baseline?.close();
});

/** A seeded pseudo-random command script hitting every rule. */
function script(n: number, seed = 7): Array<[string, Record<string, string>]> {
  const rnd = createRng(seed);
  const kinds = ['add-book-copy', 'remove-book-copy', 'lend-book-copy', 'return-book-copy', 'register-reader', 'cancel-reader'];
  return Array.from({ length: n }, () => {
    const kind = kinds[Math.floor(rnd() * kinds.length)]!;
    const bookId = `b-${Math.floor(rnd() * 6)}`;
    const readerId = `r-${Math.floor(rnd() * 3)}`;
    const body: Record<string, string> = kind.includes('book') ? (kind.startsWith('lend') || kind.startsWith('return') ? { bookId, readerId } : { bookId }) : { readerId };
    return [kind, body];
  });
}

describe('baseline vs safe, sequentially', () => {
  it('same outcomes and same event log for 300 commands', async () => {
    const outcomes: Record<string, string[]> = { safe: [], baseline: [] };
    for (const [kind, body] of script(300)) {
      for (const [name, fx] of [['safe', safe], ['baseline', baseline]] as const) {
        const r = await fx.app.inject({ method: 'POST', url: `/library/commands/${kind}`, payload: body });
        outcomes[name]!.push(r.statusCode === 201 ? '201' : `${r.statusCode} ${r.json().error.code}`);
      }
    }
    expect(outcomes.baseline).toEqual(outcomes.safe);
    expect(new Set(outcomes.safe).size).toBeGreaterThan(4); // the script exercised several rules
    const q = 'SELECT event_type, payload FROM events ORDER BY sequence_number';
    expect((await baseline.sql.query(q)).rows).toEqual((await safe.sql.query(q)).rows);
  });
});
