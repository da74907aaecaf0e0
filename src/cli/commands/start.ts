/**
 * `esbench start`: the service for a person to try by hand (`npm start` runs the quick study).
 * Brings the cluster up, seeds a small library if the store is empty, serves, and prints where
 * everything is.
 */
import type { Command } from 'commander';
import { redactUrl } from '../../core/redact.ts';
import { EsbenchError } from '../../core/errors.ts';
import { parsePositiveInt } from '../../core/units.ts';
import { startServer } from '../../service/server.ts';
import type { CliContext } from '../context.ts';
import { prepareCluster, withPrimary } from '../prepare.ts';
import { seedInterruptibly } from './seed.ts';
import { serviceConfig, serviceFlags, stopService, untilStopped } from './serve.ts';

export function register(program: Command, ctx: CliContext): void {
  serviceFlags(program.command('start').description('main job: cluster up, seed 10K events if empty, serve, print the URLs'))
    .option('--events <n>', 'events to seed when the store is empty', '10000')
    .action(async (flags: Parameters<typeof serviceConfig>[1] & { events: string }) => {
      const config = serviceConfig(ctx, flags);
      // Flags first: a typo must not start the cluster.
      const events = parsePositiveInt(flags.events, '--events', { min: 1, max: 100_000_000 });
      const handle = await prepareCluster(ctx, config, { start: true });
      const empty = await withPrimary(handle, async (c) => (await c.query('SELECT 1 FROM events LIMIT 1')).rowCount === 0);
      if (empty) {
        // Ctrl-C during this seed stops it like `esbench seed` (nothing written, exit 130).
        const outcome = await seedInterruptibly(ctx, handle, { events, books: 1000, readers: 100, seed: 1, reset: false });
        if (outcome.kind === 'partial') {
          throw new EsbenchError('INTERRUPTED', `stopped after seeding ${outcome.eventsWritten} events, before VACUUM ANALYZE finished; run \`esbench maintain\``);
        }
      }
      if (ctx.signal.aborted) throw new EsbenchError('INTERRUPTED', 'stopped before the service was listening');
      const server = await startServer(config, handle.primaryUrl, handle.replicaUrl);
      ctx.stdout(
        [
          `esbench is running (${handle.mode} cluster)`,
          `  service  ${server.url}`,
          `  health   ${server.url}/health`,
          `  metrics  ${server.url}/metrics`,
          // A copy outside the seeded IDs: book-1 .. book-1000 are already in the history (book-1 is
          // lent), and a first try that answers 422 says nothing about whether esbench works.
          `  try      curl -s -XPOST ${server.url}/library/commands/add-book-copy -H 'content-type: application/json' -d '{"bookId":"my-copy-1"}'`,
          `           curl -s -XPOST ${server.url}/library/commands/lend-book-copy -H 'content-type: application/json' -d '{"bookId":"my-copy-1","readerId":"reader-1"}'`,
          `           curl -s ${server.url}/library/readers/reader-1/books-lent`,
          `  primary  ${redactUrl(handle.primaryUrl)}`,
          `  replica  ${redactUrl(handle.replicaUrl)}`,
          '  Ctrl-C stops the service (exit 0); `npx esbench cluster down` stops PostgreSQL.',
          '',
        ].join('\n'),
      );
      await untilStopped(ctx.signal);
      await stopService(server);
    });
}
