/**
 * The Fastify app factory: two pools (primary, replica), the event store, the library commands and
 * read models, metrics and health. Nothing listens until the caller says so; `inject` works as is.
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Config } from '../core/config.ts';
import { EsbenchError, isEsbenchError } from '../core/errors.ts';
import { CommandHandler } from '../domain/command-handler.ts';
import { DbPool, Timing } from '../store/db-pool.ts';
import { EventStore } from '../store/event-store.ts';
import { SnapshotStore } from '../store/snapshot-store.ts';
import { startPoolProbe, type PoolProbe } from '../store/pool-probe.ts';
import { isEndpointName, runForEndpoint } from '../store/statement-scope.ts';
import type { ReadModelOptions } from '../domain/read-models.ts';
import { frameworkErrorOptions, hostileJson, installErrorHandling } from './error-handler.ts';
import { childCache, createMetrics } from './metrics.ts';
import { registerEventRoutes } from './routes/events.ts';
import { registerHealthRoutes } from './routes/health.ts';
import { registerLibraryRoutes } from './routes/library.ts';
import { serverTimingHeader } from './server-timing.ts';
import type { AppServices } from './app-services.ts';

export interface AppOptions {
  config: Readonly<Config>;
  primaryUrl: string;
  replicaUrl: string;
  /** Fastify logger: false in tests, true (JSON to stdout) for `serve`. */
  logger?: boolean;
}

/**
 * The endpoint name a route's statements are tagged with: its last fixed path segment, with its
 * parent when that alone says little (`/library/commands/lend-book-copy` → lend-book-copy,
 * `/events/query` → events-query) — the names the load generator's workloads use.
 */
export function endpointOfRoute(url: string): string | undefined {
  const fixed = url.split('/').filter((p) => p !== '' && !p.startsWith(':'));
  const last = fixed.at(-1);
  if (last === undefined) return undefined;
  const name = (last.includes('-') || fixed.length < 2 ? last : `${fixed.at(-2)}-${last}`).toLowerCase();
  return isEndpointName(name) ? name : undefined;
}

export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const { config } = options;
  const app = Fastify({
    logger: options.logger ? { level: config.service.logLevel === 'silent' ? 'silent' : config.service.logLevel } : false,
    bodyLimit: config.service.bodyLimitBytes,
    // Reject unknown fields instead of silently dropping them; never coerce types.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
    return503OnClosing: true,
    ...frameworkErrorOptions,
  });

  // The gauges read the pools at scrape time, after both exist; the pools report to the metrics.
  const metrics = createMetrics(() => ({ primary: primaryPool.stats(), replica: replicaPool.stats() }));
  const primaryPool = new DbPool('primary', options.primaryUrl, config.pools.primary, metrics.poolObserver);
  const replicaPool = new DbPool('replica', options.replicaUrl, config.pools.replica, metrics.poolObserver);
  const store = new EventStore(primaryPool, {
    strategy: config.service.appendStrategy,
    locking: config.service.locking,
    index: config.service.boundaryIndex,
    prepared: config.service.preparedStatements,
  });
  const snapshots = new SnapshotStore();
  const decisions = { mode: config.service.decisions, snapshots, threshold: config.service.snapshotThreshold };
  // Counted by metrics, and logged: a failed snapshot write costs time later, never a decision.
  const observer = { ...metrics.commandObserver, snapshotWriteFailed: (err: unknown) => app.log.warn({ err }, 'snapshot write failed') };
  const commands = new CommandHandler(store, config.service.retry, observer, decisions);
  const readModelOptions: ReadModelOptions =
    config.service.decisions === 'snapshot' ? { snapshots, threshold: config.service.snapshotThreshold, observer } : {};

  const services: AppServices = {
    config,
    primary: primaryPool,
    replica: replicaPool,
    store,
    commands,
    readModelOptions,
    metrics,
    async readModel(from, timing, run) {
      const target = from ?? config.service.readModelsFrom;
      if (target === 'primary') return run(primaryPool);
      try {
        return await run(replicaPool);
      } catch (e) {
        const unavailable = isEsbenchError(e) && (e.code === 'DB_UNAVAILABLE' || e.code === 'POOL_TIMEOUT');
        if (!unavailable) throw e;
        if (!config.service.replicaFallback) throw new EsbenchError('REPLICA_UNAVAILABLE', 'the replica is unavailable and fallback is off', { cause: e });
        timing.fallback = true;
        return run(primaryPool);
      }
    },
  };

  installErrorHandling(app);
  // JSON only: without this, Fastify would accept text/plain bodies as strings.
  app.removeContentTypeParser('text/plain');

  app.decorateRequest('timing', null as unknown as Timing);
  app.decorateRequest('startedAt', 0);
  // Per-request hooks in callback style: an async hook costs Fastify a promise and its settling
  // on every request, for hooks that never wait for anything.
  app.addHook('onRequest', (request, reply, done) => {
    const gone = new AbortController();
    // 'close' before the response finished = the client disconnected (e.g. its timeout fired).
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) gone.abort();
    });
    request.timing = new Timing(gone.signal);
    request.startedAt = performance.now();
    done();
  });
  app.addHook('preValidation', (request, _reply, done) => {
    const problem = request.body === undefined ? undefined : hostileJson(request.body);
    done(problem ? new EsbenchError('VALIDATION_FAILED', problem) : undefined);
  });
  // The handler's statements carry its endpoint (statement-scope.ts). Set here, right before the
  // handler, with a callback hook: body parsing runs on stream events that would lose the scope.
  const endpointOf = childCache((url) => endpointOfRoute(url) ?? '');
  app.addHook('preHandler', (request, _reply, done) => {
    const endpoint = endpointOf(request.routeOptions.url ?? '') || undefined;
    if (endpoint === undefined) done();
    else runForEndpoint(endpoint, done);
  });
  let probe: PoolProbe | undefined;
  app.addHook('onSend', (request: FastifyRequest, reply: FastifyReply, payload, done) => {
    const timing = request.timing ?? new Timing();
    reply.header('server-timing', serverTimingHeader(timing, performance.now() - (request.startedAt || performance.now()), probe?.latest()));
    if (timing.fallback) reply.header('x-esbench-read-from', 'primary-fallback');
    done(null, payload);
  });
  const httpSeries = childCache((key) => {
    const [route, method, status_code] = key.split('\u0000') as [string, string, string];
    return metrics.httpDuration.labels({ route, method, status_code });
  });
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    httpSeries(`${route}\u0000${request.method}\u0000${reply.statusCode}`).observe((performance.now() - request.startedAt) / 1000);
    done();
  });

  registerEventRoutes(app, services);
  registerLibraryRoutes(app, services);
  registerHealthRoutes(app, services);

  app.addHook('onReady', async () => {
    await primaryPool.start();
    probe = startPoolProbe(primaryPool);
    // A replica that is down at start must not keep the service from writing.
    await replicaPool.start().catch((e: unknown) => app.log.warn({ err: e }, 'replica pool could not open its minimum connections'));
  });
  app.addHook('onClose', async () => {
    probe?.stop();
    await Promise.allSettled([primaryPool.close(), replicaPool.close()]);
  });
  return app;
}
