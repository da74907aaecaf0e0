import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import { resolveConfig, type ConfigInput } from '../../src/core/config.ts';
import { buildApp } from '../../src/service/app.ts';
import { applySchema } from '../../src/store/schema.ts';
import type { TestDatabase } from './db.ts';
import { schemaDatabase } from './schema-db.ts';

export interface AppFixture {
  db: TestDatabase;
  app: FastifyInstance;
  sql: pg.Pool;
  count(): Promise<number>;
  close(): Promise<void>;
}

/** A fresh database with the schema and a ready (not listening) app on it. */
export async function appFixture(input: ConfigInput = {}, db?: TestDatabase): Promise<AppFixture> {
  const base = await schemaDatabase(db);
  const config = resolveConfig(input, {});
  // The boundary index strategy's indexes, as `serve` creates them (src/cli/prepare.ts).
  await applySchema(base.sql, { ginFastupdate: true, boundaryIndex: config.service.boundaryIndex });
  const app = await buildApp({ config, primaryUrl: base.db.primaryUrl, replicaUrl: base.db.replicaUrl });
  await app.ready();
  return {
    db: base.db,
    app,
    sql: base.sql,
    count: base.count,
    close: async () => {
      await app.close();
      await base.close();
    },
  };
}
