import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { DbPool } from './db-pool.ts';
import type { BoundaryIndex } from './filter.ts';

export const SQL_DIR = fileURLToPath(new URL('../../sql/', import.meta.url));

export function readSql(name: string): string {
  return fs.readFileSync(`${SQL_DIR}${name}`, 'utf8');
}

export interface SchemaOptions {
  /** GIN fastupdate of the payload / metadata indexes (the study switched it off, then on). */
  ginFastupdate: boolean;
  /**
   * The boundary index strategy's indexes: 'btree' creates sql/boundary-btree.sql's, 'gin' drops
   * them (the study's indexes only); undefined leaves them as they are.
   */
  boundaryIndex?: BoundaryIndex;
}

/**
 * Applies sql/schema.sql (idempotent). Run on the primary only: the replica receives it by WAL.
 * `:fastupdate` becomes the literal on/off; storage parameters cannot be bound as parameters and
 * the value comes from a boolean, never from user text.
 */
export async function applySchema(db: DbPool | pg.ClientBase | pg.Pool, options: SchemaOptions): Promise<void> {
  const boundary = options.boundaryIndex === undefined ? '' : `; ${readSql(`boundary-${options.boundaryIndex}.sql`)}`;
  const sql = readSql('schema.sql').replaceAll(':fastupdate', options.ginFastupdate ? 'on' : 'off') + boundary;
  // One advisory lock so that concurrent starters (tests, service + seed) do not race on CREATE.
  const text = `SELECT pg_advisory_lock(7363021); ${sql}; SELECT pg_advisory_unlock(7363021);`;
  if (db instanceof DbPool) await db.query('schema', text);
  else await db.query(text);
}
