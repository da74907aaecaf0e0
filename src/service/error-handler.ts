/**
 * Maps every error to `{"error": {"code", "message"}}` with the catalogue's status. Fastify's own
 * errors (validation, body parsing, size) get catalogue codes too, so clients see stable codes.
 */
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';
import { DomainRejection, EsbenchError, ERROR_CATALOGUE, fromDatabaseError, type ErrorCode } from '../core/errors.ts';

const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_INVALID_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'BAD_REQUEST',
  FST_ERR_CTP_INVALID_TYPE: 'BAD_REQUEST',
  // Raised by the router before any route runs (see frameworkErrorOptions).
  FST_ERR_BAD_URL: 'BAD_REQUEST',
  // A path parameter longer than the router's limit (100) cannot be a valid ID (64 at most).
  FST_ERR_MAX_PARAM_LENGTH: 'VALIDATION_FAILED',
};

export function toEsbenchError(error: FastifyError | Error): EsbenchError {
  if (error instanceof EsbenchError) return error;
  const fe = error as FastifyError;
  if (fe.validation) return new EsbenchError('VALIDATION_FAILED', fe.message);
  const mapped = fe.code ? FASTIFY_CODES[fe.code] : undefined;
  if (mapped) return new EsbenchError(mapped, fe.message);
  if (error instanceof SyntaxError || (fe.statusCode === 400 && /JSON/i.test(fe.message))) return new EsbenchError('INVALID_JSON', 'the body is not valid JSON');
  if (fe.statusCode !== undefined && fe.statusCode >= 400 && fe.statusCode < 500) return new EsbenchError('BAD_REQUEST', fe.message);
  return fromDatabaseError(error);
}

function errorBody(e: EsbenchError): { error: { code: ErrorCode; message: string; details?: Readonly<Record<string, unknown>> } } {
  // Internal messages may carry SQL or driver details: clients get the catalogue's summary only.
  const message = e.code === 'INTERNAL' ? ERROR_CATALOGUE.INTERNAL.summary : e.message;
  // Only a business rejection's details go out: the state its own command decided on.
  return { error: { code: e.code, message, ...(e instanceof DomainRejection && e.details ? { details: e.details } : {}) } };
}

/**
 * Fastify options for the errors raised outside any route: a malformed percent-encoding in the
 * path, an over-long path parameter (router), and bytes that are not HTTP at all (Node's parser).
 * Without them Fastify answers in its own shape (`{"error":"Bad Request","code":"FST_ERR_BAD_URL"}`,
 * even a 414), which clients cannot tell apart by our codes. Spread into the Fastify constructor.
 */
export const frameworkErrorOptions = {
  frameworkErrors(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
    const e = toEsbenchError(error);
    void reply.status(ERROR_CATALOGUE[e.code].http).send(errorBody(e));
  },
  clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
    // A reset connection has no one to answer; a request timeout keeps Node's 408.
    if (error.code === 'ECONNRESET' || socket.destroyed || !socket.writable) return;
    if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
      socket.end('HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const body = JSON.stringify(errorBody(new EsbenchError('BAD_REQUEST', 'malformed HTTP request')));
    socket.end(
      `HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  },
} satisfies Pick<FastifyServerOptions, 'clientErrorHandler' | 'frameworkErrors'>;

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error, request, reply) => {
    const e = toEsbenchError(error as FastifyError);
    const status = ERROR_CATALOGUE[e.code].http;
    if (status >= 500) request.log.error({ err: error, code: e.code }, 'request failed');
    void reply.status(status).send(errorBody(e));
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.status(404).send({ error: { code: 'NOT_FOUND', message: `no route ${request.method} ${request.url.split('?')[0]}` } });
  });
}

const MAX_DEPTH = 16;

/**
 * Rejects what JSON allows but PostgreSQL does not store (NUL characters, lone UTF-16 surrogates)
 * and absurd nesting, before any SQL runs. Returns an error message or undefined.
 */
export function hostileJson(value: unknown, depth = 0): string | undefined {
  if (depth > MAX_DEPTH) return `nesting deeper than ${MAX_DEPTH}`;
  if (typeof value === 'string') {
    if (value.includes('\u0000')) return 'strings must not contain NUL (\\u0000)';
    if (!value.isWellFormed()) return 'strings must be well-formed UTF-16 (no lone surrogates)';
    return undefined;
  }
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : 'numbers must be finite';
  if (Array.isArray(value)) {
    for (const v of value) {
      const m = hostileJson(v, depth + 1);
      if (m) return m;
    }
    return undefined;
  }
  if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const m = hostileJson(k, depth + 1) ?? hostileJson(v, depth + 1);
      if (m) return m;
    }
  }
  return undefined;
}
