/**
 * JSON schemas of every route, built with TypeBox so each route's TypeScript types are derived
 * from the schema that validates it (TypeBox's Static<typeof schema>, through its Fastify type provider) instead of being restated. The JSON
 * they emit is pinned by test/unit/service-schemas.test.ts. Unknown fields are rejected
 * (additionalProperties: false, with Ajv's removeAdditional switched off in app.ts), sizes are
 * bounded so a hostile body cannot make the store build a huge statement.
 */
import { Type } from '@sinclair/typebox';
import type { JsonObject } from '../store/filter.ts';

const id = Type.String({ pattern: '^[A-Za-z0-9_.:-]{1,64}$' });
const eventType = Type.String({ minLength: 1, maxLength: 200 });
// Unsafe: the schema checks only "an object of at most 64 keys"; the type says what JSON gives.
const jsonObject = Type.Unsafe<JsonObject>({ type: 'object', maxProperties: 64 });
const sequence = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });

const filterItem = Type.Object(
  {
    types: Type.Array(eventType, { minItems: 1, maxItems: 32 }),
    payload: Type.Optional(
      Type.Object(
        {
          anyOf: Type.Optional(Type.Array(jsonObject, { minItems: 1, maxItems: 64 })),
          allOf: Type.Optional(Type.Array(jsonObject, { minItems: 1, maxItems: 64 })),
        },
        { additionalProperties: false, minProperties: 1, maxProperties: 1 },
      ),
    ),
    occurredFrom: Type.Optional(Type.String({ format: 'date-time' })),
    occurredTo: Type.Optional(Type.String({ format: 'date-time' })),
    after: Type.Optional(sequence),
  },
  { additionalProperties: false },
);

export const filterSchema = Type.Object(
  { items: Type.Array(filterItem, { minItems: 1, maxItems: 32 }) },
  { additionalProperties: false },
);

// Unsafe: a plain `enum` (TypeBox's Union of literals would emit anyOf/const, another JSON).
const readFrom = Type.Unsafe<'primary' | 'replica'>({ type: 'string', enum: ['primary', 'replica'] });

export const queryBody = Type.Object(
  { filter: filterSchema, from: Type.Optional(readFrom) },
  { additionalProperties: false },
);

export const appendBody = Type.Object(
  {
    events: Type.Array(
      Type.Object(
        { type: eventType, payload: jsonObject, metadata: Type.Optional(jsonObject) },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: 100 },
    ),
    filter: filterSchema,
    expectedVersion: sequence,
  },
  { additionalProperties: false },
);

export const bookBody = Type.Object({ bookId: id }, { additionalProperties: false });
export const readerBody = Type.Object({ readerId: id }, { additionalProperties: false });
export const lendingBody = Type.Object({ bookId: id, readerId: id }, { additionalProperties: false });

export const readerParams = Type.Object({ readerId: id }, { additionalProperties: false });
export const readModelQuery = Type.Object({ from: Type.Optional(readFrom) }, { additionalProperties: false });
