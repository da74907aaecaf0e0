/**
 * What the load engines send: a weighted mix of the service's endpoints (docs/service-api.md),
 * with IDs drawn from the client-side library model so that commands mostly succeed.
 *
 * Presets: `study` (the study's generator: 20 % circulation — add/remove 50/50 — and 80 % lending
 * — lend/return 50/50 — over 1000 books x 100 readers), `read-models` (books-lent by reader and
 * books-in-circulation, on the replica), `raw-append`, `raw-query`, `raw` (the event-store
 * endpoints alone). Custom weights come from a flag (`lend=40,return=40,...`) or a JSON file.
 */
import { request } from 'undici';
import { EsbenchError } from '../core/errors.ts';
import { LibraryModel, bookId, readerId, type CopyCommandKind, type LibraryPick, type LibrarySnapshot, type LibraryModelStats, type SeenBook } from './library-model.ts';
import { randomIndex, type Rng } from '../core/prng.ts';

export const ENDPOINTS = [
  'add-book-copy',
  'remove-book-copy',
  'lend-book-copy',
  'return-book-copy',
  'books-lent',
  'books-in-circulation',
  'events-query',
  'events-append',
] as const;

export type EndpointName = (typeof ENDPOINTS)[number];
export type Weights = Partial<Record<EndpointName, number>>;
export type NodeChoice = 'primary' | 'replica';

export interface WorkloadSpec {
  name: string;
  weights: Weights;
  books: number;
  readers: number;
  /** Where the read-model GETs read (the study: the replica). */
  readFrom: NodeChoice;
  /** Where raw `events-query` reads (commands always query the primary). */
  queryFrom: NodeChoice;
}

const STUDY_SIZE = { books: 1000, readers: 100 } as const;

export const WORKLOAD_PRESETS = {
  study: {
    name: 'study',
    weights: { 'add-book-copy': 10, 'remove-book-copy': 10, 'lend-book-copy': 40, 'return-book-copy': 40 },
    ...STUDY_SIZE,
    readFrom: 'replica',
    queryFrom: 'primary',
  },
  'read-models': {
    name: 'read-models',
    weights: { 'books-lent': 50, 'books-in-circulation': 50 },
    ...STUDY_SIZE,
    readFrom: 'replica',
    queryFrom: 'replica',
  },
  'raw-append': { name: 'raw-append', weights: { 'events-append': 100 }, ...STUDY_SIZE, readFrom: 'replica', queryFrom: 'primary' },
  'raw-query': { name: 'raw-query', weights: { 'events-query': 100 }, ...STUDY_SIZE, readFrom: 'replica', queryFrom: 'primary' },
  raw: { name: 'raw', weights: { 'events-append': 50, 'events-query': 50 }, ...STUDY_SIZE, readFrom: 'replica', queryFrom: 'primary' },
} as const satisfies Record<string, WorkloadSpec>;

export type WorkloadPresetName = keyof typeof WORKLOAD_PRESETS;

/** Short names accepted in `--mix`. */
const ALIASES: Readonly<Record<string, EndpointName>> = {
  add: 'add-book-copy',
  remove: 'remove-book-copy',
  lend: 'lend-book-copy',
  return: 'return-book-copy',
  lent: 'books-lent',
  'books-lent': 'books-lent',
  circulation: 'books-in-circulation',
  query: 'events-query',
  append: 'events-append',
};

function endpointOf(name: string): EndpointName {
  const key = name.trim().toLowerCase();
  if ((ENDPOINTS as readonly string[]).includes(key)) return key as EndpointName;
  const alias = ALIASES[key];
  if (alias) return alias;
  throw new EsbenchError('BAD_FLAG', `unknown endpoint '${name}' in the mix (known: ${ENDPOINTS.join(', ')}; short: ${Object.keys(ALIASES).join(', ')})`);
}

function checkWeights(weights: Weights, where: string): Weights {
  let total = 0;
  for (const [k, v] of Object.entries(weights)) {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new EsbenchError('BAD_FLAG', `${where}: weight of ${k} must be a number >= 0`);
    total += v;
  }
  if (!(total > 0)) throw new EsbenchError('BAD_FLAG', `${where}: at least one weight must be > 0`);
  return weights;
}

/** `lend=40,return=40,add=10,remove=10` → weights (relative; they need not sum to 100). */
export function parseWeights(text: string): Weights {
  const weights: Weights = {};
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const m = /^([A-Za-z-]+)\s*[=:]\s*(\d+(?:\.\d+)?)$/.exec(part);
    if (!m) throw new EsbenchError('BAD_FLAG', `mix entry '${part}' is not name=weight (example: lend=40,return=40,add=10,remove=10)`);
    weights[endpointOf(m[1]!)] = Number(m[2]);
  }
  return checkWeights(weights, '--mix');
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * A workload file: `{"name"?, "weights": {"lend-book-copy": 40, ...}, "books"?, "readers"?,
 * "readFrom"?, "queryFrom"?}`; unspecified fields come from `base` (the study preset by default).
 */
export function parseWorkloadJson(value: unknown, base: WorkloadSpec = WORKLOAD_PRESETS.study): WorkloadSpec {
  if (!isRecord(value)) throw new EsbenchError('BAD_CONFIG', 'a workload file must hold a JSON object');
  const known = new Set(['name', 'weights', 'books', 'readers', 'readFrom', 'queryFrom']);
  for (const k of Object.keys(value)) if (!known.has(k)) throw new EsbenchError('BAD_CONFIG', `workload file: unknown field '${k}'`);
  const spec: WorkloadSpec = { ...base, weights: { ...base.weights }, name: 'custom' };
  if (value.name !== undefined) {
    if (typeof value.name !== 'string') throw new EsbenchError('BAD_CONFIG', 'workload file: name must be a string');
    spec.name = value.name;
  }
  if (value.weights !== undefined) {
    if (!isRecord(value.weights)) throw new EsbenchError('BAD_CONFIG', 'workload file: weights must be an object');
    const weights: Weights = {};
    for (const [k, v] of Object.entries(value.weights)) weights[endpointOf(k)] = v as number;
    spec.weights = checkWeights(weights, 'workload file');
  }
  for (const key of ['books', 'readers'] as const) {
    const v = value[key];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new EsbenchError('BAD_CONFIG', `workload file: ${key} must be a positive integer`);
    spec[key] = v;
  }
  for (const key of ['readFrom', 'queryFrom'] as const) {
    const v = value[key];
    if (v === undefined) continue;
    if (v !== 'primary' && v !== 'replica') throw new EsbenchError('BAD_CONFIG', `workload file: ${key} must be 'primary' or 'replica'`);
    spec[key] = v;
  }
  return spec;
}

export interface WorkloadChoice {
  preset?: string;
  /** `--mix` text; replaces the preset's weights. */
  mix?: string;
  /** Parsed JSON of a workload file; applied over the preset. */
  file?: unknown;
  books?: number;
  readers?: number;
}

/** Preset ← file ← flags, validated. */
export function resolveWorkloadSpec(choice: WorkloadChoice): WorkloadSpec {
  const presetName = choice.preset ?? 'study';
  if (!Object.hasOwn(WORKLOAD_PRESETS, presetName)) {
    throw new EsbenchError('BAD_FLAG', `unknown workload '${presetName}' (known: ${Object.keys(WORKLOAD_PRESETS).join(', ')})`);
  }
  const preset = WORKLOAD_PRESETS[presetName as WorkloadPresetName];
  let spec: WorkloadSpec = { ...preset, weights: { ...preset.weights } };
  if (choice.file !== undefined) spec = parseWorkloadJson(choice.file, spec);
  if (choice.mix !== undefined) spec = { ...spec, name: choice.preset ? `${spec.name}+mix` : 'custom', weights: parseWeights(choice.mix) };
  if (choice.books !== undefined) spec.books = choice.books;
  if (choice.readers !== undefined) spec.readers = choice.readers;
  if (!Number.isInteger(spec.books) || spec.books < 1) throw new EsbenchError('BAD_FLAG', 'books must be a positive integer');
  if (!Number.isInteger(spec.readers) || spec.readers < 1) throw new EsbenchError('BAD_FLAG', 'readers must be a positive integer');
  return spec;
}

export interface PlannedRequest {
  /** Name the figures are reported under (one of ENDPOINTS for the built-in workloads). */
  readonly endpoint: string;
  readonly method: 'GET' | 'POST';
  /** Path and query, e.g. `/library/books-in-circulation?from=replica`. */
  readonly path: string;
  /** JSON text, or undefined for GET. */
  readonly body: string | undefined;
  /** The model's reservation, handed back through `complete`. */
  readonly pick: LibraryPick | undefined;
}

export type RequestOutcome =
  | { kind: 'response'; status: number; error?: ServiceErrorBody | undefined }
  | { kind: 'timeout' }
  | { kind: 'transport-error' }
  | { kind: 'dropped' }
  | { kind: 'cancelled' };

export interface WorkloadStats {
  planned: Record<string, number>;
  model: LibraryModelStats | null;
}

export interface Workload {
  readonly spec: WorkloadSpec;
  /** Draws the next request (endpoint by weight, IDs from the model). */
  next(rng: Rng): PlannedRequest;
  /** Tells the model what happened to a request `next` returned. Must be called exactly once per request. */
  complete(request: PlannedRequest, outcome: RequestOutcome): void;
  stats(): WorkloadStats;
}

/** Event types and payload keys of the study's domain (STUDY.md: "Payload carries BookID / ReaderID"). */
export const BOOK_EVENT_TYPES = [
  'BookCopyAddedToCirculation',
  'BookCopyRemovedFromCirculation',
  'BookCopyLentToReader',
  'BookCopyReturnedByReader',
] as const;
export const RAW_APPEND_EVENT_TYPE = 'BenchmarkEventAppended';

const COMMANDS: ReadonlySet<string> = new Set<CopyCommandKind>(['add-book-copy', 'remove-book-copy', 'lend-book-copy', 'return-book-copy']);

export interface CreateWorkloadOptions {
  /** Initial state of the library (see fetchLibrarySnapshot); an empty library otherwise. */
  snapshot?: LibrarySnapshot;
  /** Distinguishes this run's raw-append boundaries from other runs' (default: random). */
  runTag?: string;
}

export function createWorkload(spec: WorkloadSpec, options: CreateWorkloadOptions = {}): Workload {
  const entries = Object.entries(spec.weights).filter(([, w]) => (w ?? 0) > 0) as Array<[EndpointName, number]>;
  if (entries.length === 0) throw new EsbenchError('BAD_FLAG', 'the workload has no endpoint with a weight > 0');
  const total = entries.reduce((s, [, w]) => s + w, 0);
  const cumulative: Array<[EndpointName, number]> = [];
  let acc = 0;
  for (const [name, w] of entries) cumulative.push([name, (acc += w / total)]);
  const usesModel = entries.some(([name]) => COMMANDS.has(name));
  const model = usesModel
    ? new LibraryModel({ books: spec.books, readers: spec.readers, ...(options.snapshot ? { snapshot: options.snapshot } : {}) })
    : null;
  const runTag = options.runTag ?? Math.random().toString(36).slice(2, 10);
  const planned: Record<string, number> = {};
  let appendSeq = 0;

  const chooseEndpoint = (rng: Rng): EndpointName => {
    const u = rng();
    for (const [name, edge] of cumulative) if (u < edge) return name;
    return cumulative[cumulative.length - 1]![0];
  };

  const post = (endpoint: EndpointName, path: string, body: unknown, pick?: LibraryPick): PlannedRequest => ({
    endpoint,
    method: 'POST',
    path,
    body: JSON.stringify(body),
    pick,
  });

  return {
    spec,
    next(rng: Rng): PlannedRequest {
      const endpoint = chooseEndpoint(rng);
      planned[endpoint] = (planned[endpoint] ?? 0) + 1;
      switch (endpoint) {
        case 'add-book-copy':
        case 'remove-book-copy': {
          const pick = model!.pick(endpoint, rng);
          return post(endpoint, `/library/commands/${endpoint}`, { bookId: pick.bookId }, pick);
        }
        case 'lend-book-copy':
        case 'return-book-copy': {
          const pick = model!.pick(endpoint, rng);
          return post(endpoint, `/library/commands/${endpoint}`, { bookId: pick.bookId, readerId: pick.readerId }, pick);
        }
        case 'books-lent': {
          const reader = encodeURIComponent(readerId(1 + randomIndex(rng, spec.readers)));
          return { endpoint, method: 'GET', path: `/library/readers/${reader}/books-lent?from=${spec.readFrom}`, body: undefined, pick: undefined };
        }
        case 'books-in-circulation':
          return { endpoint, method: 'GET', path: `/library/books-in-circulation?from=${spec.readFrom}`, body: undefined, pick: undefined };
        case 'events-query': {
          // The boundary of one copy, as a command's decision would read it.
          const book = bookId(1 + randomIndex(rng, spec.books));
          const filter = { items: [{ types: [...BOOK_EVENT_TYPES], payload: { anyOf: [{ BookID: book }] } }] };
          return post(endpoint, '/events/query', { filter, from: spec.queryFrom });
        }
        case 'events-append': {
          // A fresh boundary per request (expectedVersion 0): measures the append path itself,
          // never a conflict. The run tag keeps runs against the same database apart.
          const benchId = `bench-${runTag}-${++appendSeq}`;
          const filter = { items: [{ types: [RAW_APPEND_EVENT_TYPE], payload: { anyOf: [{ BenchID: benchId }] } }] };
          return post(endpoint, '/events/append', {
            events: [{ type: RAW_APPEND_EVENT_TYPE, payload: { BenchID: benchId }, metadata: { source: 'esbench-load' } }],
            filter,
            expectedVersion: 0,
          });
        }
      }
    },
    complete(req: PlannedRequest, outcome: RequestOutcome): void {
      if (!model || !req.pick) return;
      switch (outcome.kind) {
        case 'response':
          if (outcome.status >= 200 && outcome.status < 300) model.settle(req.pick, { kind: 'applied' });
          else model.settle(req.pick, { kind: 'rejected', errorCode: outcome.error?.code, seen: seenBook(outcome.error?.details, req.pick.bookId) });
          return;
        case 'timeout':
        case 'transport-error':
          model.settle(req.pick, { kind: 'unknown' });
          return;
        case 'dropped':
        case 'cancelled':
          model.settle(req.pick, { kind: 'not-sent' });
          return;
      }
    },
    stats: () => ({ planned: { ...planned }, model: model ? model.stats() : null }),
  };
}

export interface ServiceErrorBody {
  code: string;
  details?: Readonly<Record<string, unknown>> | undefined;
}

/** The service's error from a body `{"error": {"code": ..., "details"?: {...}}}`, if it is one. */
export function serviceError(body: string): ServiceErrorBody | undefined {
  try {
    const parsed: unknown = JSON.parse(body);
    if (isRecord(parsed) && isRecord(parsed.error) && typeof parsed.error.code === 'string') {
      return { code: parsed.error.code, details: isRecord(parsed.error.details) ? parsed.error.details : undefined };
    }
  } catch {
    /* not JSON: no code */
  }
  return undefined;
}

/** The copy's state from a rejection's details, when it is about `bookId` and well-formed. */
function seenBook(details: Readonly<Record<string, unknown>> | undefined, bookId: string): SeenBook | undefined {
  const book = details?.book;
  if (!isRecord(book) || book.id !== bookId || typeof book.inCirculation !== 'boolean') return undefined;
  if (book.lentTo !== null && typeof book.lentTo !== 'string') return undefined;
  return { inCirculation: book.inCirculation, lentTo: book.lentTo };
}

export interface LibraryFetchOptions {
  books: number;
  readers: number;
  /** Read from the primary by default: the replica may lag behind the last run's commands. */
  from?: NodeChoice;
  /** Parallel requests while fetching (default 8). */
  concurrency?: number;
  timeoutMs?: number;
}

/**
 * Reads the library's current state through the service's read models, to start the model from
 * the truth (a seeded or previously loaded database). Registration is not exposed by any read
 * model, so every reader is assumed registered; the model learns otherwise from rejections.
 */
export async function fetchLibrarySnapshot(baseUrl: string, options: LibraryFetchOptions): Promise<LibrarySnapshot> {
  const from = options.from ?? 'primary';
  const timeoutMs = options.timeoutMs ?? 10_000;
  const getJson = async (path: string): Promise<unknown> => {
    const res = await request(new URL(path, baseUrl), { method: 'GET', signal: AbortSignal.timeout(timeoutMs) });
    const text = await res.body.text();
    if (res.statusCode !== 200) throw new EsbenchError('INTERNAL', `GET ${path} answered ${res.statusCode}: ${text.slice(0, 200)}`);
    return JSON.parse(text) as unknown;
  };
  const circulation = await getJson(`/library/books-in-circulation?from=${from}`);
  const books = isRecord(circulation) && Array.isArray(circulation.books) ? circulation.books.filter((b): b is string => typeof b === 'string') : [];
  const lent: Record<string, string> = {};
  let next = 1;
  const worker = async (): Promise<void> => {
    while (next <= options.readers) {
      const reader = readerId(next++);
      const answer = await getJson(`/library/readers/${encodeURIComponent(reader)}/books-lent?from=${from}`);
      const held = isRecord(answer) && Array.isArray(answer.books) ? answer.books : [];
      for (const b of held) if (typeof b === 'string') lent[b] = reader;
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 8) }, worker));
  return { inCirculation: books, lent };
}
