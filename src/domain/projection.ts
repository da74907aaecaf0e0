/**
 * A projection: a named, versioned pure fold `(state, event) → state`. The version is part of the
 * name (`reader-lending@1`), so a snapshot written by another version is never read as this one.
 */
import type { NewEvent, StoredEvent } from '../store/event-store.ts';
import type { FilterItem, JsonValue } from '../store/filter.ts';

export interface Projection<S> {
  readonly name: string;
  initial(): S;
  evolve(state: S, event: StoredEvent | NewEvent): S;
  /** The state from snapshot JSON, or undefined when it does not have this projection's shape. */
  parse(json: JsonValue): S | undefined;
  /** The state as snapshot JSON (parse(serialize(s)) equals s). */
  serialize(state: S): JsonValue;
}

/** One entity's projection and the filter item that selects its events. */
export interface EntityView<S> {
  projection: Projection<S>;
  item: FilterItem;
}

/** Does `event` belong to the entity selected by `item`? (types + top-level containment, as the store's filter). */
export function inItem(item: FilterItem, event: StoredEvent | NewEvent): boolean {
  if (!item.types.includes(event.type)) return false;
  const p = item.payload;
  const contains = (o: Record<string, JsonValue>) => Object.entries(o).every(([k, v]) => jsonContains(event.payload[k], v));
  if (p?.anyOf) return p.anyOf.some(contains);
  if (p?.allOf) return p.allOf.every(contains);
  return true;
}

/** jsonb `@>` below the top level. */
export function jsonContains(a: JsonValue | undefined, b: JsonValue): boolean {
  if (a === undefined) return false;
  if (Array.isArray(b)) return Array.isArray(a) && b.every((x) => a.some((y) => jsonContains(y, x)));
  if (b !== null && typeof b === 'object') {
    return a !== null && typeof a === 'object' && !Array.isArray(a) && Object.entries(b).every(([k, v]) => jsonContains(a[k], v));
  }
  return a === b;
}
