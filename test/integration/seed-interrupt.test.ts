/**
 * `esbench seed` stopped by its signal, in-process (the CLI context's signal is what SIGINT/SIGTERM
 * abort): during the COPY nothing is written; after the COPY committed (VACUUM held up by a lock,
 * so the moment is deterministic) the VACUUM is cancelled, the rows stay, and the saved result is
 * marked partial. Both exit 130 with one INTERRUPTED line, promptly.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import type { TestDatabase } from '../helpers/db.ts';
import { schemaDatabase, type SchemaDatabase } from '../helpers/schema-db.ts';
import { waitFor } from '../helpers/store.ts';

let base: SchemaDatabase;
let db: TestDatabase;
let sql: pg.Pool;
const results = fs.mkdtempSync(path.join(os.tmpdir(), 'esb-seed-int-'));

beforeAll(async () => {
  base = await schemaDatabase();
  ({ db, sql } = base);
});
afterAll(async () => {
  await base?.close();
  fs.rmSync(results, { recursive: true, force: true });
});

const count = () => base.count();

function seed(events: number, controller: AbortController, onStderr: (text: string) => void) {
  let stderr = '';
  const done = main(['node', 'esbench', 'seed', '--events', String(events), '--results', results, '--primary-url', db.primaryUrl, '--replica-url', db.replicaUrl], {
    env: {},
    signal: controller.signal,
    stdout: () => {},
    stderr: (t) => {
      stderr += t;
      onStderr(stderr);
    },
  });
  return { done, stderr: () => stderr };
}

describe('seed interrupted by its signal', () => {
  it('during the COPY: exit 130, nothing written, no result saved', async () => {
    const controller = new AbortController();
    const run = seed(1_000_000, controller, (text) => {
      if (/seed: [1-9]\d*\/1000000/.test(text)) controller.abort();
    });
    const t0 = Date.now();
    expect(await run.done, run.stderr()).toBe(130);
    expect(Date.now() - t0).toBeLessThan(20_000);
    expect(run.stderr().split('\n').filter((l) => l.startsWith('esbench:'))).toEqual([
      'esbench: INTERRUPTED: seeding interrupted; nothing was written (COPY is one transaction)',
    ]);
    expect(await count()).toBe(0);
    expect(fs.readdirSync(results).filter((f) => f.endsWith('-seed'))).toEqual([]);
  });

  it('after the COPY committed: the VACUUM is cancelled, the rows stay, the saved result is marked partial', async () => {
    const EVENTS = 200_000;
    // VACUUM needs SHARE UPDATE EXCLUSIVE on events; COPY does not conflict with it. Taken while
    // the COPY runs (the schema check before it would wait too), it parks the seed right after its
    // COPY committed.
    const locker = await sql.connect();
    try {
      const controller = new AbortController();
      let copying!: () => void;
      const copyStarted = new Promise<void>((r) => (copying = r));
      const run = seed(EVENTS, controller, (text) => {
        if (/seed: [1-9]\d*\//.test(text)) copying();
      });
      await copyStarted;
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE events IN SHARE UPDATE EXCLUSIVE MODE');
      await waitFor(async () => {
        const r = await sql.query("SELECT 1 FROM pg_stat_activity WHERE datname = $1 AND query LIKE 'VACUUM%' AND wait_event_type = 'Lock'", [db.name]);
        return r.rowCount === 1 ? true : undefined;
      }, 30_000);
      const t0 = Date.now();
      controller.abort();
      expect(await run.done, run.stderr()).toBe(130);
      expect(Date.now() - t0).toBeLessThan(3000);
      const lines = run.stderr().split('\n').filter((l) => l.startsWith('esbench:'));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^esbench: INTERRUPTED: seeding interrupted after the COPY: 200000 events were written but VACUUM ANALYZE did not finish; run `esbench maintain`/);
      const [run1] = fs.readdirSync(results).filter((f) => f.endsWith('-seed'));
      const saved = JSON.parse(fs.readFileSync(path.join(results, run1!, 'seed.json'), 'utf8')) as { partial?: boolean; eventsWritten?: number };
      expect(saved).toMatchObject({ partial: true, eventsWritten: EVENTS });
    } finally {
      await locker.query('COMMIT');
      locker.release();
    }
    expect(await count()).toBe(EVENTS);
  });
});
