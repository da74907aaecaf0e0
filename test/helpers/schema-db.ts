import pg from 'pg';
import { applySchema } from '../../src/store/schema.ts';
import { createTestDatabase, type TestDatabase } from './db.ts';

export interface SchemaDatabase {
  db: TestDatabase;
  /** A small pool on the primary for the test's own queries. */
  sql: pg.Pool;
  /** Rows in `events`. */
  count(): Promise<number>;
  /** Ends the pool and releases the database if this created it (not dropped: see db.ts). */
  close(): Promise<void>;
}

/** A database on the test cluster (fresh unless given) with the event-store schema applied. */
export async function schemaDatabase(existing?: TestDatabase): Promise<SchemaDatabase> {
  const db = existing ?? (await createTestDatabase());
  const sql = new pg.Pool({ connectionString: db.primaryUrl, max: 4, application_name: 'esbench_test' });
  await applySchema(sql, { ginFastupdate: true });
  return {
    db,
    sql,
    count: async () => Number((await sql.query<{ n: string }>('SELECT count(*) AS n FROM events')).rows[0]?.n),
    close: async () => {
      await sql.end();
      if (!existing) await db.release();
    },
  };
}
