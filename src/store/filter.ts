/**
 * The consistency-boundary filter: items OR'd together; each item is
 * `event_type IN types AND payload @> (any-of | all-of) AND [occurred_at range] AND [sequence_number > after]`.
 * Compiled to SQL with every value bound as a parameter: user data never becomes SQL text.
 */
import { createHash } from 'node:crypto';
import { EsbenchError } from '../core/errors.ts';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export interface PayloadPredicate {
  anyOf?: JsonObject[];
  allOf?: JsonObject[];
}

export interface FilterItem {
  types: string[];
  payload?: PayloadPredicate;
  /** Inclusive lower bound (ISO timestamp). */
  occurredFrom?: string;
  /** Exclusive upper bound (ISO timestamp). */
  occurredTo?: string;
  /** Only events with sequence_number > after. */
  after?: number;
}

export interface Filter {
  items: FilterItem[];
}

export interface CompiledFilter {
  /** A boolean SQL expression over `events` columns, with $n placeholders starting at `firstParam`. */
  where: string;
  params: unknown[];
}

/** Structural checks the JSON schema cannot express; throws VALIDATION_FAILED. */
export function validateFilter(filter: Filter): void {
  if (!Array.isArray(filter.items) || filter.items.length === 0) {
    throw new EsbenchError('VALIDATION_FAILED', 'filter.items must hold at least one item');
  }
  for (const [i, item] of filter.items.entries()) {
    if (!Array.isArray(item.types) || item.types.length === 0) {
      throw new EsbenchError('VALIDATION_FAILED', `filter.items[${i}].types must name at least one event type`);
    }
    const p = item.payload;
    if (p) {
      const kinds = (p.anyOf ? 1 : 0) + (p.allOf ? 1 : 0);
      const list = p.anyOf ?? p.allOf ?? [];
      if (kinds !== 1 || list.length === 0) {
        throw new EsbenchError('VALIDATION_FAILED', `filter.items[${i}].payload needs exactly one non-empty anyOf or allOf`);
      }
    }
    for (const key of ['occurredFrom', 'occurredTo'] as const) {
      const v = item[key];
      if (v !== undefined && Number.isNaN(Date.parse(v))) {
        throw new EsbenchError('VALIDATION_FAILED', `filter.items[${i}].${key} is not a timestamp`);
      }
    }
  }
}

/**
 * How a boundary's payload predicates reach an index:
 *  - `gin` (the study's schema): `payload @> $n`, answered by the GIN `jsonb_path_ops` index. GIN
 *    hands back an entity's whole posting list, however recent the wanted events are.
 *  - `btree`: for a top-level string value of a key in BTREE_KEYS, also `(payload->>'Key') = $n`,
 *    answered by the expression index on `((payload->>'Key'), sequence_number)`
 *    (sql/boundary-btree.sql); with `sequence_number > N` it is one index range scan that does not
 *    grow with history. An exact check stays (`->>` also matches the number 5 for '5').
 */
export type BoundaryIndex = 'gin' | 'btree';

/** Payload keys with a btree expression index under `btree` (sql/boundary-btree.sql). Fixed names: never user text in SQL. */
export const BTREE_KEYS: readonly string[] = ['BookID', 'ReaderID'];

export interface CompileOptions {
  index?: BoundaryIndex;
  /**
   * Per item: an SQL expression (built by the store, never from user input) for its lower
   * sequence bound, used instead of `item.after` (e.g. a snapshot's version read in the same statement).
   */
  afterSql?: ReadonlyArray<string | undefined>;
}

function btreeKey(o: JsonObject): string | undefined {
  return BTREE_KEYS.find((k) => typeof o[k] === 'string');
}

/** Compiles a filter to a parameterized predicate. `firstParam` lets callers put their own params first. */
export function compileFilter(filter: Filter, firstParam = 1, options: CompileOptions = {}): CompiledFilter {
  const params: unknown[] = [];
  const bind = (value: unknown, cast: string): string => {
    params.push(value);
    return `$${firstParam + params.length - 1}::${cast}`;
  };
  const btree = options.index === 'btree';
  const contains = (o: JsonObject): string => {
    const k = btree ? btreeKey(o) : undefined;
    if (k === undefined) return `payload @> ${bind(JSON.stringify(o), 'jsonb')}`;
    const indexed = `(payload->>'${k}') = ${bind(o[k], 'text')}`;
    // The exact check, written so that the planner does not AND in the GIN index's whole posting
    // list: for a one-key object, containment of a top-level scalar is jsonb equality of the value.
    const exact = Object.keys(o).length === 1 ? `(payload->'${k}') = ${bind(JSON.stringify(o[k]), 'jsonb')}` : `payload @> ${bind(JSON.stringify(o), 'jsonb')}`;
    return `(${indexed} AND ${exact})`;
  };
  const items = filter.items.map((item, i) => {
    const parts = [`event_type = ANY(${bind(item.types, 'text[]')})`];
    const p = item.payload;
    if (p?.anyOf) {
      // One @> per object (not `@> ANY(array)`), so each can use the GIN index (BitmapOr).
      parts.push(`(${p.anyOf.map(contains).join(' OR ')})`);
    } else if (p?.allOf) {
      parts.push(p.allOf.map(contains).join(' AND '));
    }
    if (item.occurredFrom !== undefined) parts.push(`occurred_at >= ${bind(item.occurredFrom, 'timestamptz')}`);
    if (item.occurredTo !== undefined) parts.push(`occurred_at < ${bind(item.occurredTo, 'timestamptz')}`);
    const afterSql = options.afterSql?.[i];
    if (afterSql !== undefined) parts.push(`sequence_number > ${afterSql}`);
    else if (item.after !== undefined) parts.push(`sequence_number > ${bind(item.after, 'bigint')}`);
    return `(${parts.join(' AND ')})`;
  });
  return { where: items.length === 1 ? items[0]! : `(${items.join(' OR ')})`, params };
}

function canonical(value: JsonValue | undefined): JsonValue | undefined {
  if (Array.isArray(value)) return value.map((v) => canonical(v) as JsonValue);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, canonical(value[k])]),
    ) as JsonObject;
  }
  return value;
}

/** A stable hash of the canonical filter (keys sorted), for snapshot keys and logs. */
export function filterHash(filter: Filter): string {
  // Memoized by the plain serialization (equal plain text implies equal canonical text).
  const plain = JSON.stringify(filter);
  let h = hashCache.get(plain);
  if (h === undefined) {
    h = createHash('sha256')
      .update(JSON.stringify(canonical(filter as unknown as JsonValue)))
      .digest('hex')
      .slice(0, 32);
    if (hashCache.size >= HASH_CACHE_MAX) hashCache.clear();
    hashCache.set(plain, h);
  }
  return h;
}

/** filterHash per command and entity repeats (snapshot keys); bounded like the lock-key cache. */
const hashCache = new Map<string, string>();
const HASH_CACHE_MAX = 100_000;
