/**
 * The library's commands: which boundary each decides on, and the pure decision (business rules)
 * from the boundary's events to the events to append, or a DomainRejection (→ 422).
 */
import { DomainRejection } from '../core/errors.ts';
import type { Filter } from '../store/filter.ts';
import type { NewEvent, StoredEvent } from '../store/event-store.ts';
import { evolveBook, initialBookState, type BookState } from './book-state.ts';
import { BOOK_EVENT_TYPES, EVENT, READER_BOOK_LIMIT, READER_EVENT_TYPES, bookBoundary, event, lendingBoundary, payloadString, readerBoundary } from './library-events.ts';
import { evolveReader, initialReaderState, type ReaderState } from './reader-state.ts';

export type LibraryCommand =
  | { kind: 'add-book-copy'; bookId: string }
  | { kind: 'remove-book-copy'; bookId: string }
  | { kind: 'lend-book-copy'; bookId: string; readerId: string }
  | { kind: 'return-book-copy'; bookId: string; readerId: string }
  | { kind: 'register-reader'; readerId: string }
  | { kind: 'cancel-reader'; readerId: string };

export type CommandKind = LibraryCommand['kind'];
export const COMMAND_KINDS: readonly CommandKind[] = [
  'add-book-copy',
  'remove-book-copy',
  'lend-book-copy',
  'return-book-copy',
  'register-reader',
  'cancel-reader',
];

export function boundaryOf(cmd: LibraryCommand): Filter {
  switch (cmd.kind) {
    case 'add-book-copy':
    case 'remove-book-copy':
      return bookBoundary(cmd.bookId);
    case 'lend-book-copy':
    case 'return-book-copy':
      return lendingBoundary(cmd.bookId, cmd.readerId);
    case 'register-reader':
    case 'cancel-reader':
      return readerBoundary(cmd.readerId);
  }
}

export interface DecisionState {
  book: BookState;
  reader: ReaderState;
}

/** Folds the boundary's events into the book's and the reader's state. */
export function foldBoundary(cmd: LibraryCommand, events: readonly StoredEvent[], from?: DecisionState): DecisionState {
  let book = from?.book ?? initialBookState();
  let reader = from?.reader ?? initialReaderState();
  const bookId = 'bookId' in cmd ? cmd.bookId : undefined;
  const readerId = 'readerId' in cmd ? cmd.readerId : undefined;
  for (const e of events) {
    if (bookId !== undefined && BOOK_EVENT_TYPES.includes(e.type) && payloadString(e, 'BookID') === bookId) book = evolveBook(book, e);
    if (readerId !== undefined && READER_EVENT_TYPES.includes(e.type) && payloadString(e, 'ReaderID') === readerId) reader = evolveReader(reader, e);
  }
  return { book, reader };
}

export function decide(cmd: LibraryCommand, state: DecisionState, metadata?: Record<string, string>): NewEvent[] {
  const { book, reader } = state;
  switch (cmd.kind) {
    case 'add-book-copy':
      if (book.inCirculation) throw new DomainRejection('BOOK_ALREADY_IN_CIRCULATION', `book copy ${cmd.bookId} is already in circulation`);
      return [event(EVENT.added, { BookID: cmd.bookId }, metadata)];
    case 'remove-book-copy':
      if (!book.inCirculation) throw new DomainRejection('BOOK_NOT_IN_CIRCULATION', `book copy ${cmd.bookId} is not in circulation`);
      if (book.lentTo !== null) throw new DomainRejection('BOOK_ALREADY_LENT', `book copy ${cmd.bookId} is lent and cannot be removed`);
      return [event(EVENT.removed, { BookID: cmd.bookId }, metadata)];
    case 'lend-book-copy':
      if (!book.inCirculation) throw new DomainRejection('BOOK_NOT_IN_CIRCULATION', `book copy ${cmd.bookId} is not in circulation`);
      if (book.lentTo !== null) throw new DomainRejection('BOOK_ALREADY_LENT', `book copy ${cmd.bookId} is already lent`);
      if (!reader.registered) throw new DomainRejection('READER_NOT_REGISTERED', `reader ${cmd.readerId} has no active contract`);
      if (reader.books.length >= READER_BOOK_LIMIT) {
        throw new DomainRejection('READER_LIMIT_REACHED', `reader ${cmd.readerId} already holds ${READER_BOOK_LIMIT} books`);
      }
      return [event(EVENT.lent, { BookID: cmd.bookId, ReaderID: cmd.readerId }, metadata)];
    case 'return-book-copy':
      if (book.lentTo !== cmd.readerId) throw new DomainRejection('BOOK_NOT_LENT_TO_READER', `book copy ${cmd.bookId} is not lent to reader ${cmd.readerId}`);
      return [event(EVENT.returned, { BookID: cmd.bookId, ReaderID: cmd.readerId }, metadata)];
    case 'register-reader':
      if (reader.registered) throw new DomainRejection('READER_ALREADY_REGISTERED', `reader ${cmd.readerId} already has an active contract`);
      return [event(EVENT.signed, { ReaderID: cmd.readerId }, metadata)];
    case 'cancel-reader':
      if (!reader.registered) throw new DomainRejection('READER_NOT_REGISTERED', `reader ${cmd.readerId} has no active contract`);
      if (reader.books.length > 0) throw new DomainRejection('READER_HAS_BOOKS', `reader ${cmd.readerId} still holds ${reader.books.length} books`);
      return [event(EVENT.canceled, { ReaderID: cmd.readerId }, metadata)];
  }
}
