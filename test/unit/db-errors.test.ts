/** fromDatabaseError: every way a node can fail maps to a catalogued 503 code, not INTERNAL (500). */
import { describe, expect, it } from 'vitest';
import { fromDatabaseError, isSqlState } from '../../src/core/errors.ts';

describe('fromDatabaseError', () => {
  it.each([
    // Socket errors of the driver (EPIPE and friends were INTERNAL before).
    [{ code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 127.0.0.1:5432' }, 'DB_UNAVAILABLE'],
    [{ code: 'ECONNRESET', message: 'read ECONNRESET' }, 'DB_UNAVAILABLE'],
    [{ code: 'EPIPE', message: 'write EPIPE' }, 'DB_UNAVAILABLE'],
    [{ code: 'ETIMEDOUT', message: 'connect ETIMEDOUT' }, 'DB_UNAVAILABLE'],
    [{ code: 'EHOSTUNREACH', message: 'connect EHOSTUNREACH' }, 'DB_UNAVAILABLE'],
    [{ code: 'ENOTFOUND', message: 'getaddrinfo ENOTFOUND db' }, 'DB_UNAVAILABLE'],
    // pg's own messages for a broken or closed connection.
    [new Error('Connection terminated unexpectedly'), 'DB_UNAVAILABLE'],
    [new Error('Connection terminated due to connection timeout'), 'DB_UNAVAILABLE'],
    [new Error('Client has encountered a connection error and is not queryable'), 'DB_UNAVAILABLE'],
    [new Error('Client was closed and is not queryable'), 'DB_UNAVAILABLE'],
    // SQLSTATEs: shut down, crashed, starting up, dropped, connection exceptions, limits, read-only.
    [{ code: '57P01', message: 'terminating connection due to administrator command' }, 'DB_UNAVAILABLE'],
    [{ code: '57P02', message: 'terminating connection because of crash of another server process' }, 'DB_UNAVAILABLE'],
    [{ code: '57P03', message: 'the database system is starting up' }, 'DB_UNAVAILABLE'],
    [{ code: '57P04', message: 'database dropped' }, 'DB_UNAVAILABLE'],
    [{ code: '08006', message: 'connection failure' }, 'DB_UNAVAILABLE'],
    [{ code: '53300', message: 'too many connections for role "x"' }, 'DB_UNAVAILABLE'],
    [{ code: '25006', message: 'cannot execute INSERT in a read-only transaction' }, 'DB_UNAVAILABLE'],
    [{ code: '25P03', message: 'terminating connection due to idle-in-transaction timeout' }, 'DB_UNAVAILABLE'],
    [{ code: '55P03', message: 'canceling statement due to lock timeout' }, 'LOCK_TIMEOUT'],
    [{ code: '57014', message: 'canceling statement due to statement timeout' }, 'STATEMENT_TIMEOUT'],
    [new Error('timeout exceeded when trying to connect'), 'POOL_TIMEOUT'],
    [new Error('Query read timeout'), 'DB_UNAVAILABLE'],
    // Still INTERNAL: a bug, not an outage.
    [{ code: '42601', message: 'syntax error at or near "x"' }, 'INTERNAL'],
    [{ code: '42P01', message: 'relation "events" does not exist' }, 'INTERNAL'],
  ] as const)('%o → %s', (error, code) => {
    expect(fromDatabaseError(error).code).toBe(code);
  });

  it('tells SQLSTATEs from socket errno codes', () => {
    expect(isSqlState('57P01')).toBe(true);
    expect(isSqlState('08006')).toBe(true);
    expect(isSqlState('XX000')).toBe(true);
    expect(isSqlState('P0001')).toBe(true);
    expect(isSqlState('ECONNRESET')).toBe(false);
    expect(isSqlState('EPIPE')).toBe(false);
    expect(isSqlState(undefined)).toBe(false);
  });
});
