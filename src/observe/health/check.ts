/**
 * What a health check is and what it is given. A check is one file in this directory exporting
 * `{ id, title, sources, run }`; src/observe/health-checks.ts lists them and runs them in order.
 * A check returns its measured figures as data (numbers with their subjects, a type per check);
 * src/report/health-figures.ts turns them into the one line `esbench health` prints.
 * Thresholds live in the SQL (sql/health/*): a file that decides a status returns its thresholds
 * as columns, and the threshold text a check shows is built from those columns.
 */
import type pg from 'pg';
import { toNumber } from '../../core/format.ts';
import { readSql } from '../../store/schema.ts';

export type CheckStatus = 'good' | 'ok' | 'warning';
export type NodeName = 'primary' | 'replica';
export type Row = Record<string, unknown>;

/** The outcome of one check. */
export interface HealthCheck<Id extends string = string, Figures = unknown> {
  id: Id;
  title: string;
  status: CheckStatus;
  /** The measured figure(s), unformatted (their type is the check's; the printer formats them); null when it could not run. */
  figures: Figures | null;
  /** Why the check could not run (then status is warning and figures null). */
  error?: string;
  /** The number the status was decided on, when there is one (unit in `threshold`). */
  value: number | null;
  threshold: string;
  /** Nodes the figure comes from. */
  nodes: NodeName[];
  /** The SQL files (sql/health/) the check ran. */
  sources: string[];
  details: Row[];
  notes: string[];
}

/** What a check's run returns; id, title and (by default) sources come from its definition. */
export type CheckOutcome<Figures> = Omit<
  HealthCheck<string, Figures>,
  'id' | 'title' | 'notes' | 'sources' | 'figures' | 'error'
> & {
  figures: Figures;
  notes?: string[];
  sources?: string[];
};

/** A connected session per node; the replica may be missing (no replica configured, or down). */
export interface Sessions {
  primary: pg.Client;
  /** Nodes where health could not switch track_counts off, so its own probes count as index scans. */
  counting: NodeName[];
  replica: pg.Client | null;
  replicaConfigured: boolean;
  replicaError: string | null;
  dataDir: string | undefined;
}

export interface HealthCheckDefinition<Id extends string = string, Figures = unknown> {
  id: Id;
  title: string;
  /** The SQL files (sql/health/) the check reads. */
  sources: readonly string[];
  run(s: Sessions): Promise<CheckOutcome<Figures>>;
}

/** Keeps the literal id type and the figures' type, so the list of checks is also the list of ids and what each measures. */
export function defineCheck<const Id extends string, Figures>(
  definition: HealthCheckDefinition<Id, Figures>,
): HealthCheckDefinition<Id, Figures> {
  return definition;
}

const RANK: Record<CheckStatus, number> = { good: 0, ok: 1, warning: 2 };

export function worst(statuses: Iterable<CheckStatus>): CheckStatus {
  let w: CheckStatus = 'good';
  for (const s of statuses) if (RANK[s] > RANK[w]) w = s;
  return w;
}

export function asStatus(v: unknown): CheckStatus {
  return v === 'good' || v === 'ok' || v === 'warning' ? v : 'warning';
}

export const num = toNumber;

export async function rows(client: pg.Client, file: string, values?: unknown[]): Promise<Row[]> {
  const r = await client.query<Row>(readSql(`health/${file}`), values);
  return r.rows;
}

/** The nodes a both-node check reads: the primary, and the replica when there is one. */
export function nodesOf(s: Sessions): Array<[NodeName, pg.Client]> {
  return s.replica
    ? [
        ['primary', s.primary],
        ['replica', s.replica],
      ]
    : [['primary', s.primary]];
}

export function countingNote(s: Sessions): string[] {
  return s.counting.length === 0
    ? []
    : [
        `not a superuser on ${s.counting.join(' and ')}: earlier health runs' query-plan probes are counted as scans there`,
      ];
}

/**
 * The threshold text from the threshold columns of a SQL file's first row; when the query
 * returned no row there are no columns, and the text points at the file instead of restating them.
 */
export function thresholdText(first: Row | undefined, file: string, render: (row: Row) => string): string {
  return first ? render(first) : `thresholds in sql/health/${file} (no rows to read them from)`;
}
