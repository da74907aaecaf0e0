import type { SeedResult } from '../domain/seed.ts';

export function printSeedResult(r: SeedResult, file: string): string {
  return [
    `seeded ${r.events} events (${r.books} books, ${r.readers} readers)`,
    `  COPY: ${r.copySeconds.toFixed(2)} s (${Math.round(r.eventsPerSecond)} events/s, measured by esbench around COPY on the primary)`,
    `  VACUUM (ANALYZE): ${r.vacuumAnalyzeSeconds.toFixed(2)} s`,
    ...(r.snapshotsWritten > 0 ? [`  snapshots written: ${r.snapshotsWritten}`] : []),
    `  events table + indexes: ${(r.tableBytes / 1024 / 1024).toFixed(1)} MiB`,
    `  saved: ${file}`,
    '',
  ].join('\n');
}
