/** Decision state of one book copy: a pure fold over its events (projection `book-copy@1`). */
import type { NewEvent, StoredEvent } from '../store/event-store.ts';
import type { JsonValue } from '../store/filter.ts';
import { EVENT, payloadString } from './library-events.ts';
import type { Projection } from './projection.ts';

export interface BookState {
  inCirculation: boolean;
  lentTo: string | null;
}

export const initialBookState = (): BookState => ({ inCirculation: false, lentTo: null });

export function evolveBook(state: BookState, e: StoredEvent | NewEvent): BookState {
  switch (e.type) {
    case EVENT.added:
      return { inCirculation: true, lentTo: null };
    case EVENT.removed:
      return { inCirculation: false, lentTo: null };
    case EVENT.lent:
      return { ...state, lentTo: payloadString(e, 'ReaderID') ?? null };
    case EVENT.returned:
      return { ...state, lentTo: null };
    default:
      return state;
  }
}

export const bookProjection: Projection<BookState> = {
  name: 'book-copy@1',
  initial: initialBookState,
  evolve: evolveBook,
  serialize: (state) => ({ ...state }) as unknown as JsonValue,
  parse(json: JsonValue) {
    if (json === null || typeof json !== 'object' || Array.isArray(json)) return undefined;
    const { inCirculation, lentTo } = json;
    if (typeof inCirculation !== 'boolean' || !(lentTo === null || typeof lentTo === 'string')) return undefined;
    return { inCirculation, lentTo };
  },
};
