/**
 * Runs a library command as the study did: query the boundary on the primary → decide → conditional
 * append; on a concurrency conflict, retry (6 tries, 10 ms base doubling, ±30% jitter by default).
 *
 * With `decisions: 'snapshot'` each entity (the book, the reader) starts from its snapshot and only
 * the events after it are read. The version the append expects is the highest of the snapshots'
 * sequence numbers and the last event read: every event of the boundary up to it was folded (in a
 * snapshot or read consistently, under the boundary's locks), and the append's check covers the
 * whole boundary after it. So snapshots change cost, never a decision, and race-freedom is unchanged.
 */
import { ConcurrencyConflict, EsbenchError, isEsbenchError } from '../core/errors.ts';
import type { DecisionMode } from '../core/config.ts';
import type { Timing } from '../store/db-pool.ts';
import type { DecisionReadResult, EventStore, LockedReader, NewEvent } from '../store/event-store.ts';
import { filterHash, type Filter, type JsonValue } from '../store/filter.ts';
import type { SnapshotStore, Snapshot } from '../store/snapshot-store.ts';
import { evolveBook } from './book-state.ts';
import { boundaryOf, decide, entitiesOf, foldBoundary, type DecisionState, type FoldStart, type LibraryCommand } from './library-commands.ts';
import { evolveReader } from './reader-state.ts';
import { inItem, type EntityView } from './projection.ts';
import { resumeFromSnapshot } from './snapshot-resume.ts';

export interface RetryPolicy {
  tries: number;
  baseMs: number;
  jitter: number;
}

export type SnapshotOutcome = 'hit' | 'miss' | 'write' | 'write_failure';

/** Command labels: a CommandKind, or 'append' for the generic append route. */
export interface CommandObserver {
  conflict?(command: string): void;
  retry?(command: string): void;
  rejected?(command: string, code: string): void;
  folded?(command: string, mode: DecisionMode, events: number): void;
  snapshot?(projection: string, outcome: SnapshotOutcome): void;
  snapshotWriteFailed?(error: unknown): void;
}

export interface CommandOutcome {
  sequenceNumber: number;
  retries: number;
  /** Events folded by the decision that succeeded. */
  folded: number;
}

export interface DecisionOptions {
  mode: DecisionMode;
  snapshots: SnapshotStore;
  /** Write snapshots after a decision that folded more than this many events. */
  threshold: number;
}

export function backoffMs(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const base = policy.baseMs * 2 ** (attempt - 1);
  return Math.max(0, base * (1 + policy.jitter * (2 * random() - 1)));
}

/** Snapshot keys by view: entitiesOf reuses one view per entity, so its filter is hashed once. */
const snapshotKeys = new WeakMap<EntityView<unknown>, { projection: string; filterHash: string }>();

export const snapshotKeyOf = (view: EntityView<unknown>): { projection: string; filterHash: string } => {
  let key = snapshotKeys.get(view);
  if (key === undefined) {
    key = Object.freeze({ projection: view.projection.name, filterHash: filterHash({ items: [view.item] }) });
    // Only frozen views can be trusted not to change under their cached key.
    if (Object.isFrozen(view) && Object.isFrozen(view.item)) snapshotKeys.set(view, key);
  }
  return key;
};

export interface LoadedDecision {
  state: DecisionState;
  version: number;
  folded: number;
  /** `version` came from a snapshot: a position folded up to, maybe past the boundary's last event. */
  fromSnapshot?: boolean;
}

export class CommandHandler {
  private readonly decisions: DecisionOptions | undefined;

  constructor(
    private readonly store: EventStore,
    private readonly policy: RetryPolicy,
    private readonly observer: CommandObserver = {},
    decisions?: DecisionOptions,
  ) {
    this.decisions = decisions?.mode === 'snapshot' ? decisions : undefined;
  }

  get mode(): DecisionMode {
    return this.decisions ? 'snapshot' : 'full';
  }

  /** One transaction holds the boundary's locks from the read to the append (store.locking = 'held'). */
  private get held(): boolean {
    return this.store.locking === 'held' && this.store.strategy === 'safe';
  }

  /** The decision state of `cmd` and the version to append against (exported for equivalence tests). */
  async load(cmd: LibraryCommand, timing?: Timing): Promise<LoadedDecision> {
    if (this.held) {
      return this.store.decisionRead(boundaryOf(cmd), this.decisionRead(cmd), (read, reader) => this.fromRead(cmd, read, reader), timing);
    }
    const t = timing ? { timing } : {};
    if (!this.decisions) {
      const { events, version } = await this.store.query(boundaryOf(cmd), { consistent: true, ...t });
      return { state: foldBoundary(cmd, events), version, folded: events.length };
    }
    const entities = entitiesOf(cmd);
    const found = await this.decisions.snapshots.load(this.store.primary, entities.map((e) => snapshotKeyOf(e.view)), timing);
    const start: FoldStart = {};
    const items: Filter['items'] = [];
    let version = 0;
    for (const entity of entities) {
      const snap = this.decisions.snapshots.get(found, snapshotKeyOf(entity.view));
      if (this.startFrom(entity, snap, start)) {
        version = Math.max(version, snap.sequenceNumber);
        items.push({ ...entity.view.item, after: snap.sequenceNumber });
      } else {
        items.push(entity.view.item);
      }
    }
    const { events, version: read } = await this.store.query({ items }, { consistent: true, ...t });
    return { state: foldBoundary(cmd, events, start), version: Math.max(version, read), folded: events.length, fromSnapshot: version > read };
  }

  /**
   * Both command paths: starts `entity`'s fold from its snapshot when the snapshot parses (a hit),
   * and counts the hit or miss (no snapshot is a miss). False when there is none or it does not
   * parse: the caller reads that entity in full.
   */
  private startFrom(entity: ReturnType<typeof entitiesOf>[number], snap: { state: JsonValue; sequenceNumber: number } | undefined, start: FoldStart): snap is { state: JsonValue; sequenceNumber: number } {
    const resumed = resumeFromSnapshot(entity.view as EntityView<unknown>, snap, this.observer);
    if (snap === undefined || resumed === undefined) return false;
    if (entity.role === 'book') start.book = { state: resumed.state as DecisionState['book'], sequenceNumber: snap.sequenceNumber };
    else start.reader = { state: resumed.state as DecisionState['reader'], sequenceNumber: snap.sequenceNumber };
    return true;
  }

  /** The held-lock read of `cmd`: its entities' items, each after its snapshot in snapshot mode. */
  private decisionRead(cmd: LibraryCommand) {
    const entities = entitiesOf(cmd);
    return { items: entities.map((e) => e.view.item), ...(this.decisions ? { snapshots: entities.map((e) => snapshotKeyOf(e.view)) } : {}) };
  }

  /**
   * The decision state from a held-lock read. A snapshot that does not parse (corrupt) had its
   * item read after it anyway: that item is read again from the beginning, under the same locks.
   */
  private async fromRead(cmd: LibraryCommand, read: DecisionReadResult, reader: LockedReader): Promise<LoadedDecision> {
    const entities = entitiesOf(cmd);
    const start: FoldStart = {};
    let version = 0;
    let events = read.events;
    for (const [i, entity] of entities.entries()) {
      if (!this.decisions) break;
      const snap = read.snapshots[i];
      if (this.startFrom(entity, snap, start)) {
        version = Math.max(version, snap.sequenceNumber);
      } else if (snap) {
        const again = await reader.query({ items: [entity.view.item] });
        const seen = new Set(events.map((e) => e.sequenceNumber));
        events = [...events, ...again.events.filter((e) => !seen.has(e.sequenceNumber))].sort((a, b) => a.sequenceNumber - b.sequenceNumber);
      }
    }
    const lastRead = events.at(-1)?.sequenceNumber ?? 0;
    return { state: foldBoundary(cmd, events, start), version: Math.max(version, lastRead), folded: events.length };
  }

  /** Both command paths: a conflict is retried with backoff until the policy's tries run out; anything else is rethrown. */
  private async afterConflict(cmd: LibraryCommand, attempt: number, e: unknown): Promise<void> {
    if (!(e instanceof ConcurrencyConflict)) throw e;
    this.observer.conflict?.(cmd.kind);
    if (attempt >= this.policy.tries) {
      throw new EsbenchError('RETRIES_EXHAUSTED', `${cmd.kind} conflicted ${attempt} times`, { details: { tries: attempt } });
    }
    this.observer.retry?.(cmd.kind);
    await new Promise((r) => setTimeout(r, backoffMs(this.policy, attempt)));
  }

  private async handleHeld(cmd: LibraryCommand, timing?: Timing): Promise<CommandOutcome> {
    const filter = boundaryOf(cmd);
    for (let attempt = 1; ; attempt++) {
      let loaded: LoadedDecision | undefined;
      let newEvents: NewEvent[] = [];
      try {
        const r = await this.store.decideAndAppend(
          filter,
          this.decisionRead(cmd),
          async (read, reader) => {
            loaded = await this.fromRead(cmd, read, reader);
            try {
              newEvents = decide(cmd, loaded.state, { command: cmd.kind });
            } catch (e) {
              if (isEsbenchError(e)) this.observer.rejected?.(cmd.kind, e.code);
              throw e;
            }
            return newEvents;
          },
          timing,
        );
        const folded = loaded?.folded ?? 0;
        this.observer.folded?.(cmd.kind, this.mode, folded);
        if (this.decisions && loaded && folded > this.decisions.threshold) await this.saveSnapshots(cmd, loaded.state, newEvents, r.version, timing);
        return { sequenceNumber: r.version, retries: attempt - 1, folded };
      } catch (e) {
        await this.afterConflict(cmd, attempt, e);
      }
    }
  }

  async handle(cmd: LibraryCommand, timing?: Timing): Promise<CommandOutcome> {
    if (this.held) return this.handleHeld(cmd, timing);
    const filter = boundaryOf(cmd);
    for (let attempt = 1; ; attempt++) {
      const loaded = await this.load(cmd, timing);
      let newEvents: NewEvent[];
      try {
        newEvents = decide(cmd, loaded.state, { command: cmd.kind });
      } catch (e) {
        if (e instanceof EsbenchError) this.observer.rejected?.(cmd.kind, e.code);
        throw e;
      }
      try {
        const r = await this.store.append(newEvents, { filter, expectedVersion: loaded.version, ...(loaded.fromSnapshot ? { expectedIsUpperBound: true } : {}) }, timing);
        this.observer.folded?.(cmd.kind, this.mode, loaded.folded);
        if (this.decisions && loaded.folded > this.decisions.threshold) await this.saveSnapshots(cmd, loaded.state, newEvents, r.version, timing);
        return { sequenceNumber: r.version, retries: attempt - 1, folded: loaded.folded };
      } catch (e) {
        await this.afterConflict(cmd, attempt, e);
      }
    }
  }

  /**
   * After a successful append at `appendedAt`, each entity's state plus the new events is valid at
   * `appendedAt`: the check proved no other boundary event came in between. Written outside the
   * append's transaction; a failure is counted and logged, never fails the command.
   */
  private async saveSnapshots(cmd: LibraryCommand, state: DecisionState, newEvents: NewEvent[], appendedAt: number, timing?: Timing): Promise<void> {
    const decisions = this.decisions!;
    const rows: Snapshot[] = entitiesOf(cmd).map((entity) => {
      const key = snapshotKeyOf(entity.view);
      const own = newEvents.filter((e) => inItem(entity.view.item, e));
      const json =
        entity.role === 'book'
          ? entity.view.projection.serialize(own.reduce(evolveBook, state.book))
          : entity.view.projection.serialize(own.reduce(evolveReader, state.reader));
      return { ...key, sequenceNumber: appendedAt, state: json };
    });
    try {
      await decisions.snapshots.save(this.store.primary, rows, timing);
      for (const r of rows) this.observer.snapshot?.(r.projection, 'write');
    } catch (e) {
      for (const r of rows) this.observer.snapshot?.(r.projection, 'write_failure');
      this.observer.snapshotWriteFailed?.(e);
    }
  }
}
