import type { FastifyInstance } from 'fastify';
import type { CommandKind, LibraryCommand } from '../../domain/library-commands.ts';
import { booksInCirculation, booksLentByReader } from '../../domain/read-models.ts';
import type { AppServices } from '../app-services.ts';
import { bookBody, lendingBody, readModelQuery, readerBody, readerParams } from '../schemas.ts';

const BODY_OF: Record<CommandKind, object> = {
  'add-book-copy': bookBody,
  'remove-book-copy': bookBody,
  'lend-book-copy': lendingBody,
  'return-book-copy': lendingBody,
  'register-reader': readerBody,
  'cancel-reader': readerBody,
};

export function registerLibraryRoutes(app: FastifyInstance, s: AppServices): void {
  for (const [kind, body] of Object.entries(BODY_OF) as Array<[CommandKind, object]>) {
    app.post<{ Body: Record<string, string> }>(`/library/commands/${kind}`, { schema: { body } }, async (request, reply) => {
      const command = { kind, ...request.body } as LibraryCommand;
      const outcome = await s.commands.handle(command, request.timing);
      return reply.status(201).send(outcome);
    });
  }

  app.get<{ Params: { readerId: string }; Querystring: { from?: 'primary' | 'replica' } }>(
    '/library/readers/:readerId/books-lent',
    { schema: { params: readerParams, querystring: readModelQuery } },
    async (request) =>
      s.readModel(request.query.from, request.timing, (pool) =>
        booksLentByReader(s.store, pool, request.params.readerId, { ...s.readModelOptions, timing: request.timing }),
      ),
  );

  app.get<{ Querystring: { from?: 'primary' | 'replica' } }>(
    '/library/books-in-circulation',
    { schema: { querystring: readModelQuery } },
    async (request) =>
      s.readModel(request.query.from, request.timing, (pool) => booksInCirculation(s.store, pool, { ...s.readModelOptions, timing: request.timing })),
  );
}
