/**
 * The load generator's own model of the library, so that requests draw IDs that make commands
 * succeed (lend an available copy to a reader under the limit, return a copy to the reader who
 * holds it), as the study's generator did. Without it most commands would be business-rule
 * rejections, which are cheaper than real commands and would flatter the service.
 *
 * The model changes only on evidence: a 2xx response applies the command; a 4xx / 5xx means the
 * command was not applied (the service commits only on success), and a rejection carries the
 * copy's state as the decision saw it, which the model adopts. A timeout or transport error leaves
 * the outcome unknown: the copy is set aside ("unknown") rather than guessed, and drawn again as
 * a probe (see `probe`), so that the answer about it (success, or a rejection with its state)
 * tells the model what it is. Without that, an overloaded run would set the whole library
 * aside within minutes and turn into cheap rejections (seen in a 300 req/s soak: 993 of 1000
 * copies unknown, 85 % of requests rejected). A copy is reserved while a request about it is in
 * flight, so two concurrent requests never target the same copy.
 */
import { PickSet } from '../core/pick-set.ts';
import { randomIndex, type Rng } from '../core/prng.ts';
import { bookId, readerId } from '../domain/library-events.ts';

export const MAX_BOOKS_PER_READER = 10;

/** What the service held at the start (from the read models, or a fresh seed). */
export interface LibrarySnapshot {
  /** Copies in circulation (lent or not). */
  inCirculation: readonly string[];
  /** bookId → readerId for lent copies. */
  lent: Readonly<Record<string, string>>;
  /** Readers with a contract; undefined = all readers of the id range. */
  registeredReaders?: readonly string[];
}

/** The copy commands the load model draws (the domain's LibraryCommand is the command itself). */
export type CopyCommandKind = 'add-book-copy' | 'remove-book-copy' | 'lend-book-copy' | 'return-book-copy';

export interface LibraryPick {
  command: CopyCommandKind;
  bookId: string;
  readerId: string | undefined;
  /** False when no copy fitted and random IDs were drawn (the request will probably be rejected). */
  eligible: boolean;
  /** A copy whose state is unknown, drawn so that the answer tells what it is (reserved too). */
  probe?: true;
}

/** The copy's state as the service's decision saw it (the `details.book` of a 422). */
export interface SeenBook {
  inCirculation: boolean;
  lentTo: string | null;
}

/** What a request told the load model (the domain's CommandOutcome is the handler's result). */
export type ModelOutcome =
  | { kind: 'applied' }
  | { kind: 'rejected'; errorCode: string | undefined; seen?: SeenBook | undefined }
  | { kind: 'unknown' }
  | { kind: 'not-sent' };

export interface LibraryModelStats {
  books: number;
  readers: number;
  outOfCirculation: number;
  available: number;
  lent: number;
  reserved: number;
  /** Copies whose state is unknown after a timeout or transport error; no longer drawn. */
  unknown: number;
  unregisteredReaders: number;
  /** Picks that found no eligible copy, by command. */
  noEligible: Record<CopyCommandKind, number>;
  /** Rejections that contradicted the model (the model corrected itself), by error code. */
  corrections: Record<string, number>;
  /** Requests about copies of unknown state, sent to learn what they are. */
  probes: number;
}

type BookState = 'out' | 'available' | 'lent' | 'unknown';

export { bookId, readerId } from '../domain/library-events.ts';

const needsReader = (command: CopyCommandKind): boolean => command === 'lend-book-copy' || command === 'return-book-copy';

export interface LibraryModelOptions {
  books: number;
  readers: number;
  /** Initial state; without it, every copy starts out of circulation and nothing is lent. */
  snapshot?: LibrarySnapshot;
}

export class LibraryModel {
  readonly books: number;
  readonly readers: number;
  private readonly state = new Map<string, BookState>();
  private readonly holder = new Map<string, string>();
  private readonly out = new PickSet<string>();
  private readonly available = new PickSet<string>();
  private readonly lentSet = new PickSet<string>();
  private readonly unknownSet = new PickSet<string>();
  private readonly reserved = new Set<string>();
  private readonly held = new Map<string, number>();
  private readonly pendingLends = new Map<string, number>();
  private readonly unregistered = new Set<string>();
  private readonly noEligible: Record<CopyCommandKind, number> = {
    'add-book-copy': 0,
    'remove-book-copy': 0,
    'lend-book-copy': 0,
    'return-book-copy': 0,
  };
  private readonly corrections: Record<string, number> = {};
  private probes = 0;

  constructor(options: LibraryModelOptions) {
    if (!Number.isInteger(options.books) || options.books < 1) throw new RangeError('books must be a positive integer');
    if (!Number.isInteger(options.readers) || options.readers < 1) throw new RangeError('readers must be a positive integer');
    this.books = options.books;
    this.readers = options.readers;
    const snap = options.snapshot;
    const inCirculation = new Set(snap?.inCirculation ?? []);
    for (let n = 1; n <= this.books; n++) {
      const id = bookId(n);
      const reader = snap?.lent[id];
      if (reader !== undefined) this.setState(id, 'lent', reader);
      else this.setState(id, inCirculation.has(id) ? 'available' : 'out');
    }
    if (snap?.registeredReaders) {
      const registered = new Set(snap.registeredReaders);
      for (let n = 1; n <= this.readers; n++) if (!registered.has(readerId(n))) this.unregistered.add(readerId(n));
    }
  }

  /** Draws IDs for a command and reserves the copy until `settle` is called. */
  pick(command: CopyCommandKind, rng: Rng): LibraryPick {
    const probe = this.probe(command, rng);
    if (probe) return probe;
    let book: string | undefined;
    let reader: string | undefined;
    if (command === 'lend-book-copy') {
      reader = this.pickReaderWithRoom(rng);
      book = reader === undefined ? undefined : this.candidates(command).pick(rng);
    } else {
      book = this.candidates(command).pick(rng);
      if (command === 'return-book-copy' && book !== undefined) reader = this.holder.get(book);
    }
    if (book === undefined) {
      this.noEligible[command] += 1;
      // Keep the mix: send the command with random IDs; the service rejects it and that is measured.
      return {
        command,
        bookId: bookId(1 + randomIndex(rng, this.books)),
        readerId: needsReader(command) ? readerId(1 + randomIndex(rng, this.readers)) : undefined,
        eligible: false,
      };
    }
    this.reserve(book);
    if (command === 'lend-book-copy' && reader !== undefined) this.pendingLends.set(reader, (this.pendingLends.get(reader) ?? 0) + 1);
    return { command, bookId: book, readerId: reader, eligible: true };
  }

  /**
   * Copies of unknown state are drawn as often as any candidate of the command (the unknown ones
   * count among the candidates), so they come back into play at the rate a fair draw would touch
   * them. Their answer, a success or a rejection carrying the copy's state, resolves them.
   */
  private probe(command: CopyCommandKind, rng: Rng): LibraryPick | undefined {
    const unknown = this.unknownSet.size;
    if (unknown === 0) return undefined;
    if (randomIndex(rng, unknown + this.candidates(command).size) >= unknown) return undefined;
    const book = this.unknownSet.pick(rng)!;
    this.reserve(book);
    this.probes += 1;
    const reader = needsReader(command) ? (this.pickReaderWithRoom(rng) ?? readerId(1 + randomIndex(rng, this.readers))) : undefined;
    return { command, bookId: book, readerId: reader, eligible: false, probe: true };
  }

  /** The copies a command can succeed on: out of circulation to add, available to remove or lend, lent to return. */
  private candidates(command: CopyCommandKind): PickSet<string> {
    return command === 'add-book-copy' ? this.out : command === 'return-book-copy' ? this.lentSet : this.available;
  }

  /** Applies what the response says about a pick (and releases its reservation). */
  settle(pick: LibraryPick, outcome: ModelOutcome): void {
    if (pick.probe) {
      this.reserved.delete(pick.bookId);
      if (outcome.kind === 'applied') this.apply(pick);
      else {
        this.restore(pick.bookId);
        if (outcome.kind === 'rejected') this.correct(pick, outcome.errorCode, outcome.seen);
      }
      return;
    }
    if (pick.command === 'lend-book-copy' && pick.eligible && pick.readerId !== undefined) {
      const p = (this.pendingLends.get(pick.readerId) ?? 1) - 1;
      if (p > 0) this.pendingLends.set(pick.readerId, p);
      else this.pendingLends.delete(pick.readerId);
    }
    if (!pick.eligible) {
      // Random IDs: the model did not predict success; learn only from success or a clear code.
      if (outcome.kind === 'applied') this.apply(pick);
      else if (outcome.kind === 'rejected') this.correct(pick, outcome.errorCode, outcome.seen);
      return;
    }
    this.reserved.delete(pick.bookId);
    switch (outcome.kind) {
      case 'applied':
        this.apply(pick);
        return;
      case 'unknown':
        this.setState(pick.bookId, 'unknown');
        return;
      case 'not-sent':
        this.restore(pick.bookId);
        return;
      case 'rejected':
        this.restore(pick.bookId);
        this.correct(pick, outcome.errorCode, outcome.seen);
        return;
    }
  }

  stats(): LibraryModelStats {
    let unknown = 0;
    for (const s of this.state.values()) if (s === 'unknown') unknown += 1;
    return {
      books: this.books,
      readers: this.readers,
      outOfCirculation: this.out.size,
      available: this.available.size,
      lent: this.lentSet.size,
      reserved: this.reserved.size,
      unknown,
      unregisteredReaders: this.unregistered.size,
      noEligible: { ...this.noEligible },
      corrections: { ...this.corrections },
      probes: this.probes,
    };
  }

  /** For tests and diagnostics: what the model believes about one copy. */
  bookState(id: string): { state: BookState; reader: string | undefined; reserved: boolean } | undefined {
    const state = this.state.get(id);
    return state === undefined ? undefined : { state, reader: this.holder.get(id), reserved: this.reserved.has(id) };
  }

  private pickReaderWithRoom(rng: Rng): string | undefined {
    // Rejection sampling: readers rarely hold 10 copies, so a few draws almost always find one.
    for (let attempt = 0; attempt < 16; attempt++) {
      const r = readerId(1 + randomIndex(rng, this.readers));
      if (this.unregistered.has(r)) continue;
      if ((this.held.get(r) ?? 0) + (this.pendingLends.get(r) ?? 0) < MAX_BOOKS_PER_READER) return r;
    }
    return undefined;
  }

  private reserve(book: string): void {
    this.reserved.add(book);
    this.out.delete(book);
    this.available.delete(book);
    this.lentSet.delete(book);
    this.unknownSet.delete(book);
  }

  /** Puts a reserved copy back into the set of its (unchanged) state. */
  private restore(book: string): void {
    const s = this.state.get(book);
    if (s !== undefined) this.setState(book, s, this.holder.get(book));
  }

  private apply(pick: LibraryPick): void {
    switch (pick.command) {
      case 'add-book-copy':
        this.setState(pick.bookId, 'available');
        return;
      case 'remove-book-copy':
        this.setState(pick.bookId, 'out');
        return;
      case 'lend-book-copy':
        this.setState(pick.bookId, 'lent', pick.readerId);
        return;
      case 'return-book-copy':
        this.setState(pick.bookId, 'available');
        return;
    }
  }

  /** A rejection tells something about the copy or the reader; adopt it. */
  private correct(pick: LibraryPick, code: string | undefined, seen?: SeenBook): void {
    if (code === undefined) return;
    const note = () => (this.corrections[code] = (this.corrections[code] ?? 0) + 1);
    const current = this.state.get(pick.bookId);
    if (seen) {
      // The decision's own view of the copy: adopt it whole.
      const state: BookState = seen.lentTo !== null ? 'lent' : seen.inCirculation ? 'available' : 'out';
      if (state !== current || (state === 'lent' && this.holder.get(pick.bookId) !== seen.lentTo)) note();
      this.setState(pick.bookId, state, seen.lentTo ?? undefined);
      if (code !== 'READER_LIMIT_REACHED' && code !== 'READER_NOT_REGISTERED') return;
    }
    switch (code) {
      case 'BOOK_NOT_IN_CIRCULATION':
        if (current !== 'out') note();
        this.setState(pick.bookId, 'out');
        return;
      case 'BOOK_ALREADY_IN_CIRCULATION':
        // In circulation, possibly lent to someone we do not know: only 'out' is certainly wrong.
        if (current === 'out') {
          note();
          this.setState(pick.bookId, 'available');
        }
        return;
      case 'BOOK_ALREADY_LENT':
        // Lent, but to whom is not said: if the model thought otherwise, set the copy aside
        // rather than guess.
        if (current !== 'lent' && current !== 'unknown') {
          note();
          this.setState(pick.bookId, 'unknown');
        }
        return;
      case 'BOOK_NOT_LENT_TO_READER':
        // Only news if the model believed this reader held it (a random pair is expected to fail).
        if (current === 'lent' && this.holder.get(pick.bookId) === pick.readerId) {
          note();
          this.setState(pick.bookId, 'unknown');
        }
        return;
      case 'READER_LIMIT_REACHED':
        if (pick.readerId !== undefined && (this.held.get(pick.readerId) ?? 0) < MAX_BOOKS_PER_READER) {
          note();
          this.held.set(pick.readerId, Math.max(this.held.get(pick.readerId) ?? 0, MAX_BOOKS_PER_READER));
        }
        return;
      case 'READER_NOT_REGISTERED':
        if (pick.readerId !== undefined && !this.unregistered.has(pick.readerId)) {
          note();
          this.unregistered.add(pick.readerId);
        }
        return;
      default:
        return; // conflicts, retries exhausted, 5xx: not applied, nothing learned
    }
  }

  private setState(book: string, requested: BookState, reader?: string): void {
    // A lent copy whose reader is unknown cannot be returned correctly: set it aside.
    const state: BookState = requested === 'lent' && reader === undefined ? 'unknown' : requested;
    const previousHolder = this.holder.get(book);
    if (previousHolder !== undefined) {
      this.held.set(previousHolder, Math.max(0, (this.held.get(previousHolder) ?? 1) - 1));
      this.holder.delete(book);
    }
    this.out.delete(book);
    this.available.delete(book);
    this.lentSet.delete(book);
    this.unknownSet.delete(book);
    this.state.set(book, state);
    if (state === 'lent' && reader !== undefined) {
      this.holder.set(book, reader);
      this.held.set(reader, (this.held.get(reader) ?? 0) + 1);
    }
    if (this.reserved.has(book)) return; // stays out of the pick sets until settled
    if (state === 'out') this.out.add(book);
    else if (state === 'available') this.available.add(book);
    else if (state === 'lent') this.lentSet.add(book);
    else this.unknownSet.add(book);
  }
}
