import { fixed } from '../core/format.ts';
import type { SeedResult } from '../domain/seed.ts';

export function printSeedResult(r: SeedResult, file: string): string {
  return [
    `seeded ${r.events} events (${r.books} books, ${r.readers} readers)`,
    `  COPY: ${fixed(r.copySeconds, 2)} s (${Math.round(r.eventsPerSecond)} events/s, measured by esbench around COPY on the primary)`,
    `  VACUUM (ANALYZE): ${fixed(r.vacuumAnalyzeSeconds, 2)} s`,
    ...(r.snapshotsWritten > 0 ? [`  snapshots written: ${r.snapshotsWritten}`] : []),
    `  events table + indexes: ${fixed(r.tableBytes / 1024 / 1024, 1)} MiB`,
    `  saved: ${file}`,
    '',
  ].join('\n');
}
