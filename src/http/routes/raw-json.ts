import type { FastifyInstance, FastifyRequest } from 'fastify';
import { RemediatorError } from '../../domain/errors.ts';

const RAW = new WeakMap<FastifyRequest, Buffer>();

/**
 * Makes the scope's JSON parser keep the exact bytes received, for routes that verify a signature over the raw body
 * (a re-serialised body would not match). Call inside the route's own encapsulated scope: other routes keep the
 * default parser.
 */
export function keepRawJson(scope: FastifyInstance): void {
  scope.removeContentTypeParser('application/json');
  scope.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req, body, done) => {
    const raw = body as Buffer;
    RAW.set(req, raw);
    try {
      done(null, raw.length === 0 ? {} : JSON.parse(raw.toString('utf8')));
    } catch {
      done(new RemediatorError('REM_ERR_BAD_REQUEST', 'body is not valid JSON'), undefined);
    }
  });
}

/** The raw body of a request parsed by `keepRawJson` (empty when there was none). */
export function rawBody(req: FastifyRequest): Buffer {
  return RAW.get(req) ?? Buffer.alloc(0);
}
