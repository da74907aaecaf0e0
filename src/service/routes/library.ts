import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { TSchema } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { CommandKind, LibraryCommand } from '../../domain/library-commands.ts';
import { booksInCirculation, booksLentByReader } from '../../domain/read-models.ts';
import type { AppServices } from '../app-services.ts';
import { bookBody, lendingBody, readModelQuery, readerBody, readerParams } from '../schemas.ts';

/** A command's fields besides its kind: what its body schema must produce (checked at compile time below). */
type CommandFields<K extends CommandKind> = Omit<Extract<LibraryCommand, { kind: K }>, 'kind'>;

const BODY_OF: { [K in CommandKind]: TSchema & { static: CommandFields<K> } } = {
  'add-book-copy': bookBody,
  'remove-book-copy': bookBody,
  'lend-book-copy': lendingBody,
  'return-book-copy': lendingBody,
  'register-reader': readerBody,
  'cancel-reader': readerBody,
};

export function registerLibraryRoutes(fastify: FastifyInstance, s: AppServices): void {
  // Request types come from the schemas (TypeBox's Static); validation stays the app's Ajv.
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  for (const [kind, body] of Object.entries(BODY_OF) as Array<
    [CommandKind, TSchema & { static: CommandFields<CommandKind> }]
  >) {
    app.post(`/library/commands/${kind}`, { schema: { body } }, async (request, reply) => {
      // The schema fits the kind's fields (BODY_OF's type); TypeScript cannot pair the two through the loop.
      const command = { kind, ...request.body } as LibraryCommand;
      const outcome = await s.commands.handle(command, request.timing);
      return reply.status(201).send(outcome);
    });
  }

  app.get(
    '/library/readers/:readerId/books-lent',
    { schema: { params: readerParams, querystring: readModelQuery } },
    async (request) =>
      s.readModel(request.query.from, request.timing, (pool) =>
        booksLentByReader(s.store, pool, request.params.readerId, { ...s.readModelOptions, timing: request.timing }),
      ),
  );

  app.get('/library/books-in-circulation', { schema: { querystring: readModelQuery } }, async (request) =>
    s.readModel(request.query.from, request.timing, (pool) =>
      booksInCirculation(s.store, pool, { ...s.readModelOptions, timing: request.timing }),
    ),
  );
}
