/**
 * Advisory-lock keys that make the conditional append race-free.
 *
 * Invariant: whenever an event E can match a filter item I, the lock set of "writing E" and the
 * lock set of "reading I" share a key in conflicting modes. Then
 *  - two appends whose boundaries overlap through what they write serialize (the second one's
 *    check runs after the first commits and sees its events → ConcurrencyConflict), and
 *  - a consistent query waits for in-flight appends that could add to its boundary, so the
 *    version it returns never skips a lower sequence number that commits later (bigserial values
 *    are assigned at INSERT, not at COMMIT; without this an append checking `> version` could
 *    miss an event that committed after the read).
 *
 * Keys (64-bit, hashed; a collision only adds waiting, never unsafety):
 *  - pair keys: every top-level `key: scalar` of an event's payload, and every scalar element of a
 *    top-level array. If E @> P then each top-level scalar pair of P is in E (containment is
 *    structural), so one pair of P is a sound key for "matches P".
 *      writer: EXCLUSIVE on every pair key of its events; reader: SHARED on one pair key per
 *      any-of object (one for the whole all-of).
 *  - type keys: for items that constrain no top-level scalar (no payload predicate, or only nested
 *    objects / `{}`): reader EXCLUSIVE on the type key of each of its types; every writer SHARED
 *    on the type key of each event it writes. Writers of one type do not block each other.
 * A key wanted in both modes is taken EXCLUSIVE. Keys are taken in ascending order by
 * `esbench_lock_keys` (sql/schema.sql), so appends cannot deadlock on each other.
 *
 * Why advisory locks and not SERIALIZABLE: see the comment on `safeAppend` in append-strategy.ts
 * (measured there).
 */
import { createHash } from 'node:crypto';
import type { Filter, FilterItem, JsonObject, JsonValue } from './filter.ts';

export interface LockSet {
  /** bigint keys as decimal strings (pg binds them to bigint[] exactly). */
  keys: string[];
  exclusive: boolean[];
}

export interface NewEvent {
  type: string;
  payload: JsonObject;
  metadata?: JsonObject;
}

/** Keys already hashed: a command's keys repeat (a library has ~1,100 entities), SHA-256 need not. */
const keyCache = new Map<string, string>();
const KEY_CACHE_MAX = 100_000;

function key(text: string): string {
  let k = keyCache.get(text);
  if (k === undefined) {
    k = createHash('sha256').update(`esbench:v1:${text}`).digest().readBigInt64BE(0).toString();
    // Bounded: arbitrary filters on the generic routes must not grow it without end.
    if (keyCache.size >= KEY_CACHE_MAX) keyCache.clear();
    keyCache.set(text, k);
  }
  return k;
}

const isScalar = (v: JsonValue | undefined): v is string | number | boolean | null =>
  v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';

const pairKey = (k: string, v: string | number | boolean | null) => key(`pair:${k}=${JSON.stringify(v)}`);
const typeKey = (t: string) => key(`type:${t}`);

/** Every pair key of one payload (top-level scalars and scalar elements of top-level arrays). */
function payloadPairKeys(payload: JsonObject): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(payload)) {
    if (isScalar(v)) out.push(pairKey(k, v));
    else if (Array.isArray(v)) for (const e of v) if (isScalar(e)) out.push(pairKey(k, e));
  }
  return out;
}

/** One pair key that every payload containing `predicate` also has, or undefined if none exists. */
function predicateKey(predicate: JsonObject): string | undefined {
  for (const k of Object.keys(predicate).sort()) {
    const v = predicate[k];
    if (isScalar(v)) return pairKey(k, v);
    if (Array.isArray(v)) {
      const first = v.find(isScalar);
      if (first !== undefined) return pairKey(k, first);
    }
  }
  return undefined;
}

class LockBuilder {
  private readonly modes = new Map<string, boolean>();

  add(k: string, exclusive: boolean): void {
    this.modes.set(k, (this.modes.get(k) ?? false) || exclusive);
  }

  build(): LockSet {
    // Numeric order (signed 64-bit), each key converted once rather than in every comparison.
    const keys = [...this.modes.keys()]
      .map((k) => [BigInt(k), k] as const)
      .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      .map(([, k]) => k);
    return { keys, exclusive: keys.map((k) => this.modes.get(k) ?? false) };
  }
}

/** One filter item's keys: its pair keys when its payload predicate has them, and its type keys. */
interface ItemKeys {
  pairs: string[] | undefined;
  types: string[];
}

/**
 * Keys of deep-frozen filter items (the library's entities reuse one frozen item per book and
 * reader): computed once per item instead of per command. Items that can still change are not cached.
 */
const itemKeyCache = new WeakMap<FilterItem, ItemKeys>();

function isDeepFrozen(v: unknown): boolean {
  if (v === null || typeof v !== 'object') return true;
  return Object.isFrozen(v) && Object.values(v).every(isDeepFrozen);
}

function keysOfItem(item: FilterItem): ItemKeys {
  const cached = itemKeyCache.get(item);
  if (cached) return cached;
  const p = item.payload;
  let pairs: string[] | undefined;
  if (p?.anyOf) {
    const each = p.anyOf.map(predicateKey);
    pairs = each.every((k) => k !== undefined) ? (each as string[]) : undefined;
  } else if (p?.allOf) {
    const one = p.allOf.map(predicateKey).find((k) => k !== undefined);
    pairs = one === undefined ? undefined : [one];
  }
  const keys = { pairs, types: item.types.map(typeKey) };
  if (isDeepFrozen(item)) itemKeyCache.set(item, keys);
  return keys;
}

function addReadKeys(b: LockBuilder, filter: Filter): void {
  for (const item of filter.items) {
    const { pairs, types } = keysOfItem(item);
    if (pairs) for (const k of pairs) b.add(k, false);
    else for (const k of types) b.add(k, true);
  }
}

function addWriteKeys(b: LockBuilder, events: readonly NewEvent[]): void {
  for (const e of events) {
    b.add(typeKey(e.type), false);
    for (const k of payloadPairKeys(e.payload)) b.add(k, true);
  }
}

/** Locks of a consistent read of `filter` (query whose version feeds a later append). */
export function readLocks(filter: Filter): LockSet {
  const b = new LockBuilder();
  addReadKeys(b, filter);
  return b.build();
}

/** Locks of an append of `events` guarded by `filter`. */
export function appendLocks(filter: Filter, events: readonly NewEvent[]): LockSet {
  const b = new LockBuilder();
  addReadKeys(b, filter);
  addWriteKeys(b, events);
  return b.build();
}

/**
 * Locks held from a boundary's read to its append, in one transaction (`locking: 'held'`): the
 * read keys of `filter` taken EXCLUSIVE (what the append will write to this boundary takes them
 * so anyway; taking them shared first and upgrading later could deadlock two commands), plus
 * SHARED type keys of every type the boundary reads (the type keys an event written to it takes).
 * While they are held no event matching `filter` can be written by anyone else, so the read stays
 * complete up to the append and the append needs no check.
 */
export function heldLocks(filter: Filter): LockSet {
  const b = new LockBuilder();
  for (const item of filter.items) {
    const { pairs, types } = keysOfItem(item);
    // The item's read keys (those of readLocks), exclusive; then its type keys, shared.
    for (const k of pairs ?? types) b.add(k, true);
    for (const k of types) b.add(k, false);
  }
  return b.build();
}

/** Keys of `needed` that `held` does not hold in a mode at least as strong (empty: covered). */
export function uncovered(held: LockSet, needed: LockSet): LockSet {
  const modes = new Map(held.keys.map((k, i) => [k, held.exclusive[i] ?? false]));
  const b = new LockBuilder();
  needed.keys.forEach((k, i) => {
    const want = needed.exclusive[i] ?? false;
    const have = modes.get(k);
    if (have === undefined || (want && !have)) b.add(k, want);
  });
  return b.build();
}
