/**
 * Which metrics a PromQL expression reads, and whether a catalogue of metrics (docs/metrics.md,
 * the postgres_exporter list, or a live /metrics scrape) has them. Used by the tests that keep
 * the Grafana dashboards and Prometheus rules honest: a panel on a metric nobody exposes stays
 * empty without any error, so a typo must fail a test instead.
 *
 * A small lexer rather than a full parser: it skips strings, comments, label matchers, range and
 * subquery brackets, Grafana variables, numbers and durations, and tells function / aggregation
 * names and keywords from metric names by what follows them.
 */

const AGGREGATORS = new Set([
  'sum', 'avg', 'min', 'max', 'count', 'group', 'stddev', 'stdvar', 'topk', 'bottomk', 'quantile', 'count_values', 'limitk', 'limit_ratio',
]);
/** Keywords followed by a parenthesised list of label names. */
const LABEL_LIST_KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);
const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'atan2', 'inf', 'nan']);

const IDENT_START = /[A-Za-z_:]/;
const IDENT_PART = /[A-Za-z0-9_:]/;

/** Index just past a quoted string starting at i (PromQL: "...", '...' with escapes, `...` raw). */
function skipString(s: string, i: number): number {
  const quote = s[i];
  let j = i + 1;
  while (j < s.length && s[j] !== quote) j += quote !== '`' && s[j] === '\\' ? 2 : 1;
  return j + 1;
}

/** Index just past the bracket that closes the one at i, skipping strings inside. */
function skipBalanced(s: string, i: number, open: string, close: string): number {
  let depth = 0;
  let j = i;
  while (j < s.length) {
    const c = s[j]!;
    if (c === '"' || c === "'" || c === '`') {
      j = skipString(s, j);
      continue;
    }
    if (c === open) depth += 1;
    else if (c === close) {
      depth -= 1;
      if (depth === 0) return j + 1;
    }
    j += 1;
  }
  return j;
}

function skipSpace(s: string, i: number): number {
  let j = i;
  while (j < s.length && /\s/.test(s[j]!)) j += 1;
  return j;
}

/** `{__name__="x", ...}`: the metric named by the selector itself, if any. */
function nameFromMatchers(block: string): string | undefined {
  const m = /(?:^|[{,\s])__name__\s*=\s*(["'`])([A-Za-z_:][A-Za-z0-9_:]*)\1/.exec(block);
  return m?.[2];
}

/** The metric names an expression reads, in first-seen order, each once. */
export function metricNamesInPromql(expr: string): string[] {
  const s = expr;
  const found: string[] = [];
  const add = (name: string) => {
    if (!found.includes(name)) found.push(name);
  };
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (/\s/.test(c)) {
      i += 1;
    } else if (c === '#') {
      while (i < s.length && s[i] !== '\n') i += 1;
    } else if (c === '"' || c === "'" || c === '`') {
      i = skipString(s, i);
    } else if (c === '{') {
      const end = skipBalanced(s, i, '{', '}');
      const named = nameFromMatchers(s.slice(i, end));
      if (named) add(named);
      i = end;
    } else if (c === '[') {
      // Range / subquery durations, Grafana's [$__rate_interval] and legacy [[var]].
      i = skipBalanced(s, i, '[', ']');
    } else if (c === '$') {
      // Grafana variables: $var, ${var}, ${var:format}.
      i += 1;
      if (s[i] === '{') i = skipBalanced(s, i, '{', '}');
      else while (i < s.length && IDENT_PART.test(s[i]!)) i += 1;
    } else if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(s[i + 1] ?? ''))) {
      // Numbers, hex, exponents and durations (5m, 1h30m) are one run of word characters.
      while (i < s.length && /[0-9A-Za-z_.]/.test(s[i]!)) {
        if ((s[i] === 'e' || s[i] === 'E') && (s[i + 1] === '+' || s[i + 1] === '-')) i += 1;
        i += 1;
      }
    } else if (IDENT_START.test(c)) {
      let j = i + 1;
      while (j < s.length && IDENT_PART.test(s[j]!)) j += 1;
      const word = s.slice(i, j);
      const next = skipSpace(s, j);
      i = j;
      const lower = word.toLowerCase();
      if (LABEL_LIST_KEYWORDS.has(lower)) {
        if (s[next] === '(') i = skipBalanced(s, next, '(', ')');
      } else if (KEYWORDS.has(lower)) {
        // operator or number literal
      } else if (s[next] === '(') {
        // function call; its arguments are lexed as they come
      } else if (AGGREGATORS.has(lower) && /^(by|without)\b/i.test(s.slice(next))) {
        // `sum by (le) (...)`: the aggregation's clause comes first
      } else {
        add(word);
      }
    } else {
      i += 1;
    }
  }
  return found;
}

export interface MetricCatalogue {
  /** Exact names. */
  names: Set<string>;
  /** Histograms (and summaries): their _bucket/_sum/_count series are exposed too. */
  histograms: Set<string>;
  /** Families documented by prefix (e.g. prom-client's `esbench_process_*`). */
  prefixes: string[];
}

export function emptyCatalogue(): MetricCatalogue {
  return { names: new Set(), histograms: new Set(), prefixes: [] };
}

/** The metric table of docs/metrics.md: backticked names in the first column, the type in the second. */
export function parseMetricsDoc(markdown: string, into: MetricCatalogue = emptyCatalogue()): MetricCatalogue {
  for (const line of markdown.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    if (cells.length < 4) continue;
    const type = cells[2] ?? '';
    for (const m of (cells[1] ?? '').matchAll(/`([A-Za-z_:][A-Za-z0-9_:]*)(\*)?`/g)) {
      const name = m[1]!;
      if (m[2]) into.prefixes.push(name);
      else {
        into.names.add(name);
        if (type === 'histogram' || type === 'summary') into.histograms.add(name);
      }
    }
  }
  return into;
}

/** A plain list: one metric name per line, `#` starts a comment. */
export function parseMetricList(text: string, into: MetricCatalogue = emptyCatalogue()): MetricCatalogue {
  for (const line of text.split('\n')) {
    const name = line.replace(/#.*/, '').trim();
    if (name) into.names.add(name);
  }
  return into;
}

/** Names of a Prometheus text exposition (a live /metrics scrape), histograms marked by their TYPE line. */
export function parseExposition(text: string, into: MetricCatalogue = emptyCatalogue()): MetricCatalogue {
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)/.exec(line);
    if (type) {
      into.names.add(type[1]!);
      if (type[2] === 'histogram' || type[2] === 'summary') into.histograms.add(type[1]!);
      continue;
    }
    const sample = /^([A-Za-z_:][A-Za-z0-9_:]*)[\s{]/.exec(line);
    if (sample) into.names.add(sample[1]!);
  }
  return into;
}

const SERIES_SUFFIXES = ['_bucket', '_sum', '_count'];

export function isCatalogued(name: string, catalogue: MetricCatalogue): boolean {
  if (catalogue.names.has(name)) return true;
  for (const suffix of SERIES_SUFFIXES) {
    if (name.endsWith(suffix) && catalogue.histograms.has(name.slice(0, -suffix.length))) return true;
  }
  return catalogue.prefixes.some((p) => name.startsWith(p));
}
