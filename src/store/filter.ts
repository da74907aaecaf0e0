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

/** Compiles a filter to a parameterized predicate. `firstParam` lets callers put their own params first. */
export function compileFilter(filter: Filter, firstParam = 1): CompiledFilter {
  const params: unknown[] = [];
  const bind = (value: unknown, cast: string): string => {
    params.push(value);
    return `$${firstParam + params.length - 1}::${cast}`;
  };
  const items = filter.items.map((item) => {
    const parts = [`event_type = ANY(${bind(item.types, 'text[]')})`];
    const p = item.payload;
    if (p?.anyOf) {
      // One @> per object (not `@> ANY(array)`), so each can use the GIN index (BitmapOr).
      parts.push(`(${p.anyOf.map((o) => `payload @> ${bind(JSON.stringify(o), 'jsonb')}`).join(' OR ')})`);
    } else if (p?.allOf) {
      parts.push(p.allOf.map((o) => `payload @> ${bind(JSON.stringify(o), 'jsonb')}`).join(' AND '));
    }
    if (item.occurredFrom !== undefined) parts.push(`occurred_at >= ${bind(item.occurredFrom, 'timestamptz')}`);
    if (item.occurredTo !== undefined) parts.push(`occurred_at < ${bind(item.occurredTo, 'timestamptz')}`);
    if (item.after !== undefined) parts.push(`sequence_number > ${bind(item.after, 'bigint')}`);
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
  return createHash('sha256')
    .update(JSON.stringify(canonical(filter as unknown as JsonValue)))
    .digest('hex')
    .slice(0, 32);
}
