/**
 * The event store: query a boundary, append conditionally. Two append strategies:
 *
 *  - `safe` (default): advisory locks keyed by the boundary and by what is written (lock-keys.ts),
 *    then check + insert in one statement, in one short READ COMMITTED transaction.
 *    With `locking: 'held'` a command's read and append share one transaction instead
 *    (`decideAndAppend`): the boundary's locks are held from the read to the append, so the
 *    append needs no check (README, "Cost per command").
 *  - `baseline`: the study's statement shape (MAX over the filter in a CTE compared with the
 *    expected version, then INSERT ... SELECT), READ COMMITTED, no lock. Two racing appends on
 *    the same boundary can both succeed; kept so the study can measure what safety costs.
 *
 * Why advisory locks rather than SERIALIZABLE — measured with `npm run bench -- --only append-race`
 * (this 2-core machine, PG 17, 10K events, 32 clients lending/returning in a hot set of 10 readers
 * x 100 books for 15 s, in-process command handler):
 *
 *   strategy      commands/s  conflicts  serialization failures  retries exhausted  double lends
 *   safe (locks)         139       1283                       0                 27             0
 *   SERIALIZABLE          99          0                    3704                291             0
 *   baseline             167       1556                       0                 37            18
 *
 * The baseline is fastest because it is wrong (18 copies lent twice in 15 s). SERIALIZABLE is
 * correct, but it aborts about three times as often as there are real conflicts (3704 failures vs
 * 1283 conflicts under `safe`): its predicate locks on GIN indexes are page-level (and, per
 * PostgreSQL's GIN code, an insert into the fastupdate pending list conflicts with every concurrent
 * serializable GIN scan), so boundaries that merely share index pages abort each other. Result: 29%
 * fewer commands and 11x more commands out of retries. Advisory locks make only overlapping
 * boundaries wait, and the only retries left are real conflicts.
 */
import { ConcurrencyConflict, EsbenchError, isEsbenchError } from '../core/errors.ts';
import type { AppendStrategyName, LockingMode } from '../core/config.ts';
import { abandoned, type DbPool, type Session, type Statement, type Timing } from './db-pool.ts';
import { compileFilter, type BoundaryIndex, type Filter, type FilterItem, type JsonObject, type JsonValue } from './filter.ts';
import { appendLocks, heldLocks, readLocks, uncovered, type LockSet, type NewEvent } from './lock-keys.ts';
import type { SnapshotKey } from './snapshot-store.ts';

export type { NewEvent } from './lock-keys.ts';

export interface StoredEvent {
  sequenceNumber: number;
  occurredAt: string;
  type: string;
  payload: JsonObject;
  metadata: JsonObject;
}

/**
 * An event as a decision folds it: what the rules read. A decision read does not fetch
 * occurred_at and metadata (no rule uses them): fewer bytes from the primary, and no timestamp
 * or JSON to decode in the service per event.
 */
export interface FoldedEvent {
  sequenceNumber: number;
  type: string;
  payload: JsonObject;
}

export interface QueryResult {
  events: StoredEvent[];
  /** The last sequence number read; 0 if the boundary is empty. */
  version: number;
}

export interface AppendCondition {
  filter: Filter;
  expectedVersion: number;
  /**
   * The expected version is a position the boundary was folded up to (a snapshot's: the seed's
   * are at the last seeded event, not at each entity's own last event), not necessarily a boundary
   * event. The safe append's check ("nothing newer than it") takes either; the study's baseline
   * statement compares the boundary's max for equality, so with this set it uses `<=` instead.
   */
  expectedIsUpperBound?: boolean;
}

export interface AppendResult {
  sequenceNumbers: number[];
  /** Sequence number of the last appended event. */
  version: number;
}

interface EventRow {
  sequence_number: string;
  occurred_at: Date;
  event_type: string;
  payload: JsonObject;
  metadata: JsonObject;
}

const COLUMNS = 'sequence_number, occurred_at, event_type, payload, metadata';

/** A decision read's row: a snapshot (snap = its item's 1-based index, payload = its state) or an event (snap = 0). */
interface DecisionRow {
  snap: number;
  sequence_number: string;
  event_type: string | null;
  payload: JsonObject;
}

/** The study's baseline append; `compare` is only ever one of these two fixed operators. */
function baselineAppendSql(where: string, compare: '=' | '<='): string {
  return `WITH context AS (
      SELECT COALESCE(MAX(sequence_number), 0) AS max_seq FROM events WHERE ${where}
    ), ins AS (
      INSERT INTO events (event_type, payload, metadata)
      SELECT t, p, m FROM unnest($1::text[], $2::jsonb[], $3::jsonb[]) AS x(t, p, m), context
      WHERE context.max_seq ${compare} $4::bigint
      RETURNING sequence_number
    )
    SELECT (SELECT max_seq FROM context) AS max_seq,
           ARRAY(SELECT sequence_number FROM ins ORDER BY sequence_number) AS inserted`;
}

export const SQL = {
  lockKeys: 'SELECT esbench_lock_keys($1::bigint[], $2::boolean[])',
  query: (where: string) => `SELECT ${COLUMNS} FROM events WHERE ${where} ORDER BY sequence_number`,
  /** Check and insert in one statement (one snapshot): insert only if nothing matching is newer than $4. */
  appendChecked: (where: string) => `WITH newer AS (
      SELECT sequence_number FROM events WHERE sequence_number > $4::bigint AND ${where}
      ORDER BY sequence_number DESC LIMIT 1
    ), ins AS (
      INSERT INTO events (event_type, payload, metadata)
      SELECT t, p, m FROM unnest($1::text[], $2::jsonb[], $3::jsonb[]) AS x(t, p, m)
      WHERE NOT EXISTS (SELECT 1 FROM newer)
      RETURNING sequence_number
    )
    SELECT (SELECT sequence_number FROM newer) AS newer,
           ARRAY(SELECT sequence_number FROM ins ORDER BY sequence_number) AS inserted`,
  /** Held locks (`locking: 'held'`): nothing to check, the boundary cannot change until COMMIT. */
  appendHeld: `INSERT INTO events (event_type, payload, metadata)
      SELECT t, p, m FROM unnest($1::text[], $2::jsonb[], $3::jsonb[]) AS x(t, p, m)
      RETURNING sequence_number`,
  /**
   * A decision's read in one statement (one snapshot): the entities' snapshots ($1/$2: keys, one
   * per item, '' for none) and the boundary's events after them. Snapshot rows come first with
   * `snap` = their item's 1-based index; event rows have `snap` = 0. One statement, so the
   * versions the events are read after are exactly the snapshots returned (a snapshot written in
   * between two statements would otherwise hide the events between the two versions).
   */
  decisionRead: (where: string) => `WITH snap AS MATERIALIZED (
      SELECT k.i, s.sequence_number, s.snapshot_data
        FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS k(projection_type, filter_hash, i)
        JOIN snapshots s ON s.projection_type = k.projection_type AND s.filter_hash = k.filter_hash
    )
    SELECT i::int AS snap, sequence_number, NULL::text AS event_type, snapshot_data AS payload FROM snap
    UNION ALL
    SELECT 0, sequence_number, event_type, payload FROM events WHERE ${where}`,
  /** The study's shape: MAX over the whole boundary in a CTE, compared with the expected version. */
  appendBaseline: (where: string) => baselineAppendSql(where, '='),
  /**
   * The baseline append after a snapshot (esbench's decisions with the study's append): the same
   * statement with `<=`. Equality would refuse every append whose snapshot position is past the
   * boundary's last event — measured: 467 of 730 commands RETRIES_EXHAUSTED in the study's
   * `tuned+decisions` ablation. The study's own statement (full folds, `=`) is unchanged.
   */
  appendBaselineUpTo: (where: string) => baselineAppendSql(where, '<='),
} as const;

function toEvent(r: EventRow): StoredEvent {
  return {
    sequenceNumber: Number(r.sequence_number),
    occurredAt: r.occurred_at.toISOString(),
    type: r.event_type,
    payload: r.payload,
    metadata: r.metadata,
  };
}

function eventArrays(events: readonly NewEvent[]): [string[], string[], string[]] {
  return [events.map((e) => e.type), events.map((e) => JSON.stringify(e.payload)), events.map((e) => JSON.stringify(e.metadata ?? {}))];
}

const BEGIN_STATEMENT: Statement = { name: 'begin', text: 'BEGIN' };
const COMMIT_STATEMENT: Statement = { name: 'commit', text: 'COMMIT' };

/** What a decision reads: the boundary's items, each after its entity's snapshot when it has one. */
export interface DecisionRead {
  items: readonly FilterItem[];
  /** Per item: the snapshot to start from (undefined: read the item from the beginning). */
  snapshots?: ReadonlyArray<SnapshotKey | undefined>;
}

export interface DecisionReadResult {
  /** The boundary's events after each item's snapshot, in sequence order. */
  events: FoldedEvent[];
  /** Per item: its snapshot (state and the version it is valid at), if one was found. */
  snapshots: Array<{ sequenceNumber: number; state: JsonValue } | undefined>;
}

/** Reads inside a held-lock transaction (its locks already cover them). */
export interface LockedReader {
  query(filter: Filter): Promise<QueryResult>;
}

export interface StoreOptions {
  strategy?: AppendStrategyName;
  /** 'held': one transaction per decision holds the boundary's locks from read to append. */
  locking?: LockingMode;
  index?: BoundaryIndex;
  /** Named prepared statements (parsed once per connection and statement shape). */
  prepared?: boolean;
}

export interface QueryOptions {
  /**
   * Consistent read on the primary (default for commands): waits for in-flight appends that could
   * add to the boundary, so its version is safe to append against. Read models skip it.
   */
  consistent?: boolean;
  timing?: Timing;
}

export class EventStore {
  readonly strategy: AppendStrategyName;
  readonly locking: LockingMode;
  readonly index: BoundaryIndex;
  readonly prepared: boolean;

  constructor(
    readonly primary: DbPool,
    options: AppendStrategyName | StoreOptions = {},
  ) {
    const o = typeof options === 'string' ? { strategy: options } : options;
    this.strategy = o.strategy ?? 'safe';
    this.locking = o.locking ?? 'check';
    this.index = o.index ?? 'gin';
    this.prepared = o.prepared ?? false;
  }

  /**
   * A statement, prepared when `prepared` is on and its plan does not hinge on a value
   * (`valueMatters`): the checked append's scan and a GIN boundary read's `sequence_number > N`
   * stay unnamed, so each is planned for its values (a generic plan turned the check into a
   * backward primary-key scan: pgbench 370 → 177 tps).
   */
  private statement(name: string, text: string, values: unknown[], valueMatters = false): Statement {
    return this.prepared && !valueMatters ? { name, text, values, prepare: true } : { name, text, values };
  }

  /** Query on `pool` (the primary unless a read model passes the replica's). */
  async query(filter: Filter, options: QueryOptions = {}, pool: DbPool = this.primary): Promise<QueryResult> {
    const { where, params } = compileFilter(filter, 1, { index: this.index });
    const query = this.statement('query', SQL.query(where), params, this.index === 'gin');
    const consistent = (options.consistent ?? pool === this.primary) && this.strategy === 'safe';
    // Consistent: BEGIN, lock, query, COMMIT in one round trip. The query's snapshot is still taken
    // after the locks are granted: the server runs pipelined statements one after the other.
    const rows = consistent
      ? ((await pool.pipelinedTransaction([...this.lockStatements(readLocks(filter)), query], options.timing)).at(-1)?.rows as EventRow[])
      : (await pool.withSession((s) => s.pipeline([query]), options.timing))[0]!.rows as EventRow[];
    const events = rows.map(toEvent);
    return { events, version: events.at(-1)?.sequenceNumber ?? 0 };
  }

  /** The statement that takes `locks` (none when the set is empty). */
  private lockStatements(locks: LockSet): Statement[] {
    return locks.keys.length > 0 ? [this.statement('lock_keys', SQL.lockKeys, [locks.keys, locks.exclusive])] : [];
  }

  /** The decision read's statement: snapshot keys first, then the items' filter after them. */
  private decisionStatement(read: DecisionRead): Statement {
    const keys = read.items.map((_, i) => read.snapshots?.[i]);
    // Items with a snapshot key start after the version of the snapshot found in the same statement.
    const afterSql = keys.map((k, i) => (k ? `COALESCE((SELECT sequence_number FROM snap WHERE i = ${i + 1}), 0)` : undefined));
    const { where, params } = compileFilter({ items: [...read.items] }, 3, { index: this.index, afterSql });
    return this.statement('decision_read', SQL.decisionRead(where), [keys.map((k) => k?.projection ?? ''), keys.map((k) => k?.filterHash ?? ''), ...params]);
  }

  private static decisionResult(rows: DecisionRow[], items: number): DecisionReadResult {
    const snapshots: DecisionReadResult['snapshots'] = Array.from({ length: items }, () => undefined);
    const events: FoldedEvent[] = [];
    for (const r of rows) {
      if (r.snap > 0) snapshots[r.snap - 1] = { sequenceNumber: Number(r.sequence_number), state: r.payload };
      else events.push({ sequenceNumber: Number(r.sequence_number), type: r.event_type!, payload: r.payload });
    }
    events.sort((a, b) => a.sequenceNumber - b.sequenceNumber);
    return { events, snapshots };
  }

  /**
   * One decision in one transaction (`locking: 'held'`, safe strategy): BEGIN, the boundary's locks
   * (heldLocks) and the decision read in the first round trip; `decide` on the result (it may read
   * more under the same locks, or throw a rejection: ROLLBACK); then the unchecked insert and
   * COMMIT in the second. Acknowledged only after COMMIT answered. Events whose lock keys the held
   * set does not cover (not the library's) take their extra keys before the insert; a deadlock
   * that this may cause is reported as a ConcurrencyConflict, so the caller retries.
   */
  async decideAndAppend(
    filter: Filter,
    read: DecisionRead,
    decide: (result: DecisionReadResult, reader: LockedReader) => Promise<readonly NewEvent[]> | readonly NewEvent[],
    timing?: Timing,
  ): Promise<AppendResult & { read: DecisionReadResult }> {
    const held = heldLocks(filter);
    return this.primary.withSession(async (s) => {
      const results = await this.inTransaction(s, [...this.lockStatements(held), this.decisionStatement(read)]);
      const result = EventStore.decisionResult(results.at(-1)!.rows as DecisionRow[], read.items.length);
      let done = false;
      try {
        const reader = this.lockedReader(s);
        const events = await decide(result, reader);
        // The client went away while the read waited (e.g. on a lock): roll back, append nothing.
        abandoned(timing);
        const extra = uncovered(held, appendLocks(filter, events));
        const out = await s.pipeline([...this.lockStatements(extra), this.statement('append', SQL.appendHeld, eventArrays(events)), COMMIT_STATEMENT]);
        done = true;
        // Defensive: every failure above throws; a COMMIT that answers ROLLBACK committed nothing.
        if (out.at(-1)?.command !== 'COMMIT') throw new EsbenchError('INTERNAL', 'the transaction was rolled back');
        const sequenceNumbers = (out.at(-2)!.rows as Array<{ sequence_number: string }>).map((r) => Number(r.sequence_number)).sort((a, b) => a - b);
        return { sequenceNumbers, version: sequenceNumbers.at(-1) ?? 0, read: result };
      } catch (e) {
        if (!done) await s.query('rollback', 'ROLLBACK').catch(() => {});
        // 40P01: extra keys taken after the held ones deadlocked with another transaction; retryable.
        if (isEsbenchError(e) && (e.cause as { code?: string } | undefined)?.code === '40P01') throw new ConcurrencyConflict(0, -1);
        throw e;
      }
    }, timing);
  }

  /**
   * The decision read in a held-lock transaction that is rolled back after `use` (which may read
   * more under the same locks): what a decision would see, without appending (equivalence tests).
   */
  async decisionRead<T>(
    filter: Filter,
    read: DecisionRead,
    use: (result: DecisionReadResult, reader: LockedReader) => Promise<T> | T,
    timing?: Timing,
  ): Promise<T> {
    const held = heldLocks(filter);
    return this.primary.withSession(async (s) => {
      try {
        const results = await this.inTransaction(s, [...this.lockStatements(held), this.decisionStatement(read)]);
        return await use(EventStore.decisionResult(results.at(-1)!.rows as DecisionRow[], read.items.length), this.lockedReader(s));
      } finally {
        await s.query('rollback', 'ROLLBACK').catch(() => {});
      }
    }, timing);
  }

  /** Plain boundary reads on a session that already holds the locks. */
  private lockedReader(s: Session): LockedReader {
    return {
      query: async (f) => {
        const { where, params } = compileFilter(f, 1, { index: this.index });
        const rows = (await s.pipeline([this.statement('query', SQL.query(where), params, this.index === 'gin')]))[0]!.rows as EventRow[];
        const events = rows.map(toEvent);
        return { events, version: events.at(-1)?.sequenceNumber ?? 0 };
      },
    };
  }

  /** BEGIN + statements in one round trip, leaving the transaction open; returns the statements' results. */
  private async inTransaction(s: Session, statements: Statement[]): Promise<Array<{ rows: unknown[] }>> {
    try {
      return (await s.pipeline([BEGIN_STATEMENT, ...statements])).slice(1);
    } catch (e) {
      await s.query('rollback', 'ROLLBACK').catch(() => {});
      throw e;
    }
  }

  /** Appends atomically if no event matching `condition.filter` is newer than `expectedVersion`. */
  append(events: readonly NewEvent[], condition: AppendCondition, timing?: Timing): Promise<AppendResult> {
    return this.strategy === 'safe' ? this.safeAppend(events, condition, timing) : this.baselineAppend(events, condition, timing);
  }

  private async safeAppend(events: readonly NewEvent[], condition: AppendCondition, timing?: Timing): Promise<AppendResult> {
    const { where, params } = compileFilter(condition.filter, 5, { index: this.index });
    const append = this.statement('append', SQL.appendChecked(where), [...eventArrays(events), condition.expectedVersion, ...params], true);
    // BEGIN, lock, check + insert, COMMIT in one round trip; acknowledged only after COMMIT answered.
    const results = await this.primary.pipelinedTransaction([...this.lockStatements(appendLocks(condition.filter, events)), append], timing);
    const row = results.at(-1)?.rows[0] as { newer: string | null; inserted: string[] } | undefined;
    if (!row || row.newer !== null) throw new ConcurrencyConflict(condition.expectedVersion, Number(row?.newer ?? -1));
    const sequenceNumbers = row.inserted.map(Number);
    return { sequenceNumbers, version: sequenceNumbers.at(-1) ?? condition.expectedVersion };
  }

  private async baselineAppend(events: readonly NewEvent[], condition: AppendCondition, timing?: Timing): Promise<AppendResult> {
    const { where, params } = compileFilter(condition.filter, 5, { index: this.index });
    const r = await this.primary.query<{ max_seq: string; inserted: string[] }>(
      'append_baseline',
      condition.expectedIsUpperBound ? SQL.appendBaselineUpTo(where) : SQL.appendBaseline(where),
      [...eventArrays(events), condition.expectedVersion, ...params],
      timing,
    );
    const row = r.rows[0];
    if (!row || row.inserted.length === 0) throw new ConcurrencyConflict(condition.expectedVersion, Number(row?.max_seq ?? -1));
    const sequenceNumbers = row.inserted.map(Number);
    return { sequenceNumbers, version: sequenceNumbers.at(-1) ?? condition.expectedVersion };
  }
}
