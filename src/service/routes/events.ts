import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { ConcurrencyConflict } from '../../core/errors.ts';
import { validateFilter } from '../../store/filter.ts';
import type { AppServices } from '../app-services.ts';
import { appendBody, queryBody } from '../schemas.ts';

export function registerEventRoutes(fastify: FastifyInstance, s: AppServices): void {
  // Body types come from the schemas (TypeBox's Static); validation stays the app's Ajv.
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.post('/events/query', { schema: { body: queryBody } }, async (request) => {
    validateFilter(request.body.filter);
    const from = request.body.from ?? 'primary';
    if (from === 'primary') return s.store.query(request.body.filter, { consistent: true, timing: request.timing });
    return s.readModel('replica', request.timing, (pool) =>
      s.store.query(request.body.filter, { consistent: false, timing: request.timing }, pool),
    );
  });

  app.post('/events/append', { schema: { body: appendBody } }, async (request, reply) => {
    const { events, filter, expectedVersion } = request.body;
    validateFilter(filter);
    try {
      const r = await s.store.append(events, { filter, expectedVersion }, request.timing);
      return reply.status(201).send(r);
    } catch (e) {
      if (e instanceof ConcurrencyConflict) s.metrics.commandObserver.conflict?.('append');
      throw e;
    }
  });
}
