/**
 * DbPool when connections break (regressions):
 *  - a connection that ends while checked out (backend terminated mid-statement) used to emit an
 *    'error' event nobody listened to, which took the whole process down;
 *  - the refill to `min` used Promise.all: when some connects failed, the ones that succeeded were
 *    never released and the pool shrank for good.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { urlFor } from '../../src/cluster/embedded-cluster.ts';
import { DEFAULT_POOL } from '../../src/core/config.ts';
import { DbPool } from '../../src/store/db-pool.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { waitFor } from '../helpers/store.ts';

let db: TestDatabase;
let admin: pg.Client;
const uncaught: unknown[] = [];
const onUncaught = (e: unknown) => uncaught.push(e);

beforeAll(async () => {
  db = await createTestDatabase();
  admin = new pg.Client({ connectionString: db.primaryUrl, application_name: 'esbench_test_admin' });
  await admin.connect();
  process.on('uncaughtException', onUncaught);
});
afterAll(async () => {
  process.off('uncaughtException', onUncaught);
  await admin?.end();
  await db?.release();
});

describe('DbPool with broken connections', () => {
  it('a connection terminated mid-statement rejects with DB_UNAVAILABLE, is not reused, and nothing is uncaught', async () => {
    const app = `esbench_test_kill_${randomBytes(3).toString('hex')}`;
    const pool = new DbPool('primary', `${db.primaryUrl}?application_name=${app}`, { ...DEFAULT_POOL, min: 0, max: 2 });
    try {
      const sleeping = pool.withSession((s) => s.query('sleep', 'SELECT pg_sleep(30)'));
      const settled = sleeping.then(
        () => undefined,
        (e: unknown) => e,
      );
      await waitFor(async () => {
        const r = await admin.query("SELECT 1 FROM pg_stat_activity WHERE application_name = $1 AND state = 'active'", [app]);
        return r.rowCount === 1 ? true : undefined;
      });
      await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [app]);
      expect(await settled).toMatchObject({ code: 'DB_UNAVAILABLE' });
      // Let the socket's end and the 'error' event it triggers be delivered.
      await new Promise((r) => setTimeout(r, 200));
      expect(uncaught).toEqual([]);
      expect(pool.stats().total).toBe(0); // the broken client was destroyed, not returned
      const r = await pool.query<{ one: number }>('one', 'SELECT 1 AS one');
      expect(r.rows[0]?.one).toBe(1);
    } finally {
      await pool.close();
    }
  });

  it('a partial refill (connection limit) releases the connections it did open', async () => {
    const role = `esb_limit_${randomBytes(4).toString('hex')}`;
    // Identifiers cannot be bound; the name is generated from hex digits above.
    await admin.query(`CREATE ROLE ${role} LOGIN CONNECTION LIMIT 1`);
    const url = urlFor(db.primaryPort, db.name, role);
    const pool = new DbPool('primary', url, { ...DEFAULT_POOL, min: 3, max: 5 });
    try {
      await expect(pool.start()).rejects.toMatchObject({ code: 'DB_UNAVAILABLE' });
      // One connection opened (the role's limit); it must be idle in the pool, not checked out.
      expect(pool.stats()).toMatchObject({ total: 1, idle: 1 });
      const r = await pool.query<{ who: string }>('who', 'SELECT current_user AS who');
      expect(r.rows[0]?.who).toBe(role);
    } finally {
      // A leaked (checked-out) client would make close() wait for ever: fail in 5 s instead.
      await Promise.race([pool.close(), new Promise((_, reject) => setTimeout(() => reject(new Error('pool.close() hung: a client was never released')), 5000))]);
      await admin.query(`DROP ROLE ${role}`);
    }
  });
});
