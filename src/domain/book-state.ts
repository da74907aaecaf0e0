/** Decision state of one book copy: a pure fold over its events (projection `book-copy@1`). */
import type { NewEvent, StoredEvent } from '../store/event-store.ts';
import { EVENT, payloadString } from './library-events.ts';

export interface BookState {
  inCirculation: boolean;
  lentTo: string | null;
}

export const BOOK_PROJECTION = 'book-copy@1';
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
