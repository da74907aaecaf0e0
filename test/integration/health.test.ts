/**
 * health and maintain against the real embedded primary + replica: a fresh seeded database gets a
 * status from every check; bloating events on purpose makes the dead-tuple check warn (and
 * --strict fail); maintain brings it back to good.
 */
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { CHECK_IDS, runHealthChecks, type HealthReport } from '../../src/observe/health-checks.ts';
import { figureText } from '../../src/report/health-figures.ts';
import { DEFAULT_STEPS, loadAutovacuumProfile, planMaintenance, runMaintenance } from '../../src/store/maintenance.ts';
import { applySchema } from '../../src/store/schema.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { waitFor } from '../helpers/store.ts';

const EVENTS = 3000;
const TYPES = ['BookCopyAddedToCirculation', 'BookCopyLentToReader', 'BookCopyReturnedByReader', 'ReaderContractSigned'];

let db: TestDatabase;
let client: pg.Client;
/** A login role without rights on the tables (roles are cluster-wide: dropped in afterAll). */
const plainRole = `r_${Math.random().toString(16).slice(2, 10)}`;

function byId(report: HealthReport, id: string) {
  const c = report.checks.find((x) => x.id === id);
  if (!c) throw new Error(`no check ${id}`);
  return c;
}

/**
 * VACUUM can only remove rows older than every snapshot that might still see them, and with
 * hot_standby_feedback that includes the replica's, reported through the physical slot every
 * wal_receiver_status_interval. Wait until the slot's xmin has passed a transaction newer than the
 * bloat; otherwise the vacuum would rightly leave the dead rows and the test would be flaky.
 */
async function waitForReplicaHorizon(): Promise<void> {
  const { rows } = await client.query<{ xid: string }>('SELECT pg_current_xact_id()::text AS xid');
  const xid = rows[0]!.xid;
  const deadline = Date.now() + 20_000;
  for (;;) {
    const r = await client.query<{ passed: boolean }>(
      `SELECT coalesce(bool_and(xmin IS NULL OR age(xmin) <= age(xid($1::xid8))), true) AS passed
         FROM pg_replication_slots WHERE slot_type = 'physical'`,
      [xid],
    );
    if (r.rows[0]?.passed) return;
    if (Date.now() > deadline) throw new Error('the replica\'s feedback xmin did not pass the bloat within 20 s');
    await new Promise((res) => setTimeout(res, 100));
  }
}

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(['node', 'esbench', ...args], { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), env: {} });
  return { code, stdout, stderr };
}

beforeAll(async () => {
  db = await createTestDatabase();
  client = new pg.Client({ connectionString: db.primaryUrl });
  await client.connect();
  await applySchema(client, { ginFastupdate: true });
  // Autovacuum would otherwise decide when the dead rows go (inserts alone trigger it since
  // PostgreSQL 13); this test wants to decide that itself.
  await client.query('ALTER TABLE events SET (autovacuum_enabled = false)');
  const types: string[] = [];
  const payloads: string[] = [];
  const metadata: string[] = [];
  for (let i = 0; i < EVENTS; i++) {
    types.push(TYPES[i % TYPES.length]!);
    payloads.push(JSON.stringify({ BookID: `book-${i % 1000}`, ReaderID: `reader-${i % 100}` }));
    metadata.push(JSON.stringify({ source: 'health-test' }));
  }
  await client.query(
    'INSERT INTO events (event_type, payload, metadata) SELECT * FROM unnest($1::text[], $2::jsonb[], $3::jsonb[])',
    [types, payloads, metadata],
  );
  await client.query('SELECT pg_stat_force_next_flush()');
  // The plan check EXPLAINs on the replica: wait until it has replayed the rows (under a busy
  // suite the replica lagged and the check found "no events to probe yet").
  const replica = new pg.Client({ connectionString: db.replicaUrl });
  await replica.connect();
  try {
    await waitFor(async () => ((await replica.query<{ n: number }>('SELECT count(*)::int AS n FROM events')).rows[0]!.n === EVENTS ? true : undefined), 30_000, 'the replica to replay the seeded events');
  } finally {
    await replica.end();
  }
});

afterAll(async () => {
  await client?.end();
  await db?.release();
  const admin = new pg.Client({ connectionString: db.primaryUrl.replace(`/${db.name}`, '/postgres') });
  await admin.connect();
  // The name is generated above from hex digits only.
  await admin.query(`DROP ROLE IF EXISTS ${plainRole}`).finally(() => admin.end());
});

describe('esbench health and maintain on a real cluster', () => {
  it('gives every check a status, a figure and a threshold on a fresh seeded database', async () => {
    const report = await runHealthChecks({ primaryUrl: db.primaryUrl, replicaUrl: db.replicaUrl, dataDir: db.dataDir });
    expect(report.database).toBe(db.name);
    expect(report.checks.map((c) => c.id)).toEqual([...CHECK_IDS]);
    for (const c of report.checks) {
      expect(['good', 'ok', 'warning'], c.id).toContain(c.status);
      expect(c.figures, c.id).not.toBeNull();
      expect(figureText(c), c.id).not.toMatch(/^could not run/);
      expect(figureText(c).length, c.id).toBeGreaterThan(0);
      expect(c.threshold.length, c.id).toBeGreaterThan(5);
    }
    expect(byId(report, 'dead_tuples').status).toBe('good');
    expect(figureText(byId(report, 'storage'))).toMatch(/events ~?\d+ rows/);
    expect(figureText(byId(report, 'storage'))).toMatch(/disk of .* \d+% used/);
    // Both nodes answered, and the embedded replica streams.
    expect(byId(report, 'cache_hit').nodes).toEqual(['primary', 'replica']);
    expect(figureText(byId(report, 'replication'))).toMatch(/esbench_replica streaming/);
    // The figures are data; the printer's text above is made from them.
    expect(byId(report, 'replication').figures).toMatchObject({ replicaConfigured: true, standbys: [{ name: 'esbench_replica', state: 'streaming' }] });
    expect(byId(report, 'query_plans').details).toHaveLength(3);
    expect(figureText(byId(report, 'autovacuum_settings'))).toMatch(/events\.autovacuum_enabled=false/);
    expect(byId(report, 'autovacuum_settings').status).toBe('warning');
  });

  it('runs every plain SQL file of sql/health as psql users would (fallbacks included)', async () => {
    const dir = path.resolve('sql/health');
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.sql') && f !== '04_query_plans.sql');
    expect(files.length).toBeGreaterThanOrEqual(16);
    const replica = new pg.Client({ connectionString: db.replicaUrl });
    await replica.connect();
    try {
      for (const f of files) {
        const sql = fs.readFileSync(path.join(dir, f), 'utf8');
        // Each file names the node it is meant for; "BOTH" files must run on the replica too.
        const nodes = /Run on the REPLICA|run on the replica/.test(sql) ? [replica] : /BOTH/.test(sql) ? [client, replica] : [client];
        for (const c of nodes) {
          const r = await c.query(sql);
          for (const row of r.rows as Array<Record<string, unknown>>) {
            if ('status' in row) expect(['good', 'ok', 'warning'], f).toContain(row.status);
          }
        }
      }
    } finally {
      await replica.end();
    }
  });

  it('warns on dead tuples after updates and deletes, and --strict exits 1 with CHECK_FAILED', async () => {
    await client.query(`UPDATE events SET metadata = metadata || '{"touched": true}' WHERE sequence_number % 2 = 0`);
    await client.query('DELETE FROM events WHERE sequence_number % 5 = 1');
    await client.query('SELECT pg_stat_force_next_flush()');

    const report = await runHealthChecks({ primaryUrl: db.primaryUrl, replicaUrl: db.replicaUrl }, { only: ['dead_tuples', 'index_usage'] });
    const dead = byId(report, 'dead_tuples');
    // The first run's EXPLAIN ANALYZE probes ran on the replica; they must not count as index use
    // (else every health run would make the indexes it probes look used to the next one).
    const probed = byId(report, 'index_usage').details.filter((d) => d.index === 'idx_events_occurred_at' || d.index === 'idx_events_payload_gin');
    expect(probed.map((d) => d.scans)).toEqual([{ primary: 0, replica: 0 }, { primary: 0, replica: 0 }]);
    expect(dead.status).toBe('warning');
    expect(dead.value).toBeGreaterThan(10);

    const run = await cli(['health', '--primary-url', db.primaryUrl, '--replica-url', db.replicaUrl, '--only', 'dead_tuples', '--json', '--strict']);
    expect(run.code).toBe(1);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/^esbench: CHECK_FAILED: 1 check\(s\) warned: dead_tuples/);
    expect((JSON.parse(run.stdout) as HealthReport).checks[0]!.status).toBe('warning');
  });

  it('is good again after maintain, which also applied the per-table profile', async () => {
    await waitForReplicaHorizon();
    const profile = loadAutovacuumProfile(path.resolve('tuning/autovacuum/seed003-per-table.conf'));
    const report = await runMaintenance(db.primaryUrl, planMaintenance({ steps: DEFAULT_STEPS, profile }));
    expect(report.error).toBeUndefined();
    expect(report.steps.map((s) => [s.name, s.status])).toEqual([
      ['vacuum', 'done'],
      ['reindex', 'done'],
      ['autovacuum', 'done'],
    ]);
    expect(report.steps[1]!.statements.every((s) => s.status === 'done' && s.durationMs > 0)).toBe(true);

    const after = await runHealthChecks({ primaryUrl: db.primaryUrl, replicaUrl: db.replicaUrl }, { only: ['dead_tuples', 'vacuum_analyze', 'autovacuum_settings', 'index_usage', 'unused_indexes'] });
    expect(byId(after, 'dead_tuples').status).toBe('good');
    expect(figureText(byId(after, 'vacuum_analyze'))).toMatch(/events: vacuumed \d+ s ago, analyzed \d+ s ago/);
    expect(figureText(byId(after, 'autovacuum_settings'))).toMatch(/events\.fillfactor=98/);
    // REINDEX CONCURRENTLY left no invalid index behind.
    expect(figureText(byId(after, 'index_usage'))).not.toMatch(/INVALID/);
    // REINDEX CONCURRENTLY builds new indexes: the replica's per-index counters start again at 0.
    expect(figureText(byId(after, 'unused_indexes'))).toMatch(/idx_events_occurred_at/);
  });

  it('as a role without rights: maintain fails instead of reporting a skipped VACUUM as done, health falls back', async () => {
    await client.query(`CREATE ROLE ${plainRole} LOGIN`);
    const url = (u: string) => u.replace('postgres@', `${plainRole}@`);
    // The role must have reached the replica before health logs in there as that role.
    await waitFor(async () => {
      const r = new pg.Client({ connectionString: url(db.replicaUrl) });
      await r.connect();
      await r.end();
      return true;
    });
    const report = await runMaintenance(url(db.primaryUrl), planMaintenance({ steps: ['vacuum'] }));
    expect(report.ok).toBe(false);
    expect(report.error?.code).toBe('BAD_CONFIG');
    expect(report.steps[0]!.statements[0]).toMatchObject({ status: 'failed', detail: expect.stringMatching(/skipping/) });

    const health = await runHealthChecks({ primaryUrl: url(db.primaryUrl), replicaUrl: url(db.replicaUrl) }, { only: ['index_usage', 'bloat'] });
    expect(byId(health, 'index_usage').notes.join(' ')).toMatch(/not a superuser on primary and replica/);
    expect(byId(health, 'bloat').notes.join(' ')).toMatch(/pgstattuple unavailable/);
    expect(figureText(byId(health, 'bloat'))).not.toMatch(/^could not run/);
  });
});
