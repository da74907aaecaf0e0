import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CATALOGUE, EsbenchError, fromDatabaseError } from '../../src/core/errors.ts';

const doc = fs.readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');

describe('error catalogue', () => {
  it.each(Object.entries(ERROR_CATALOGUE))('%s is documented with its HTTP status and exit code', (code, spec) => {
    expect(doc).toContain(`## ${code}\n`);
    expect(doc).toContain(`| \`${code}\` | ${spec.http} | ${spec.exit} |`);
  });

  it('documents no code that does not exist', () => {
    const documented = [...doc.matchAll(/^## ([A-Z_]+)$/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual(Object.keys(ERROR_CATALOGUE).sort());
  });

  it('maps PostgreSQL errors to catalogue codes', () => {
    expect(fromDatabaseError({ code: '57014', message: 'canceling statement due to statement timeout' }).code).toBe('STATEMENT_TIMEOUT');
    expect(fromDatabaseError({ code: '22008', message: 'date/time field value out of range' }).code).toBe('VALIDATION_FAILED');
    expect(fromDatabaseError({ code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' }).code).toBe('DB_UNAVAILABLE');
    expect(fromDatabaseError(new Error('timeout exceeded when trying to connect')).code).toBe('POOL_TIMEOUT');
    expect(fromDatabaseError(new Error('boom')).code).toBe('INTERNAL');
    const e = new EsbenchError('BOOK_ALREADY_LENT', 'x');
    expect(fromDatabaseError(e)).toBe(e);
    expect(e.httpStatus).toBe(422);
  });
});
