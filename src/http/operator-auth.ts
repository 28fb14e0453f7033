import type { FastifyReply, FastifyRequest } from 'fastify';
import { authenticateOperator } from './auth.ts';
import type { AppDeps } from './app-deps.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The operator's name from their token (operator API only). */
    operator: string;
  }
}

/** onRequest hook for the operator API: a valid operator token, never a webhook token. */
export function operatorAuth(deps: AppDeps) {
  const operators = deps.config.auth.operators;
  const webhookTokens = deps.config.auth.webhook.bearerTokens;
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const auth = authenticateOperator(req.headers.authorization, operators, webhookTokens);
    if (!auth.ok) {
      const forbidden = auth.reason.startsWith('webhook tokens');
      await reply.code(forbidden ? 403 : 401).header('www-authenticate', 'Bearer').send({ code: forbidden ? 'REM_ERR_FORBIDDEN' : 'REM_ERR_UNAUTHORIZED', message: auth.reason });
      return;
    }
    req.operator = auth.principal;
  };
}
