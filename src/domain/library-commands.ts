/**
 * The library's commands: which boundary each decides on, and the pure decision (business rules)
 * from the boundary's events to the events to append, or a DomainRejection (→ 422).
 */
import { DomainRejection, type ErrorCode } from '../core/errors.ts';
import type { Filter } from '../store/filter.ts';
import type { FoldedEvent, NewEvent } from '../store/event-store.ts';
import { bookProjection, evolveBook, initialBookState, type BookState } from './book-state.ts';
import { EVENT, READER_BOOK_LIMIT, bookItem, event, readerItem } from './library-events.ts';
import { inItem, type EntityView } from './projection.ts';
import { evolveReader, initialReaderState, readerProjection, type ReaderState } from './reader-state.ts';

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

export type CommandEntity = { role: 'book'; view: EntityView<BookState> } | { role: 'reader'; view: EntityView<ReaderState> };

/**
 * One frozen entity per book and reader ID, reused by every command on it: a command asks for its
 * entities several times (boundary, read, fold, snapshot keys), and the snapshot key of a view is
 * then computed once per entity, not per command (snapshotKeyOf). Bounded like the lock-key cache:
 * arbitrary IDs must not grow it without end.
 */
const entityCache = new Map<string, CommandEntity>();
const ENTITY_CACHE_MAX = 100_000;

function deepFreeze<T>(o: T): T {
  if (o !== null && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}

function cachedEntity(role: 'book' | 'reader', id: string): CommandEntity {
  const key = `${role}\u0000${id}`;
  let entity = entityCache.get(key);
  if (entity === undefined) {
    entity =
      role === 'book'
        ? { role, view: { projection: bookProjection, item: deepFreeze(bookItem(id)) } }
        : { role, view: { projection: readerProjection, item: deepFreeze(readerItem(id)) } };
    Object.freeze(entity.view);
    Object.freeze(entity);
    if (entityCache.size >= ENTITY_CACHE_MAX) entityCache.clear();
    entityCache.set(key, entity);
  }
  return entity;
}

/** The entities a command decides on, in the order of its boundary's items. */
export function entitiesOf(cmd: LibraryCommand): CommandEntity[] {
  const book = (id: string) => cachedEntity('book', id) as Extract<CommandEntity, { role: 'book' }>;
  const reader = (id: string) => cachedEntity('reader', id) as Extract<CommandEntity, { role: 'reader' }>;
  switch (cmd.kind) {
    case 'add-book-copy':
    case 'remove-book-copy':
      return [book(cmd.bookId)];
    case 'lend-book-copy':
    case 'return-book-copy':
      return [book(cmd.bookId), reader(cmd.readerId)];
    case 'register-reader':
    case 'cancel-reader':
      return [reader(cmd.readerId)];
  }
}

/** The command's consistency boundary: the items of its entities, OR'd. */
export function boundaryOf(cmd: LibraryCommand): Filter {
  return { items: entitiesOf(cmd).map((e) => e.view.item) };
}

export interface DecisionState {
  book: BookState;
  reader: ReaderState;
}

/** Where each entity's fold starts: a state valid at `sequenceNumber` (0 = from the beginning). */
export interface FoldStart {
  book?: { state: BookState; sequenceNumber: number };
  reader?: { state: ReaderState; sequenceNumber: number };
}

/**
 * Folds the boundary's events into the book's and the reader's state. An event is applied to an
 * entity only if it belongs to that entity and is newer than the entity's starting point: a lend
 * event belongs to both the book and the reader, whose snapshots may be at different points.
 */
export function foldBoundary(cmd: LibraryCommand, events: readonly FoldedEvent[], from: FoldStart = {}): DecisionState {
  let book = from.book?.state ?? initialBookState();
  let reader = from.reader?.state ?? initialReaderState();
  const bookFrom = from.book?.sequenceNumber ?? 0;
  const readerFrom = from.reader?.sequenceNumber ?? 0;
  const entities = entitiesOf(cmd);
  const bookView = entities.find((e) => e.role === 'book')?.view;
  const readerView = entities.find((e) => e.role === 'reader')?.view;
  for (const e of events) {
    if (bookView && e.sequenceNumber > bookFrom && inItem(bookView.item, e)) book = evolveBook(book, e);
    if (readerView && e.sequenceNumber > readerFrom && inItem(readerView.item, e)) reader = evolveReader(reader, e);
  }
  return { book, reader };
}

export function decide(cmd: LibraryCommand, state: DecisionState, metadata?: Record<string, string>): NewEvent[] {
  const { book, reader } = state;
  // What the decision saw, returned with a rejection (docs/service-api.md).
  const bookSeen = () => ({ book: { id: 'bookId' in cmd ? cmd.bookId : undefined, inCirculation: book.inCirculation, lentTo: book.lentTo } });
  const readerSeen = () => ({ reader: { id: 'readerId' in cmd ? cmd.readerId : undefined, registered: reader.registered, books: reader.books.length } });
  const reject = (code: ErrorCode, message: string, details: Record<string, unknown>): never => {
    throw new DomainRejection(code, message, details);
  };
  switch (cmd.kind) {
    case 'add-book-copy':
      if (book.inCirculation) reject('BOOK_ALREADY_IN_CIRCULATION', `book copy ${cmd.bookId} is already in circulation`, bookSeen());
      return [event(EVENT.added, { BookID: cmd.bookId }, metadata)];
    case 'remove-book-copy':
      if (!book.inCirculation) reject('BOOK_NOT_IN_CIRCULATION', `book copy ${cmd.bookId} is not in circulation`, bookSeen());
      if (book.lentTo !== null) reject('BOOK_ALREADY_LENT', `book copy ${cmd.bookId} is lent and cannot be removed`, bookSeen());
      return [event(EVENT.removed, { BookID: cmd.bookId }, metadata)];
    case 'lend-book-copy':
      if (!book.inCirculation) reject('BOOK_NOT_IN_CIRCULATION', `book copy ${cmd.bookId} is not in circulation`, bookSeen());
      if (book.lentTo !== null) reject('BOOK_ALREADY_LENT', `book copy ${cmd.bookId} is already lent`, bookSeen());
      if (!reader.registered) reject('READER_NOT_REGISTERED', `reader ${cmd.readerId} has no active contract`, { ...bookSeen(), ...readerSeen() });
      if (reader.books.length >= READER_BOOK_LIMIT) {
        reject('READER_LIMIT_REACHED', `reader ${cmd.readerId} already holds ${READER_BOOK_LIMIT} books`, { ...bookSeen(), ...readerSeen() });
      }
      return [event(EVENT.lent, { BookID: cmd.bookId, ReaderID: cmd.readerId }, metadata)];
    case 'return-book-copy':
      if (book.lentTo !== cmd.readerId) reject('BOOK_NOT_LENT_TO_READER', `book copy ${cmd.bookId} is not lent to reader ${cmd.readerId}`, bookSeen());
      return [event(EVENT.returned, { BookID: cmd.bookId, ReaderID: cmd.readerId }, metadata)];
    case 'register-reader':
      if (reader.registered) reject('READER_ALREADY_REGISTERED', `reader ${cmd.readerId} already has an active contract`, readerSeen());
      return [event(EVENT.signed, { ReaderID: cmd.readerId }, metadata)];
    case 'cancel-reader':
      if (!reader.registered) reject('READER_NOT_REGISTERED', `reader ${cmd.readerId} has no active contract`, readerSeen());
      if (reader.books.length > 0) reject('READER_HAS_BOOKS', `reader ${cmd.readerId} still holds ${reader.books.length} books`, readerSeen());
      return [event(EVENT.canceled, { ReaderID: cmd.readerId }, metadata)];
  }
}
