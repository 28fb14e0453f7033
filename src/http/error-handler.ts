import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { ErrorObject } from 'ajv';
import { RemediatorError, isRemediatorError } from '../domain/errors.ts';
import { describeErrors } from '../schema/validator.ts';

/**
 * Every error answer has the same shape: `{ code, message, details? }` with a stable REM_ERR_* code. Fastify's own
 * errors (schema validation, JSON syntax, body size, content type) are mapped to catalog codes so a caller can tell
 * a bad payload (400, do not retry) from a Redis outage (503, retry).
 */
export function errorHandler(err: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  const isWebhook = req.routeOptions.url === '/v1/alertmanager';
  let e: RemediatorError;
  if (isRemediatorError(err)) e = err;
  else if (err.validation) {
    // One line per problem naming the field as people write it: `body.alerts[0].labels.code: must be string`.
    const lines = describeErrors(err.validation as ErrorObject[], err.validationContext ?? 'body');
    e = new RemediatorError(isWebhook ? 'REM_ERR_PAYLOAD_INVALID' : 'REM_ERR_BAD_REQUEST', lines.join('; '), {
      details: { problems: lines },
    });
  } else if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    e = new RemediatorError(
      'REM_ERR_BODY_TOO_LARGE',
      `request body larger than the configured limit (server.bodyLimit); Alertmanager will not retry a 413: raise the limit or set max_alerts`,
    );
  } else if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    reply.code(415).send({
      code: isWebhook ? 'REM_ERR_PAYLOAD_INVALID' : 'REM_ERR_BAD_REQUEST',
      message: `unsupported Content-Type ${req.headers['content-type'] ?? '(none)'}: send application/json`,
    });
    return;
  } else if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
    e = new RemediatorError(isWebhook ? 'REM_ERR_PAYLOAD_INVALID' : 'REM_ERR_BAD_REQUEST', err.message);
  } else {
    req.log.error({ err }, 'unexpected error');
    e = new RemediatorError('REM_ERR_INTERNAL', 'internal error');
  }
  if (e.statusCode >= 500) req.log.warn({ code: e.code, message: e.message }, 'request failed');
  reply.code(e.statusCode).send(e.toJSON());
}
