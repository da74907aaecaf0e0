/**
 * A `pg` pool with pgxpool's semantics for `min` and with timing of every acquire and statement.
 *
 * pg-pool's own `min` only stops idle eviction below `min`; it never opens connections. pgxpool's
 * MinConns (what the study tuned, 20 → 2) opens them at start and keeps topping the pool up (its
 * health check runs every minute; we check every second). So: open `min` at start, refill when
 * lifetime expiry or a broken connection drops the pool below `min`.
 */
import pg from 'pg';
import { poolApplicationName } from '../core/application-names.ts';
import type { PoolConfig } from '../core/config.ts';
import { EsbenchError, fromDatabaseError, isSqlState, sessionGone } from '../core/errors.ts';
import { currentEndpoint } from './statement-scope.ts';

export type PoolName = 'primary' | 'replica';

/** Per-request accumulator behind the Server-Timing header. */
export class Timing {
  /**
   * Aborted when the client went away (it timed out, as the study's 1 s client does under
   * overload). Every step that would take a connection checks it first, so the service sheds work
   * nobody will read instead of queueing it in front of live requests.
   */
  constructor(readonly signal?: AbortSignal) {}

  poolWaitMs = 0;
  dbMs = 0;
  statements = 0;
  /** Calls per `pool.statement` (e.g. `primary.query`), so a client can attribute DB execution per request. */
  readonly calls = new Map<string, number>();
  /** A read model fell back from the replica to the primary. */
  fallback = false;
  /** Round trips to the database (one per pipeline, whatever its number of statements). */
  roundTrips = 0;
  /** Rows and bytes of DataRow messages received (what the driver had to decode). */
  rows = 0;
  bytes = 0;
  /**
   * Per statement with a result set: from its RowDescription message to its CommandComplete, as
   * the driver saw them (parsing and type-converting the rows, plus any rows still arriving over
   * the wire). Part of dbMs.
   */
  decodeMs = 0;
}

export interface PoolObserver {
  acquired?(pool: PoolName, waitMs: number): void;
  statement?(pool: PoolName, statement: string, ms: number, ok: boolean): void;
}

/** One named statement; the name tags the SQL for pg_stat_statements and labels metrics. */
export interface Statement {
  name: string;
  text: string;
  values?: unknown[];
  /**
   * A named prepared statement: parsed once per connection, and after five executions planned
   * generically when PostgreSQL finds the generic plan no dearer than the custom ones. Only for
   * statements whose plan does not hinge on a parameter's value.
   */
  prepare?: boolean;
}

/** Prepared-statement names by statement text (per process; pg tracks which connection parsed which). */
const preparedNames = new Map<string, string>();
/** Beyond this many distinct texts (e.g. the generic append route's arbitrary filters), statements stay unnamed. */
const MAX_PREPARED = 500;

function preparedName(text: string): string | undefined {
  let name = preparedNames.get(text);
  if (name === undefined && preparedNames.size < MAX_PREPARED) {
    name = `esbench_${preparedNames.size + 1}`;
    preparedNames.set(text, name);
  }
  return name;
}

export interface Session {
  /** Runs one named statement; the name tags the SQL for pg_stat_statements and labels metrics. */
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(name: string, text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
  /**
   * Sends every statement at once (pg's pipeline mode) and waits for all of them: one round trip.
   * The server still runs them one after the other, each with its own snapshot. Throws the first
   * statement's error (later ones then fail with 25P02 inside a transaction block).
   */
  pipeline(statements: readonly Statement[]): Promise<pg.QueryResult[]>;
}

export interface PoolStats {
  total: number;
  idle: number;
  waiting: number;
  max: number;
}

const now = () => performance.now();

/** Throws CLIENT_CLOSED_REQUEST when the request's client went away. */
export function abandoned(timing: Timing | undefined): void {
  if (timing?.signal?.aborted) throw new EsbenchError('CLIENT_CLOSED_REQUEST', 'the client went away; the request was not continued');
}

/**
 * How much longer than the statement timeout the client waits for an answer before it gives the
 * connection up. statement_timeout is enforced by the server: a node that is frozen (SIGSTOP, VM
 * pause, a network partition that drops packets) never sends it, and the request would hang for
 * ever on its checked-out connection.
 */
export const QUERY_TIMEOUT_GRACE_MS = 1000;

/**
 * Tags a statement for pg_stat_statements with a TRAILING comment: normalisation keeps comments in
 * the stored text, so the observer can map statistics back to statement names. Trailing, because
 * PostgreSQL 18 drops leading comments from the stored text (15-17 keep them).
 *
 * Within a request (see statement-scope.ts) the tag also names the endpoint, `name@endpoint`. A
 * comment alone would not keep endpoints apart: queryid ignores comments, so the same SQL sent by
 * two endpoints is one pg_stat_statements entry that keeps the first caller's text (measured: lend
 * and add-copy then shared one mean). So a statement that can carry a WITH clause also gets an
 * unused, empty CTE named after the endpoint: CTE names are part of the queryid (checked on PG 15 and 17), the
 * parser keeps it, the planner drops it (an unreferenced SELECT CTE is never planned or run).
 * Utility statements (BEGIN, COMMIT) cannot carry one; from PG 16 their queryid ignores the text,
 * so they stay shared between endpoints (the split says so).
 */
export function tagSql(name: string, text: string, endpoint: string | undefined = currentEndpoint()): string {
  if (endpoint === undefined) return `${text} /* esbench:${name} */`;
  return `${withEndpointCte(endpoint, text)} /* esbench:${name}@${endpoint} */`;
}

/** The statement's key in Server-Timing and in pg_stat_statements tags: `name` or `name@endpoint`. */
export function statementKey(name: string, endpoint: string | undefined = currentEndpoint()): string {
  return endpoint === undefined ? name : `${name}@${endpoint}`;
}

const CAN_TAKE_WITH = /^\s*(SELECT|INSERT|UPDATE|DELETE)\b/i;
const HAS_WITH = /^\s*WITH(\s+RECURSIVE)?\s/i;

/** `WITH "esbench_ep:<endpoint>" AS (SELECT) <text>`, merged into a WITH the statement already has. */
export function withEndpointCte(endpoint: string, text: string): string {
  const cte = `"esbench_ep:${endpoint}" AS (SELECT)`;
  const w = HAS_WITH.exec(text);
  if (w) return `${w[0]}${cte}, ${text.slice(w[0].length)}`;
  if (CAN_TAKE_WITH.test(text)) return `WITH ${cte} ${text}`;
  return text;
}

const BEGIN: Statement = { name: 'begin', text: 'BEGIN' };
const COMMIT: Statement = { name: 'commit', text: 'COMMIT' };

export class DbPool {
  readonly name: PoolName;
  readonly config: Readonly<PoolConfig>;
  private readonly pool: pg.Pool;
  private readonly observer: PoolObserver;
  private refill: NodeJS.Timeout | undefined;
  private refilling = false;
  private closed = false;

  constructor(name: PoolName, url: string, config: Readonly<PoolConfig>, observer: PoolObserver = {}) {
    this.name = name;
    this.config = config;
    this.observer = observer;
    this.pool = new pg.Pool({
      connectionString: url,
      max: config.max,
      min: config.min,
      idleTimeoutMillis: config.idleTimeoutMs,
      maxLifetimeSeconds: Math.ceil(config.maxLifetimeMs / 1000),
      connectionTimeoutMillis: config.acquireTimeoutMs,
      statement_timeout: config.statementTimeoutMs || undefined,
      // A held-lock command keeps its transaction open across one service round trip; a service
      // that stalls there (paused, partitioned) must not keep its boundary locked for longer than
      // a statement may run: the server ends such a session and so releases its locks.
      idle_in_transaction_session_timeout: config.statementTimeoutMs || undefined,
      query_timeout: config.statementTimeoutMs ? config.statementTimeoutMs + QUERY_TIMEOUT_GRACE_MS : undefined,
      application_name: poolApplicationName(name),
      // Lets pipelinedTransaction send a whole transaction in one write. Statements awaited one by
      // one behave exactly as without it. (No COPY or cursors on these pools: pg refuses them here.)
      pipeline: true,
    });
    // An idle client's connection dropped (crash, restart): pg-pool removes it; don't crash the process.
    this.pool.on('error', () => {});
  }

  /** Opens `min` connections and starts the refill loop. Resolves when they are open. */
  async start(): Promise<void> {
    await this.topUp();
    if (this.config.min > 0) {
      this.refill = setInterval(() => void this.topUp().catch(() => {}), 1000);
      this.refill.unref();
    }
  }

  private async topUp(): Promise<void> {
    if (this.refilling || this.closed) return;
    this.refilling = true;
    try {
      const missing = this.config.min - this.pool.totalCount;
      if (missing <= 0) return;
      // pg-pool hands out idle clients before it opens new ones, so asking for `missing` clients
      // while some are idle only borrows those and opens fewer (or none): with 2 of 3 idle after a
      // backend was terminated, every second's top-up borrowed them and the pool stayed at 2 for
      // ever. So ask for the idle ones as well; all are held until the new ones are open.
      const wanted = missing + this.pool.idleCount;
      // allSettled, not all: when only some connects succeed (a node starting up, a connection
      // limit), the ones that did must go back to the pool, or they stay checked out for ever and
      // the pool silently shrinks by that many connections.
      const settled = await Promise.allSettled(Array.from({ length: wanted }, () => this.pool.connect()));
      for (const s of settled) if (s.status === 'fulfilled') s.value.release();
      const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
      if (failed) throw fromDatabaseError(failed.reason);
    } finally {
      this.refilling = false;
    }
  }

  stats(): PoolStats {
    return { total: this.pool.totalCount, idle: this.pool.idleCount, waiting: this.pool.waitingCount, max: this.config.max };
  }

  /** Checks out one connection for `fn` (a transaction, or a few statements), timing the wait. */
  async withSession<T>(fn: (session: Session) => Promise<T>, timing?: Timing): Promise<T> {
    abandoned(timing);
    const t0 = now();
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (e) {
      throw fromDatabaseError(e);
    }
    if (timing?.signal?.aborted) {
      client.release();
      abandoned(timing);
    }
    const waited = now() - t0;
    if (timing) timing.poolWaitMs += waited;
    this.observer.acquired?.(this.name, waited);
    let broken: Error | undefined;
    // pg emits 'error' on a client whose connection ends unexpectedly (a node killed, a backend
    // terminated), even when a query is in flight; pg-pool only listens while the client is idle.
    // Without a listener here, that event is uncaught and takes the whole service down.
    const onConnectionError = (e: Error) => {
      broken ??= e;
    };
    client.on('error', onConnectionError);
    const markBroken = (e: unknown): void => {
      const code = (e as { code?: string }).code;
      // Connection-level failures (no SQLSTATE: a socket error or pg's "Connection terminated";
      // or a SQLSTATE that ends the session): do not return this client to the pool.
      if (!isSqlState(code) || sessionGone(code)) broken ??= e as Error;
    };
    const pipeline = async (statements: readonly Statement[]): Promise<pg.QueryResult[]> => {
      // A broken connection answers nothing more: fail now (e.g. the ROLLBACK after a statement
      // that timed out on a frozen node) instead of waiting for another query timeout.
      if (broken) throw fromDatabaseError(broken);
      const s0 = now();
      // Results arrive in order; each statement is charged the time from the previous result to
      // its own, so the per-statement figures add up to the pipeline's round trip.
      let last = s0;
      const endpoint = currentEndpoint();
      const settle = (name: string, ok: boolean): void => {
        const t = now();
        if (timing) {
          timing.statements += 1;
          const key = `${this.name}.${statementKey(name, endpoint)}`;
          timing.calls.set(key, (timing.calls.get(key) ?? 0) + 1);
        }
        this.observer.statement?.(this.name, name, t - last, ok);
        last = t;
      };
      // In pipeline mode each query is written as it is submitted; corked, the whole batch
      // leaves in one write. Syscalls are what a round trip costs most on a small (virtualized)
      // machine, for both this process and the backend it wakes.
      const connection = (client as unknown as pg.Client).connection;
      const stream = connection.stream;
      // What the driver decodes: the listeners run next to pg's own, message by message.
      let rowsFrom: number | null = null;
      const onRowDescription = (): void => {
        rowsFrom = now();
      };
      const onDataRow = (msg: { length: number }): void => {
        if (!timing) return;
        timing.rows += 1;
        timing.bytes += msg.length;
      };
      const onCommandComplete = (): void => {
        if (rowsFrom !== null && timing) timing.decodeMs += now() - rowsFrom;
        rowsFrom = null;
      };
      if (timing) {
        timing.roundTrips += 1;
        connection.on('rowDescription', onRowDescription);
        connection.on('dataRow', onDataRow);
        connection.on('commandComplete', onCommandComplete);
      }
      stream.cork();
      let sent: Array<Promise<pg.QueryResult>>;
      try {
        sent = statements.map((st) => {
          const text = tagSql(st.name, st.text, endpoint);
          const name = st.prepare ? preparedName(text) : undefined;
          return client.query(name === undefined ? { text, values: st.values } : { name, text, values: st.values }).then(
            (r) => {
              settle(st.name, true);
              return r;
            },
            (e: unknown) => {
              settle(st.name, false);
              markBroken(e);
              throw e;
            },
          );
        });
      } finally {
        stream.uncork();
      }
      const settled = await Promise.allSettled(sent);
      if (timing) {
        timing.dbMs += now() - s0;
        connection.removeListener('rowDescription', onRowDescription);
        connection.removeListener('dataRow', onDataRow);
        connection.removeListener('commandComplete', onCommandComplete);
      }
      const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw fromDatabaseError(failed.reason);
      return settled.map((r) => (r as PromiseFulfilledResult<pg.QueryResult>).value);
    };
    const session: Session = {
      // One statement is a pipeline of one: the same timing, broken-connection and error handling.
      query: async <R extends pg.QueryResultRow>(name: string, text: string, values?: unknown[]) =>
        (await pipeline([{ name, text, ...(values ? { values } : {}) }]))[0] as pg.QueryResult<R>,
      pipeline,
    };
    try {
      return await fn(session);
    } finally {
      client.removeListener('error', onConnectionError);
      // A broken client is destroyed instead of going back to the pool, so the next checkout
      // opens a fresh connection (and the refill loop restores `min`).
      client.release(broken);
    }
  }

  /** One statement on a pooled connection. */
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(name: string, text: string, values?: unknown[], timing?: Timing): Promise<pg.QueryResult<R>> {
    return this.withSession((s) => s.query<R>(name, text, values), timing);
  }

  /**
   * BEGIN, `statements`, COMMIT in one round trip (pipeline mode): for a transaction whose
   * statements do not depend on each other's results. Returns the statements' results. A failing
   * statement aborts the transaction (its COMMIT then answers ROLLBACK) and its error is thrown.
   */
  async pipelinedTransaction(statements: readonly Statement[], timing?: Timing): Promise<pg.QueryResult[]> {
    return this.withSession(async (s) => {
      const results = await s.pipeline([BEGIN, ...statements, COMMIT]);
      // Defensive: every failure above throws; a COMMIT that answers ROLLBACK committed nothing.
      if (results.at(-1)?.command !== 'COMMIT') throw new EsbenchError('INTERNAL', 'the transaction was rolled back');
      return results.slice(1, -1);
    }, timing);
  }

  /**
   * An interactive transaction: `begin` (e.g. `BEGIN ISOLATION LEVEL SERIALIZABLE`) … COMMIT
   * around fn, whose statements depend on each other's results; ROLLBACK when it throws.
   */
  transaction<T>(fn: (session: Session) => Promise<T>, options: { timing?: Timing; begin?: string } = {}): Promise<T> {
    return this.withSession(async (s) => {
      await s.query(BEGIN.name, options.begin ?? BEGIN.text);
      try {
        const result = await fn(s);
        await s.query(COMMIT.name, COMMIT.text);
        return result;
      } catch (e) {
        await s.query('rollback', 'ROLLBACK').catch(() => {});
        throw e;
      }
    }, options.timing);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.refill) clearInterval(this.refill);
    await this.pool.end();
  }
}
