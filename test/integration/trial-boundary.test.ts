/**
 * Every trial runs with exactly its own boundary index strategy's indexes: a sweep or the study
 * alternates configurations on one cluster, and a GIN-only configuration (the study's) must not
 * pay for the btree indexes another one created, nor a btree one read without them. The trial's
 * service process (`serve --config -`) applies its strategy when it starts (src/cli/prepare.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applySchema } from '../../src/store/schema.ts';
import { runTrial, trialConfig } from '../../src/tuner/trial.ts';
import { schemaDatabase, type SchemaDatabase } from '../helpers/schema-db.ts';

let base: SchemaDatabase;
beforeAll(async () => {
  base = await schemaDatabase();
});
afterAll(async () => base.close());

async function btreeIndexes(): Promise<string[]> {
  const r = await base.sql.query<{ name: string }>(
    "SELECT relname AS name FROM pg_class WHERE relname IN ('idx_events_book_seq', 'idx_events_reader_seq') ORDER BY relname",
  );
  return r.rows.map((x) => x.name);
}

describe('a trial and its boundary index strategy', () => {
  it('drops the btree boundary indexes for a GIN trial and creates them for a btree trial', { timeout: 90_000 }, async () => {
    await applySchema(base.sql, { ginFastupdate: true, boundaryIndex: 'btree' });
    expect(await btreeIndexes()).toEqual(['idx_events_book_seq', 'idx_events_reader_seq']);
    const target = { primaryUrl: base.db.primaryUrl, replicaUrl: base.db.replicaUrl };
    const trial = (boundaryIndex: 'gin' | 'btree') => {
      const c = trialConfig({ rate: 5, durationMs: 1000, warmupMs: 0 });
      return runTrial(target, { ...c, service: { ...c.service, boundaryIndex } }, {});
    };
    const gin = await trial('gin');
    expect(gin.partial).toBe(false);
    expect(await btreeIndexes()).toEqual([]);
    await trial('btree');
    expect(await btreeIndexes()).toEqual(['idx_events_book_seq', 'idx_events_reader_seq']);
  });
});
