/**
 * Maps every error to `{"error": {"code", "message"}}` with the catalogue's status. Fastify's own
 * errors (validation, body parsing, size) get catalogue codes too, so clients see stable codes.
 */
import type { FastifyError, FastifyInstance } from 'fastify';
import { EsbenchError, ERROR_CATALOGUE, fromDatabaseError, type ErrorCode } from '../core/errors.ts';

const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_INVALID_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'BAD_REQUEST',
  FST_ERR_CTP_INVALID_TYPE: 'BAD_REQUEST',
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

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error, request, reply) => {
    const e = toEsbenchError(error as FastifyError);
    const status = ERROR_CATALOGUE[e.code].http;
    if (status >= 500) request.log.error({ err: error, code: e.code }, 'request failed');
    // Internal messages may carry SQL or driver details: clients get the catalogue's summary only.
    const message = e.code === 'INTERNAL' ? ERROR_CATALOGUE.INTERNAL.summary : e.message;
    void reply.status(status).send({ error: { code: e.code, message } });
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
