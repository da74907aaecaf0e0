/**
 * JSON schemas of every route. Unknown fields are rejected (additionalProperties: false, with
 * Ajv's removeAdditional switched off in app.ts), sizes are bounded so a hostile body cannot make
 * the store build a huge statement.
 */
const id = { type: 'string', pattern: '^[A-Za-z0-9_.:-]{1,64}$' } as const;
const eventType = { type: 'string', minLength: 1, maxLength: 200 } as const;
const jsonObject = { type: 'object', maxProperties: 64 } as const;

const filterItem = {
  type: 'object',
  additionalProperties: false,
  required: ['types'],
  properties: {
    types: { type: 'array', minItems: 1, maxItems: 32, items: eventType },
    payload: {
      type: 'object',
      additionalProperties: false,
      minProperties: 1,
      maxProperties: 1,
      properties: {
        anyOf: { type: 'array', minItems: 1, maxItems: 64, items: jsonObject },
        allOf: { type: 'array', minItems: 1, maxItems: 64, items: jsonObject },
      },
    },
    occurredFrom: { type: 'string', format: 'date-time' },
    occurredTo: { type: 'string', format: 'date-time' },
    after: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
  },
} as const;

export const filterSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['items'],
  properties: { items: { type: 'array', minItems: 1, maxItems: 32, items: filterItem } },
} as const;

const readFrom = { type: 'string', enum: ['primary', 'replica'] } as const;

export const queryBody = {
  type: 'object',
  additionalProperties: false,
  required: ['filter'],
  properties: { filter: filterSchema, from: readFrom },
} as const;

export const appendBody = {
  type: 'object',
  additionalProperties: false,
  required: ['events', 'filter', 'expectedVersion'],
  properties: {
    events: {
      type: 'array',
      minItems: 1,
      maxItems: 100,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['type', 'payload'],
        properties: { type: eventType, payload: jsonObject, metadata: jsonObject },
      },
    },
    filter: filterSchema,
    expectedVersion: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
  },
} as const;

export const bookBody = { type: 'object', additionalProperties: false, required: ['bookId'], properties: { bookId: id } } as const;
export const readerBody = { type: 'object', additionalProperties: false, required: ['readerId'], properties: { readerId: id } } as const;
export const lendingBody = {
  type: 'object',
  additionalProperties: false,
  required: ['bookId', 'readerId'],
  properties: { bookId: id, readerId: id },
} as const;

export const readerParams = { type: 'object', additionalProperties: false, required: ['readerId'], properties: { readerId: id } } as const;
export const readModelQuery = { type: 'object', additionalProperties: false, properties: { from: readFrom } } as const;
