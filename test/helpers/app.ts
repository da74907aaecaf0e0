import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { resolveConfig, type ConfigInput } from '../../src/core/config.ts';
import { buildApp } from '../../src/service/app.ts';
import { applySchema } from '../../src/store/schema.ts';
import { createTestDatabase, type TestDatabase } from './db.ts';

export interface AppFixture {
  db: TestDatabase;
  app: FastifyInstance;
  sql: pg.Pool;
  count(): Promise<number>;
  close(): Promise<void>;
}

/** A fresh database with the schema and a ready (not listening) app on it. */
export async function appFixture(input: ConfigInput = {}, db?: TestDatabase): Promise<AppFixture> {
  const database = db ?? (await createTestDatabase());
  const sql = new pg.Pool({ connectionString: database.primaryUrl, max: 4, application_name: 'esbench_test' });
  await applySchema(sql, { ginFastupdate: true });
  const config = resolveConfig(input, {});
  const app = await buildApp({ config, primaryUrl: database.primaryUrl, replicaUrl: database.replicaUrl });
  await app.ready();
  return {
    db: database,
    app,
    sql,
    count: async () => Number((await sql.query<{ n: string }>('SELECT count(*) AS n FROM events')).rows[0]?.n),
    close: async () => {
      await app.close();
      await sql.end();
      if (!db) await database.drop();
    },
  };
}
