/**
 * The library domain of the study's load generator: event types, payloads, and the boundaries
 * (filters) its commands decide on. Payload keys are the study's (BookID, ReaderID).
 */
import type { Filter, FilterItem } from '../store/filter.ts';
import type { NewEvent, StoredEvent } from '../store/event-store.ts';

export const EVENT = {
  added: 'BookCopyAddedToCirculation',
  removed: 'BookCopyRemovedFromCirculation',
  lent: 'BookCopyLentToReader',
  returned: 'BookCopyReturnedByReader',
  signed: 'ReaderContractSigned',
  canceled: 'ReaderContractCanceled',
} as const;

export type LibraryEventType = (typeof EVENT)[keyof typeof EVENT];

/** Events that change one book copy's state. */
export const BOOK_EVENT_TYPES: readonly string[] = [EVENT.added, EVENT.removed, EVENT.lent, EVENT.returned];
/** Events that change one reader's state. */
export const READER_EVENT_TYPES: readonly string[] = [EVENT.signed, EVENT.canceled, EVENT.lent, EVENT.returned];

/** IDs of the seeded library and of the load generator's draws (docs/service-api.md). */
export const bookId = (n: number): string => `book-${n}`;
export const readerId = (n: number): string => `reader-${n}`;

/** Max books one reader may hold (the study's rule). */
export const READER_BOOK_LIMIT = 10;

export const bookItem = (bookId: string): FilterItem => ({ types: [...BOOK_EVENT_TYPES], payload: { anyOf: [{ BookID: bookId }] } });
export const readerItem = (readerId: string): FilterItem => ({ types: [...READER_EVENT_TYPES], payload: { anyOf: [{ ReaderID: readerId }] } });

export const bookBoundary = (bookId: string): Filter => ({ items: [bookItem(bookId)] });
export const readerBoundary = (readerId: string): Filter => ({ items: [readerItem(readerId)] });
export const lendingBoundary = (bookId: string, readerId: string): Filter => ({ items: [bookItem(bookId), readerItem(readerId)] });
export const circulationItem = (): FilterItem => ({ types: [EVENT.added, EVENT.removed] });
export const circulationBoundary = (): Filter => ({ items: [circulationItem()] });

export function event(type: LibraryEventType, payload: { BookID?: string; ReaderID?: string }, metadata?: Record<string, string>): NewEvent {
  return { type, payload: payload as Record<string, string>, ...(metadata ? { metadata } : {}) };
}

export const payloadString = (e: StoredEvent | NewEvent, key: 'BookID' | 'ReaderID'): string | undefined => {
  const v = e.payload[key];
  return typeof v === 'string' ? v : undefined;
};
