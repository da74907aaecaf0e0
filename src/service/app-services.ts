/**
 * What the routes are given by the app factory (src/service/app.ts): the pools, the store, the
 * command handler, metrics. Its own file so that the routes and the factory do not import each other.
 */
import type { Config } from '../core/config.ts';
import type { CommandHandler } from '../domain/command-handler.ts';
import type { ReadModelOptions } from '../domain/read-models.ts';
import type { DbPool, Timing } from '../store/db-pool.ts';
import type { EventStore } from '../store/event-store.ts';
import type { ServiceMetrics } from './metrics.ts';

export interface AppServices {
  config: Readonly<Config>;
  primary: DbPool;
  replica: DbPool;
  store: EventStore;
  commands: CommandHandler;
  /** Snapshot use of the read models (empty with `decisions: 'full'`). */
  readModelOptions: ReadModelOptions;
  metrics: ServiceMetrics;
  /** The pool a read model uses for `from`, falling back to the primary when configured. */
  readModel<T>(from: 'primary' | 'replica' | undefined, timing: Timing, run: (pool: DbPool) => Promise<T>): Promise<T>;
}

declare module 'fastify' {
  interface FastifyRequest {
    timing: Timing;
    startedAt: number;
  }
}
