/** Bad input: each case asserts status, code, and that nothing was written. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appFixture, type AppFixture } from '../helpers/app.ts';

let fx: AppFixture;
beforeAll(async () => {
  fx = await appFixture({ service: { bodyLimitBytes: 16 * 1024 } });
  await fx.app.inject({ method: 'POST', url: '/library/commands/register-reader', payload: { readerId: 'reader-1' } });
});
afterAll(async () => fx.close());

const filter = { items: [{ types: ['T'], payload: { anyOf: [{ k: 'v' }] } }] };
const json = { 'content-type': 'application/json' };

interface Case {
  name: string;
  url: string;
  body: string;
  headers?: Record<string, string>;
  status: number;
  code: string;
}

const cases: Case[] = [
  { name: 'malformed JSON', url: '/events/append', body: '{"events": [', status: 400, code: 'INVALID_JSON' },
  { name: 'empty body', url: '/library/commands/add-book-copy', body: '', status: 400, code: 'INVALID_JSON' },
  { name: 'wrong type', url: '/library/commands/add-book-copy', body: '{"bookId": 42}', status: 400, code: 'VALIDATION_FAILED' },
  { name: 'unknown field', url: '/library/commands/add-book-copy', body: '{"bookId": "b1", "admin": true}', status: 400, code: 'VALIDATION_FAILED' },
  { name: 'missing field', url: '/library/commands/lend-book-copy', body: '{"bookId": "b1"}', status: 400, code: 'VALIDATION_FAILED' },
  { name: 'id with SQL', url: '/library/commands/add-book-copy', body: JSON.stringify({ bookId: "b1'; DROP TABLE events; --" }), status: 400, code: 'VALIDATION_FAILED' },
  { name: 'oversized body', url: '/library/commands/add-book-copy', body: JSON.stringify({ bookId: 'x'.repeat(20_000) }), status: 413, code: 'BODY_TOO_LARGE' },
  { name: 'not JSON content type', url: '/library/commands/add-book-copy', body: 'bookId=b1', headers: { 'content-type': 'text/plain' }, status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
  { name: 'negative version', url: '/events/append', body: JSON.stringify({ events: [{ type: 'T', payload: {} }], filter, expectedVersion: -1 }), status: 400, code: 'VALIDATION_FAILED' },
  { name: 'version as string', url: '/events/append', body: JSON.stringify({ events: [{ type: 'T', payload: {} }], filter, expectedVersion: '0' }), status: 400, code: 'VALIDATION_FAILED' },
  { name: 'no events', url: '/events/append', body: JSON.stringify({ events: [], filter, expectedVersion: 0 }), status: 400, code: 'VALIDATION_FAILED' },
  { name: 'empty filter', url: '/events/append', body: JSON.stringify({ events: [{ type: 'T', payload: {} }], filter: { items: [] }, expectedVersion: 0 }), status: 400, code: 'VALIDATION_FAILED' },
  { name: 'anyOf and allOf', url: '/events/query', body: JSON.stringify({ filter: { items: [{ types: ['T'], payload: { anyOf: [{}], allOf: [{}] } }] } }), status: 400, code: 'VALIDATION_FAILED' },
  { name: 'NUL in payload', url: '/events/append', body: JSON.stringify({ events: [{ type: 'T', payload: { k: 'a\u0000b' } }], filter, expectedVersion: 0 }), status: 400, code: 'VALIDATION_FAILED' },
  { name: 'lone surrogate', url: '/events/append', body: '{"events":[{"type":"T","payload":{"k":"\\ud800"}}],"filter":{"items":[{"types":["T"]}]},"expectedVersion":0}', status: 400, code: 'VALIDATION_FAILED' },
  { name: 'deep nesting', url: '/events/append', body: JSON.stringify({ events: [{ type: 'T', payload: { k: JSON.parse('['.repeat(40) + ']'.repeat(40)) } }], filter, expectedVersion: 0 }), status: 400, code: 'VALIDATION_FAILED' },
  { name: 'proto poisoning', url: '/events/append', body: '{"events":[{"type":"T","payload":{"__proto__":{"x":1}}}],"filter":{"items":[{"types":["T"]}]},"expectedVersion":0}', status: 400, code: 'INVALID_JSON' },
  { name: 'timestamp out of range', url: '/events/query', body: JSON.stringify({ filter: { items: [{ types: ['T'], occurredFrom: '9999-99-99T00:00:00Z' }] } }), status: 400, code: 'VALIDATION_FAILED' },
  { name: 'unknown route', url: '/events/delete', body: '{}', status: 404, code: 'NOT_FOUND' },
];

describe('bad input gets a 4xx with a stable code and writes nothing', () => {
  for (const c of cases) {
    it(c.name, async () => {
      const before = await fx.count();
      const r = await fx.app.inject({ method: 'POST', url: c.url, body: c.body, headers: c.headers ?? json });
      expect(r.statusCode).toBe(c.status);
      expect(r.json().error.code).toBe(c.code);
      expect(await fx.count()).toBe(before);
    });
  }

  it('a bad query string is a 400', async () => {
    const r = await fx.app.inject({ method: 'GET', url: '/library/books-in-circulation?from=elsewhere' });
    expect(r.statusCode).toBe(400);
    expect(r.json().error.code).toBe('VALIDATION_FAILED');
  });
});
