/** What every benchmark gets: its own embedded cluster, a way to (re)seed it, and progress output. */
export interface BenchContext {
  primaryUrl: string;
  replicaUrl: string;
  /** The bench's own cluster: trials count its CPU too. */
  embedded: { pidOf(node: 'primary' | 'replica'): number | null };
  /** Shorter runs (for a smoke check); the README figures come from full runs. */
  quick: boolean;
  /** TRUNCATE and seed a rule-consistent library history of n events (1000 books x 100 readers). */
  reseed(events: number, options?: { snapshots?: boolean }): Promise<void>;
  progress(line: string): void;
  /** Use the database as it is (a caller that seeded it already). */
  skipSeed?: boolean;
}

export interface BenchResult {
  name: string;
  /** Where and how the figures were measured. */
  measured: string;
  data: unknown;
  /** Markdown table for the terminal and the README. */
  table: string;
}
