import { DEFAULT_POOL, type PoolConfig } from '../../src/core/config.ts';
import { DbPool } from '../../src/store/db-pool.ts';
import { applySchema } from '../../src/store/schema.ts';
import { createTestDatabase, type TestDatabase } from './db.ts';

export interface StoreFixture {
  db: TestDatabase;
  primary: DbPool;
  replica: DbPool;
  close(): Promise<void>;
}

/** A fresh database with the schema, and one pool per node. */
export async function storeFixture(pool: Partial<PoolConfig> = {}): Promise<StoreFixture> {
  const db = await createTestDatabase();
  const config = { ...DEFAULT_POOL, min: 0, max: 40, ...pool };
  const primary = new DbPool('primary', db.primaryUrl, config);
  const replica = new DbPool('replica', db.replicaUrl, config);
  await applySchema(primary, { ginFastupdate: true });
  return {
    db,
    primary,
    replica,
    close: async () => {
      await primary.close();
      await replica.close();
      await db.release();
    },
  };
}

/** Polls until fn returns a value (not undefined), ignoring errors in between. */
export async function waitFor<T>(fn: () => Promise<T | undefined>, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      // e.g. a replica that has not replayed the new database yet: keep polling.
      lastError = e;
    }
    if (Date.now() > deadline) throw new Error(`${what} not met in ${timeoutMs} ms${lastError ? `: ${String(lastError)}` : ''}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
