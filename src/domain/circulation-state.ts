/** The set of book copies in circulation: a fold over all add/remove events (projection `books-in-circulation@1`). */
import type { NewEvent, StoredEvent } from '../store/event-store.ts';
import type { JsonValue } from '../store/filter.ts';
import { EVENT, payloadString } from './library-events.ts';
import type { Projection } from './projection.ts';

/** Mutable in the fold for speed (tens of thousands of events); serialised sorted. */
export type CirculationState = Set<string>;

export const circulationProjection: Projection<CirculationState> = {
  name: 'books-in-circulation@1',
  initial: () => new Set(),
  evolve(state, e: StoredEvent | NewEvent) {
    const id = payloadString(e, 'BookID');
    if (id === undefined) return state;
    if (e.type === EVENT.added) state.add(id);
    else if (e.type === EVENT.removed) state.delete(id);
    return state;
  },
  serialize: (state) => [...state].sort(),
  parse(json: JsonValue) {
    return Array.isArray(json) && json.every((b) => typeof b === 'string') ? new Set(json as string[]) : undefined;
  },
};
