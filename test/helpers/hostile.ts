/**
 * Hostile input for the fuzz and security tests: a corpus of strings that break naive code (SQL,
 * JSONB operators, unicode edge cases, prototype keys) and a seeded generator of malformed requests
 * for every route of the service. Same seed, same requests: a failure reproduces with its seed.
 */

export type Rng = () => number;

/** mulberry32: tiny, seedable, good enough to draw test cases (not for anything else). */
export function seededRng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)]!;

/** Sets an own, enumerable property even for '__proto__' (plain assignment would set the prototype). */
function put(o: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
}
const int = (rng: Rng, lo: number, hi: number) => lo + Math.floor(rng() * (hi - lo + 1));

/** SQL and JSONB-operator fragments: if any of them ever became SQL text, the table would not survive. */
export const SQL_STRINGS: readonly string[] = [
  "' OR '1'='1",
  "x'); DROP TABLE events; --",
  '"; DROP TABLE events; --',
  '1; DELETE FROM events',
  "' UNION SELECT usename, passwd FROM pg_shadow --",
  "'; TRUNCATE events; SELECT '",
  '$$; DROP TABLE events; $$',
  '$1',
  '$2::jsonb',
  "' @> '{}",
  '@>',
  "payload @> '{}' OR true",
  '{"BookID": "x"}\' @> \'{}\' --',
  ')) OR 1=1 --',
  "'::jsonb @> '{}'::jsonb --",
  "E'\\\\x00'",
  "'; SELECT pg_sleep(10); --",
  "COPY events TO PROGRAM 'id'",
  '\\',
  "\\'",
  '%',
  '_',
  '*/ DROP TABLE events; /*',
  '/* esbench:append */',
  'SELECT',
  'NULL',
];

/** Unicode and other edge cases. Lone surrogates and NUL cannot be stored by PostgreSQL. */
export const UNICODE_STRINGS: readonly string[] = [
  '\u202Eevil\u202C', // right-to-left override
  '\u200B', // zero-width space
  'a\u200Db', // zero-width joiner
  '\uFEFF', // byte order mark
  '\u2028\u2029', // line / paragraph separators
  '👩‍👩‍👧‍👦',
  '𝕏𝔂𝔃',
  'é', // e + combining accent
  '\uD800', // lone high surrogate
  '\uDFFF', // lone low surrogate
  'x\uD83D', // truncated emoji
  'a\u0000b',
  '\u0000',
  '\u0001\u001f\u007f',
  'ﾟ･✿ヾ╲(｡◕‿◕｡)╱✿･ﾟ',
  '',
  ' ',
  '\n\r\t',
];

export const OTHER_STRINGS: readonly string[] = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'null',
  'undefined',
  'NaN',
  'Infinity',
  '../../etc/passwd',
  '%00',
  '%2e%2e%2f',
  '<script>alert(1)</script>',
  '${jndi:ldap://127.0.0.1/x}',
  '{{7*7}}',
  'x'.repeat(65),
  'x'.repeat(5000),
];

export const HOSTILE_STRINGS: readonly string[] = [...SQL_STRINGS, ...UNICODE_STRINGS, ...OTHER_STRINGS];

/** JSON values of every type, including the awkward ones. */
const HOSTILE_SCALARS: readonly unknown[] = [0, -1, 1.5, -0, 2 ** 53, 2 ** 53 + 2, -(2 ** 63), 1e308, true, false, null];

function hostileValue(rng: Rng): unknown {
  const r = rng();
  if (r < 0.55) return pick(rng, HOSTILE_STRINGS);
  if (r < 0.75) return pick(rng, HOSTILE_SCALARS);
  if (r < 0.85) return [pick(rng, HOSTILE_STRINGS), pick(rng, HOSTILE_SCALARS)];
  if (r < 0.95) return { [pick(rng, HOSTILE_STRINGS)]: pick(rng, HOSTILE_STRINGS) };
  return r < 0.975 ? [] : {};
}

export type RouteName =
  | 'query'
  | 'append'
  | 'add-book-copy'
  | 'remove-book-copy'
  | 'lend-book-copy'
  | 'return-book-copy'
  | 'register-reader'
  | 'cancel-reader'
  | 'books-lent'
  | 'circulation'
  | 'health'
  | 'metrics'
  | 'unknown';

export interface FuzzCase {
  index: number;
  route: RouteName;
  /** What was done to it, for the failure report. */
  mutations: string[];
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string | Buffer | undefined;
  /** A status the answer must have when the mutation determines it (e.g. 413 for an oversized body). */
  expectStatus?: number;
  expectCode?: string;
}

/** An event type and payload that exist in the store before the fuzz starts (see `sentinelItem`). */
export const SENTINEL_TYPE = 'FuzzSentinel';
const sentinelItem = () => ({ types: [SENTINEL_TYPE] });

const COMMAND_ROUTES = ['add-book-copy', 'remove-book-copy', 'lend-book-copy', 'return-book-copy', 'register-reader', 'cancel-reader'] as const;
/** Commands that would write on a store holding nothing but the sentinel, if their body were valid. */
const WRITING_COMMANDS: readonly string[] = ['add-book-copy', 'register-reader'];
const ID = /^[A-Za-z0-9_.:-]{1,64}$/;

function validFilter(rng: Rng): Record<string, unknown> {
  const item: Record<string, unknown> = { types: [pick(rng, ['BookCopyLentToReader', 'T', 'ReaderContractSigned'])] };
  if (rng() < 0.7) item.payload = { [rng() < 0.5 ? 'anyOf' : 'allOf']: [{ BookID: `book-${int(rng, 1, 50)}` }] };
  if (rng() < 0.2) item.after = int(rng, 0, 100);
  if (rng() < 0.2) item.occurredFrom = '2024-01-01T00:00:00Z';
  return { items: [item] };
}

function template(route: RouteName, rng: Rng): Record<string, unknown> {
  switch (route) {
    case 'query':
      return rng() < 0.3 ? { filter: validFilter(rng), from: pick(rng, ['primary', 'replica']) } : { filter: validFilter(rng) };
    case 'append':
      return {
        events: [{ type: 'T', payload: { BookID: `book-${int(rng, 1, 50)}` }, ...(rng() < 0.3 ? { metadata: { m: 1 } } : {}) }],
        filter: validFilter(rng),
        expectedVersion: 0,
      };
    case 'add-book-copy':
    case 'remove-book-copy':
      return { bookId: `book-${int(rng, 1, 50)}` };
    case 'register-reader':
    case 'cancel-reader':
      return { readerId: `reader-${int(rng, 1, 50)}` };
    default:
      return { bookId: `book-${int(rng, 1, 50)}`, readerId: `reader-${int(rng, 1, 50)}` };
  }
}

/** IDs that match the ID pattern but look like trouble: they must reach the domain as plain data. */
const ODD_VALID_IDS: readonly string[] = ['DROP', 'SELECT', '1:OR:1', '--', '..', '.', ':', '-', '_', '0', 'null', 'constructor', '__proto__', 'a'.repeat(64)];

/** What PostgreSQL can store: no NUL, no lone surrogate (those are refused with a 400 before any SQL). */
const STORABLE: readonly string[] = HOSTILE_STRINGS.filter((v) => !v.includes('\u0000') && v.isWellFormed());
/** Mostly storable, so that a valid-shaped body usually reaches the database. */
const anyHostile = (rng: Rng) => (rng() < 0.97 ? pick(rng, STORABLE) : pick(rng, HOSTILE_STRINGS));

/** A string that fits the schema's length limits (types are at most 200 characters). */
const shortHostile = (rng: Rng) => {
  const v = anyHostile(rng);
  return v.length === 0 || v.length > 200 ? "' OR '1'='1" : v;
};

function hostileObject(rng: Rng): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (let i = 0, n = int(rng, 1, 3); i < n; i++) {
    const key = rng() < 0.8 ? anyHostile(rng) : pick(rng, ['BookID', 'ReaderID']);
    put(o, key, rng() < 0.6 ? anyHostile(rng) : rng() < 0.5 ? pick(rng, HOSTILE_SCALARS) : { [shortHostile(rng)]: [shortHostile(rng)] });
  }
  return o;
}

function hostileFilter(rng: Rng): Record<string, unknown> {
  const items = Array.from({ length: int(rng, 1, 4) }, () => {
    const item: Record<string, unknown> = { types: Array.from({ length: int(rng, 1, 3) }, () => shortHostile(rng)) };
    if (rng() < 0.8) item.payload = { [rng() < 0.5 ? 'anyOf' : 'allOf']: Array.from({ length: int(rng, 1, 3) }, () => hostileObject(rng)) };
    if (rng() < 0.2) item.after = int(rng, 0, Number.MAX_SAFE_INTEGER);
    if (rng() < 0.2) item.occurredFrom = pick(rng, ['2024-01-01T00:00:00Z', '1970-01-01T00:00:00.000+14:00', '2999-12-31T23:59:59.999Z']);
    return item;
  });
  return { items };
}

/**
 * Hostile values in every free-form field of a *valid* body (event types, payload and metadata keys
 * and values, filter types and objects, pattern-valid IDs): these reach the SQL as parameters.
 */
function hostileButValid(route: RouteName, rng: Rng): Record<string, unknown> {
  switch (route) {
    case 'query':
      return { filter: hostileFilter(rng), ...(rng() < 0.3 ? { from: pick(rng, ['primary', 'replica']) } : {}) };
    case 'append':
      return {
        events: Array.from({ length: int(rng, 1, 3) }, () => ({ type: shortHostile(rng), payload: hostileObject(rng), ...(rng() < 0.5 ? { metadata: hostileObject(rng) } : {}) })),
        filter: hostileFilter(rng),
        expectedVersion: 0,
      };
    case 'add-book-copy':
    case 'remove-book-copy':
      return { bookId: pick(rng, ODD_VALID_IDS) };
    case 'register-reader':
    case 'cancel-reader':
      return { readerId: pick(rng, ODD_VALID_IDS) };
    default:
      return { bookId: pick(rng, ODD_VALID_IDS), readerId: pick(rng, ODD_VALID_IDS) };
  }
}

type Json = unknown;

/** Every (parent, key) pair in a JSON tree, so a mutation can hit any field at any depth. */
function slots(value: Json, out: Array<[Record<string, unknown> | unknown[], string | number]> = []) {
  if (Array.isArray(value)) {
    // Long generated arrays repeat one shared element: mutating it would multiply the body.
    if (value.length > 64) return out;
    value.forEach((v, i) => {
      out.push([value, i]);
      slots(v, out);
    });
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      out.push([value as Record<string, unknown>, k]);
      slots(v, out);
    }
  }
  return out;
}

function setSlot(parent: Record<string, unknown> | unknown[], key: string | number, v: unknown): void {
  (parent as Record<string | number, unknown>)[key] = v;
}

function nest(depth: number, leaf: unknown, rng: Rng): unknown {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = rng() < 0.5 ? [v] : { k: v };
  return v;
}

/** Structural mutations: the body stays JSON, but a field anywhere gets a hostile value or shape. */
function mutateTree(body: Record<string, unknown>, rng: Rng, bodyLimit: number, log: string[]): Record<string, unknown> {
  const all = slots(body);
  const [parent, key] = all.length > 0 ? pick(rng, all) : [body, 'x'];
  const r = rng();
  if (r < 0.4) {
    const v = hostileValue(rng);
    setSlot(parent, key, v);
    log.push(`set ${String(key)}=${JSON.stringify(v)?.slice(0, 40)}`);
  } else if (r < 0.5) {
    const objects = [body, ...all.map(([p, k]) => (p as Record<string | number, unknown>)[k]).filter((v) => v !== null && typeof v === 'object' && !Array.isArray(v))];
    const target = pick(rng, objects) as Record<string, unknown>;
    const k = pick(rng, [...HOSTILE_STRINGS, 'admin', '$where', 'toJSON', 'valueOf']);
    put(target, k, hostileValue(rng));
    log.push(`add key ${JSON.stringify(k).slice(0, 40)}`);
  } else if (r < 0.58) {
    if (Array.isArray(parent)) parent.splice(Number(key), 1);
    else delete parent[key as string];
    log.push(`delete ${String(key)}`);
  } else if (r < 0.68) {
    const depth = rng() < 0.5 ? int(rng, 17, 40) : int(rng, 2, 15);
    setSlot(parent, key, nest(depth, pick(rng, HOSTILE_STRINGS), rng));
    log.push(`nest ${depth} at ${String(key)}`);
  } else if (r < 0.78) {
    const size = int(rng, 100, Math.floor(bodyLimit * 0.8));
    setSlot(parent, key, pick(rng, ['x', 'é', '😀', "'"]).repeat(size / 2));
    log.push(`huge string ${size} at ${String(key)}`);
  } else if (r < 0.88) {
    const n = pick(rng, [0, 33, 65, 101, 1000, int(rng, 2, 5_000), int(rng, 5_000, 20_000)]);
    const element = pick(rng, [1, 'a', {}, { BookID: 'b' }, [], null]);
    setSlot(parent, key, Array.from({ length: n }, () => element));
    log.push(`array ${n} at ${String(key)}`);
  } else {
    // Type confusion of the whole body.
    const v = pick(rng, [[], 'string', 42, null, true, [body]]);
    log.push(`body=${JSON.stringify(v).slice(0, 30)}`);
    return { __replaceRoot: v } as Record<string, unknown>;
  }
  return body;
}

/** Text mutations: the body stops being JSON, or becomes JSON that a careless parser would mishandle. */
function mutateText(text: string, rng: Rng, log: string[]): { text: string | Buffer; invalidJson: boolean } {
  const at = int(rng, 1, Math.max(1, text.length - 1));
  const r = rng();
  const brace = text.indexOf('{', int(rng, 0, Math.max(0, text.length - 1)));
  const afterBrace = brace >= 0 ? brace + 1 : 1;
  const variants: Array<[string, () => { text: string | Buffer; invalidJson: boolean }]> = [
    // A truncated object or array is never JSON (a truncated number may be).
    ['truncate', () => ({ text: text.slice(0, at), invalidJson: /^[[{]/.test(text) && text.length > 1 })],
    ['garbage char', () => ({ text: text.slice(0, at) + pick(rng, ['\u0000', '}', ']', ',', '"', "'", '\\', 'x']) + text.slice(at), invalidJson: false })],
    ['__proto__', () => ({ text: `${text.slice(0, afterBrace)}"__proto__":{"polluted":"yes"},${text.slice(afterBrace)}`, invalidJson: false })],
    ['constructor.prototype', () => ({ text: `${text.slice(0, afterBrace)}"constructor":{"prototype":{"polluted":"yes"}},${text.slice(afterBrace)}`, invalidJson: false })],
    ['lone surrogate escape', () => ({ text: text.replace(/"([A-Za-z0-9-]+)"(?=\s*[,}\]])/, '"\\ud800$1"'), invalidJson: false })],
    ['NUL escape', () => ({ text: text.replace(/"([A-Za-z0-9-]+)"(?=\s*[,}\]])/, '"$1\\u0000"'), invalidJson: false })],
    ['BOM', () => ({ text: `\uFEFF${text}`, invalidJson: false })],
    ['not JSON', () => ({ text: pick(rng, ['undefined', 'NaN', '{a:1}', "{'a':1}", '[1,]', '{"a":1,}', '/* c */{}', '', ' ', 'null', '0', '"s"', '{"a":01}', '{"a":1e999999}', '{"a":-}', '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]']), invalidJson: false })],
    ['deep text', () => ({ text: `${'['.repeat(int(rng, 1000, 60_000))}${rng() < 0.5 ? ']'.repeat(10) : ''}`, invalidJson: false })],
    ['invalid utf-8', () => ({ text: Buffer.concat([Buffer.from(text.slice(0, at)), Buffer.from([0xc3, 0x28, 0xff, 0xfe, 0xed, 0xa0, 0x80]), Buffer.from(text.slice(at))]), invalidJson: false })],
    ['duplicate keys', () => ({ text: `${text.slice(0, afterBrace)}"x":1,"x":2,${text.slice(afterBrace)}`, invalidJson: false })],
  ];
  const [name, fn] = variants[Math.floor(r * variants.length)]!;
  log.push(`text: ${name}`);
  return fn();
}

const CONTENT_TYPES: readonly string[] = [
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/json; charset=utf-16',
  'application/JSON',
  'application/vnd.api+json',
  'application/json, text/plain',
  '*/*',
  'application/jsonx',
  '',
];

/** Would the service accept this body as a valid write? Only then can a fuzzed request write a row. */
function parseLoosely(body: string | Buffer): unknown {
  try {
    const text = (typeof body === 'string' ? body : body.toString('utf8')).replace(/^\uFEFF/, '');
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const isSentinel = (item: unknown) => isObj(item) && JSON.stringify(item) === JSON.stringify(sentinelItem());

/**
 * Makes sure a case cannot write: the fuzz asserts that the row count is unchanged, so a hostile
 * but *valid* write must be refused by the store. Appends keep the sentinel item in their filter
 * with expectedVersion 0 (the sentinel is newer: 409); add-book-copy / register-reader with a valid
 * ID get an invalid one. Other commands are refused by the domain (nothing is in circulation).
 */
function disarm(route: RouteName, body: string | Buffer, log: string[]): string | Buffer {
  const parsed = parseLoosely(body);
  if (!isObj(parsed)) return body;
  if (route === 'append') {
    const items = isObj(parsed.filter) ? parsed.filter.items : undefined;
    const version = parsed.expectedVersion;
    const guarded = Array.isArray(items) && items.some(isSentinel);
    if (Array.isArray(items) && (!guarded || (Number.isInteger(version) && (version as number) >= 1))) {
      parsed.expectedVersion = -1;
      log.push('disarmed: expectedVersion=-1');
      return JSON.stringify(parsed);
    }
    return body;
  }
  if (WRITING_COMMANDS.includes(route)) {
    const key = route === 'add-book-copy' ? 'bookId' : 'readerId';
    const keys = Object.keys(parsed);
    const value = parsed[key];
    if (keys.length === 1 && keys[0] === key && typeof value === 'string' && ID.test(value)) {
      parsed[key] = `${value}'; DROP TABLE events; --`;
      log.push('disarmed: invalid id');
      return JSON.stringify(parsed);
    }
  }
  return body;
}

function encodePathSegment(rng: Rng, s: string): string {
  const r = rng();
  if (r < 0.15) return pick(rng, ['%E0%A4%A', '%', '%zz', '%C0%AF', '%00', '..', '.', '%2F', 'a/b', 'a;b', 'a?b=c']);
  if (r < 0.25) return 'a'.repeat(int(rng, 65, 300));
  try {
    return encodeURIComponent(s);
  } catch {
    // A lone surrogate cannot be percent-encoded: send a raw invalid escape instead.
    return '%ED%A0%80';
  }
}

function hostileQuery(rng: Rng): string {
  const parts: string[] = [];
  for (let i = 0, n = int(rng, 1, 4); i < n; i++) {
    const r = rng();
    if (r < 0.3) parts.push(`from=${pick(rng, ['primary', 'replica', 'elsewhere', '', 'PRIMARY'])}`);
    else if (r < 0.5) parts.push(pick(rng, ['__proto__[polluted]=yes', 'constructor[prototype][polluted]=yes', '__proto__=x', 'from[]=primary', 'from[a]=b']));
    else parts.push(`${encodePathSegment(rng, pick(rng, HOSTILE_STRINGS))}=${encodePathSegment(rng, pick(rng, HOSTILE_STRINGS))}`);
  }
  return `?${parts.join('&')}`;
}

export interface FuzzOptions {
  bodyLimit: number;
}

/** One generated request. Deterministic in (rng state). */
export function generateCase(index: number, rng: Rng, options: FuzzOptions): FuzzCase {
  const log: string[] = [];
  const r = rng();
  const route: RouteName =
    r < 0.2 ? 'query' : r < 0.42 ? 'append' : r < 0.74 ? pick(rng, COMMAND_ROUTES) : r < 0.86 ? 'books-lent' : r < 0.93 ? 'circulation' : r < 0.96 ? pick(rng, ['health', 'metrics'] as const) : 'unknown';

  if (route === 'books-lent' || route === 'circulation' || route === 'health' || route === 'metrics' || route === 'unknown') {
    let url: string;
    if (route === 'books-lent') url = `/library/readers/${encodePathSegment(rng, rng() < 0.2 ? 'reader-1' : pick(rng, HOSTILE_STRINGS))}/books-lent`;
    else if (route === 'circulation') url = '/library/books-in-circulation';
    else if (route === 'health') url = '/health';
    else if (route === 'metrics') url = '/metrics';
    else url = pick(rng, ['/events', '/events/delete', '/library/commands/drop-table', '/admin', '/library/readers//books-lent', '/%2e%2e/etc/passwd', '/library/commands/', '//health']);
    if (rng() < 0.6) url += hostileQuery(rng);
    const method = rng() < 0.85 ? 'GET' : pick(rng, ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD']);
    log.push(`${method} ${url.slice(0, 60)}`);
    const withBody = method !== 'GET' && method !== 'HEAD' && rng() < 0.5;
    return {
      index,
      route,
      mutations: log,
      method,
      url,
      headers: withBody ? { 'content-type': 'application/json' } : {},
      body: withBody ? JSON.stringify(hostileValue(rng)) : undefined,
    };
  }

  let body: Record<string, unknown>;
  if (rng() < 0.3) {
    body = hostileButValid(route, rng);
    log.push('hostile values in a valid shape');
  } else {
    body = template(route, rng);
    for (let i = 0, n = int(rng, 1, 3); i < n && !('__replaceRoot' in body); i++) body = mutateTree(body, rng, options.bodyLimit, log);
  }
  const root = '__replaceRoot' in body ? body.__replaceRoot : body;
  if (route === 'append' && isObj(root) && isObj(root.filter) && Array.isArray(root.filter.items)) root.filter.items.push(sentinelItem());
  let text: string | Buffer = JSON.stringify(root) ?? 'null';
  let expectStatus: number | undefined;
  let expectCode: string | undefined;
  if (rng() < 0.3) {
    const m = mutateText(text, rng, log);
    text = m.text;
    if (m.invalidJson) {
      expectStatus = 400;
      expectCode = 'INVALID_JSON';
    }
  }
  if (rng() < 0.03) {
    // Beyond the body limit.
    text = `{"pad":"${'x'.repeat(options.bodyLimit + int(rng, 1, options.bodyLimit))}"}`;
    log.push('oversized');
    expectStatus = 413;
    expectCode = 'BODY_TOO_LARGE';
  }
  text = disarm(route, text, log);
  // Whatever produced it, a body over the limit is refused before it is parsed.
  if (Buffer.byteLength(text) > options.bodyLimit) {
    expectStatus = 413;
    expectCode = 'BODY_TOO_LARGE';
  }
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (rng() < 0.08) {
    const ct = pick(rng, CONTENT_TYPES);
    log.push(`content-type ${JSON.stringify(ct)}`);
    if (ct === '') delete headers['content-type'];
    else headers['content-type'] = ct;
    // Only a JSON content type keeps the precise expectations above.
    if (!/^application\/json(;|$)/i.test(ct)) {
      expectStatus = undefined;
      expectCode = undefined;
    }
  }
  const url = route === 'query' ? '/events/query' : route === 'append' ? '/events/append' : `/library/commands/${route}`;
  const method = rng() < 0.97 ? 'POST' : pick(rng, ['PUT', 'GET', 'DELETE', 'PATCH']);
  if (method !== 'POST') {
    log.push(`method ${method}`);
    expectStatus = undefined;
    expectCode = undefined;
  }
  return {
    index,
    route,
    mutations: log,
    method,
    url,
    headers,
    body: method === 'GET' ? undefined : text,
    ...(expectStatus !== undefined ? { expectStatus } : {}),
    ...(expectCode !== undefined ? { expectCode } : {}),
  };
}

/** Routes that only read: a valid request there legitimately answers 2xx. */
export const READ_ONLY_ROUTES: ReadonlySet<RouteName> = new Set(['query', 'books-lent', 'circulation', 'health', 'metrics']);
