/**
 * The one error catalogue of esbench. Every error a user can see has a stable `code`; the HTTP
 * status (service) and the exit code (CLI) of each code are decided here and nowhere else.
 * `docs/errors.md` documents every code (a unit test keeps the two in step).
 */

export interface ErrorSpec {
  readonly http: number;
  readonly exit: number;
  readonly summary: string;
}

/** Exit codes: 1 = a check failed (SLO, strict health), 2 = usage / bad input, 3 = environment, 4 = conflict / internal. */
export const ERROR_CATALOGUE = {
  // Input
  BAD_REQUEST: { http: 400, exit: 2, summary: 'The request or arguments are malformed.' },
  INVALID_JSON: { http: 400, exit: 2, summary: 'The request body is not valid JSON.' },
  VALIDATION_FAILED: { http: 400, exit: 2, summary: 'The input does not match the schema (wrong type, unknown field, out of range).' },
  BODY_TOO_LARGE: { http: 413, exit: 2, summary: 'The request body exceeds the configured limit.' },
  UNSUPPORTED_MEDIA_TYPE: { http: 415, exit: 2, summary: 'The request body is not application/json.' },
  NOT_FOUND: { http: 404, exit: 2, summary: 'No such route or resource.' },
  METHOD_NOT_ALLOWED: { http: 405, exit: 2, summary: 'The route does not accept this method.' },
  BAD_FLAG: { http: 400, exit: 2, summary: 'A command-line flag or argument is unknown or malformed.' },
  BAD_CONFIG: { http: 400, exit: 2, summary: 'A configuration value is invalid.' },
  // Concurrency and domain
  CONCURRENCY_CONFLICT: { http: 409, exit: 4, summary: 'An event matching the boundary was appended after the expected version.' },
  RETRIES_EXHAUSTED: { http: 409, exit: 4, summary: 'A command kept conflicting after all its retries.' },
  BOOK_NOT_IN_CIRCULATION: { http: 422, exit: 4, summary: 'The book copy is not in circulation.' },
  BOOK_ALREADY_IN_CIRCULATION: { http: 422, exit: 4, summary: 'The book copy is already in circulation.' },
  BOOK_ALREADY_LENT: { http: 422, exit: 4, summary: 'The book copy is lent to a reader.' },
  BOOK_NOT_LENT_TO_READER: { http: 422, exit: 4, summary: 'The book copy is not lent to this reader.' },
  READER_NOT_REGISTERED: { http: 422, exit: 4, summary: 'The reader has no active contract.' },
  READER_ALREADY_REGISTERED: { http: 422, exit: 4, summary: 'The reader already has an active contract.' },
  READER_LIMIT_REACHED: { http: 422, exit: 4, summary: 'The reader already holds the maximum number of books (10).' },
  READER_HAS_BOOKS: { http: 422, exit: 4, summary: 'The reader still holds books and cannot cancel the contract.' },
  // Database and environment
  DB_UNAVAILABLE: { http: 503, exit: 3, summary: 'A database node cannot be reached.' },
  POOL_TIMEOUT: { http: 503, exit: 3, summary: 'No pooled connection became free within the acquire timeout.' },
  STATEMENT_TIMEOUT: { http: 503, exit: 3, summary: 'A statement ran longer than the statement timeout.' },
  REPLICA_UNAVAILABLE: { http: 503, exit: 3, summary: 'The replica cannot be reached and fallback to the primary is off.' },
  CLUSTER_NOT_RUNNING: { http: 503, exit: 3, summary: 'The cluster is not running (run `esbench cluster up`).' },
  CLUSTER_START_FAILED: { http: 500, exit: 3, summary: 'A PostgreSQL node failed to start; the message names its log.' },
  NODE_CRASHED: { http: 503, exit: 3, summary: 'A node of the cluster is down although its data directory says it should run.' },
  POSTGRES_NOT_FOUND: { http: 500, exit: 3, summary: 'No PostgreSQL binaries were found (npm package, PATH or pg_config).' },
  DOCKER_UNAVAILABLE: { http: 500, exit: 3, summary: 'No Docker engine is reachable.' },
  RESULTS_DIR_INVALID: { http: 500, exit: 2, summary: 'The results directory exists but is not esbench\'s.' },
  SLO_VIOLATED: { http: 500, exit: 1, summary: 'A run violated its --slo.' },
  CHECK_FAILED: { http: 500, exit: 1, summary: 'A strict check reported a warning.' },
  INTERRUPTED: { http: 500, exit: 130, summary: 'Stopped by SIGINT/SIGTERM before it finished; what was saved is marked partial.' },
  CLIENT_CLOSED_REQUEST: { http: 499, exit: 4, summary: 'The client went away before the answer; the service stopped working on the request.' },
  INTERNAL: { http: 500, exit: 4, summary: 'An unexpected error; please report it with the log.' },
  // Appended after the first release: codes keep their place, new ones go last.
  LOCK_TIMEOUT: { http: 503, exit: 3, summary: 'A statement waited longer than lock_timeout for a lock held by another session.' },
  // Tuner (sweep, capacity).
  SERVICE_CONFIG_MISMATCH: { http: 500, exit: 4, summary: "A trial's service process resolved another config than the trial sent it." },
  BAD_PLAN: { http: 400, exit: 2, summary: 'A sweep plan (flags, plan file, settings profile) is malformed.' },
  SETTING_NOT_APPLIED: { http: 500, exit: 3, summary: 'A database setting did not take effect (pg_settings / reloptions disagree after applying it).' },
  RESTART_UNAVAILABLE: { http: 500, exit: 3, summary: 'A setting needs a PostgreSQL restart and esbench cannot restart this cluster.' },
  SWEEP_DIR_INVALID: { http: 500, exit: 2, summary: 'The --resume directory is not a sweep directory or belongs to another plan.' },
  // Study.
  STUDY_DIR_INVALID: { http: 500, exit: 2, summary: 'The --resume directory is not an esbench study, or was made by another esbench version.' },
  RESULTS_NOT_FOUND: { http: 404, exit: 2, summary: 'The directory does not exist or holds no esbench result (run.json, sweep.json, capacity.json, study.json).' },
  RUN_NOT_READABLE: { http: 500, exit: 2, summary: 'A saved run could not be read: no run.json in the directory, or not a run esbench wrote.' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export class EsbenchError extends Error {
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'EsbenchError';
    this.code = code;
    this.details = options?.details;
  }

  get httpStatus(): number {
    return ERROR_CATALOGUE[this.code].http;
  }

  get exitCode(): number {
    return ERROR_CATALOGUE[this.code].exit;
  }
}

export class ConcurrencyConflict extends EsbenchError {
  constructor(readonly expectedVersion: number, readonly actualVersion: number) {
    super('CONCURRENCY_CONFLICT', `an event matching the boundary was appended after version ${expectedVersion} (now ${actualVersion})`, {
      details: { expectedVersion, actualVersion },
    });
    this.name = 'ConcurrencyConflict';
  }
}

/**
 * A business-rule rejection (422). `details` carries the state the decision saw (e.g. the copy's
 * `book: { inCirculation, lentTo }`): a client that lost track of an entity (after a timeout) can
 * adopt it instead of guessing.
 */
export class DomainRejection extends EsbenchError {
  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>) {
    super(code, message, details ? { details } : undefined);
    this.name = 'DomainRejection';
  }
}

export function isEsbenchError(error: unknown): error is EsbenchError {
  return error instanceof EsbenchError;
}

/** Socket errors of the driver: the node cannot be reached, or the connection to it broke. */
const NETWORK_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * SQLSTATEs after which the node (or this session) is gone or refuses work: class 08 (connection
 * exception), class 57P (shut down, crashed, starting up, database dropped, session timeout),
 * too many connections, a session killed for idling in a transaction, and a write sent to a
 * read-only node (a standby where a primary was expected).
 */
function nodeUnavailable(code: string | undefined): boolean {
  if (code === undefined) return false;
  return NETWORK_ERRORS.has(code) || sessionGone(code) || code === '53300' || code === '25006';
}

/**
 * The "connection is gone" SQLSTATEs: after one of these the session cannot be used again (class 08
 * connection exception, class 57P shut down / crashed / terminated, 25P03 idle-in-transaction
 * timeout). A pool must not hand such a connection out again (src/store/db-pool.ts: markBroken).
 */
export function sessionGone(code: string | undefined): boolean {
  return code !== undefined && (code.startsWith('08') || code.startsWith('57P') || code === '25P03');
}

/** lock_not_available: lock_timeout expired (LOCK_TIMEOUT in the catalogue, wherever it is met). */
export const LOCK_NOT_AVAILABLE = '55P03';

/**
 * True for a 5-character SQLSTATE sent by the server, as opposed to a socket errno (ECONNRESET,
 * EPIPE: five letters too). No SQLSTATE class starts with E; every errno code does.
 */
export function isSqlState(code: string | undefined): code is string {
  return code !== undefined && /^[0-9A-DF-Z][0-9A-Z]{4}$/.test(code);
}

/** PostgreSQL SQLSTATEs, socket errors and pg / pg-pool messages mapped to catalogued codes. */
export function fromDatabaseError(error: unknown): EsbenchError {
  if (error instanceof EsbenchError) return error;
  const e = error as { code?: string; message?: string } | undefined;
  const message = e?.message ?? String(error);
  if (e?.code === '57014') return new EsbenchError('STATEMENT_TIMEOUT', 'statement timeout', { cause: error });
  // lock_not_available: lock_timeout (set by an operator on the role or database) expired.
  if (e?.code === LOCK_NOT_AVAILABLE) return new EsbenchError('LOCK_TIMEOUT', 'lock timeout: a lock held by another session was not released in time', { cause: error });
  // Class 22 (data exception): a value PostgreSQL cannot store or compare (e.g. a timestamp out of
  // range). The input is at fault, not the server.
  if (e?.code?.startsWith('22')) return new EsbenchError('VALIDATION_FAILED', `value rejected by PostgreSQL: ${message}`, { cause: error });
  // pg's query_timeout (DbPool sets it just above the statement timeout): the server did not even
  // send its own statement-timeout error, so the node is not responding.
  if (message.includes('Query read timeout')) {
    return new EsbenchError('DB_UNAVAILABLE', 'database not responding (no answer within the statement timeout)', { cause: error });
  }
  if (message.includes('timeout exceeded when trying to connect')) {
    return new EsbenchError('POOL_TIMEOUT', 'timed out waiting for a pooled connection', { cause: error });
  }
  if (
    nodeUnavailable(e?.code) ||
    // pg's own messages for a connection that ended or broke ("Connection terminated unexpectedly",
    // "... due to connection timeout", "Client has encountered a connection error and is not queryable").
    message.includes('Connection terminated') ||
    message.includes('is not queryable')
  ) {
    return new EsbenchError('DB_UNAVAILABLE', 'database unavailable', { cause: error });
  }
  return new EsbenchError('INTERNAL', message, { cause: error });
}
