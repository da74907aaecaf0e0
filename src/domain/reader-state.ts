/** Decision state of one reader: a pure fold over its events (projection `reader-lending@1`). */
import type { NewEvent, StoredEvent } from '../store/event-store.ts';
import type { JsonValue } from '../store/filter.ts';
import { EVENT, payloadString } from './library-events.ts';
import type { Projection } from './projection.ts';

export interface ReaderState {
  registered: boolean;
  /** Book copies the reader holds, in lending order. */
  books: string[];
}

export const initialReaderState = (): ReaderState => ({ registered: false, books: [] });

export function evolveReader(state: ReaderState, e: StoredEvent | NewEvent): ReaderState {
  const book = payloadString(e, 'BookID');
  switch (e.type) {
    case EVENT.signed:
      return { ...state, registered: true };
    case EVENT.canceled:
      return { ...state, registered: false };
    case EVENT.lent:
      return book === undefined || state.books.includes(book) ? state : { ...state, books: [...state.books, book] };
    case EVENT.returned:
      return { ...state, books: state.books.filter((b) => b !== book) };
    default:
      return state;
  }
}

export const readerProjection: Projection<ReaderState> = {
  name: 'reader-lending@1',
  initial: initialReaderState,
  evolve: evolveReader,
  serialize: (state) => ({ ...state }) as unknown as JsonValue,
  parse(json: JsonValue) {
    if (json === null || typeof json !== 'object' || Array.isArray(json)) return undefined;
    const { registered, books } = json;
    if (typeof registered !== 'boolean' || !Array.isArray(books) || !books.every((b) => typeof b === 'string')) return undefined;
    return { registered, books: books as string[] };
  },
};
