import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { AppDeps } from '../app-deps.ts';
import { Errors } from '../schemas.ts';
import { formatProblem } from '../../schema/yaml-source.ts';

const ReloadAnswer = Type.Object({
  ok: Type.Boolean({ description: 'false: the files have problems and the last good set stays in force' }),
  generation: Type.Integer({ description: 'Successful loads so far (unchanged when ok is false).' }),
  playbooks: Type.Array(Type.String(), { description: 'The playbooks in force after the reload.' }),
  problems: Type.Array(Type.String(), { description: 'file:line:column: problem' }),
});

/**
 * POST /v1/reload (admin): reload this process's playbooks now, as SIGHUP does. A set with any problem is refused
 * whole and the last good set stays; the answer lists the problems. Worker processes reload on SIGHUP or, with
 * `playbooks.watch`, when the files change.
 */
export async function reloadRoute(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const reload = deps.reload;
  if (!reload) return;
  app.post(
    '/v1/reload',
    {
      config: { role: 'admin' },
      schema: {
        operationId: 'reloadPlaybooks',
        summary: 'Reload the playbooks of this process (as SIGHUP does); a broken set keeps the last good one',
        tags: ['playbooks'],
        response: { 200: ReloadAnswer, ...Errors },
      },
    },
    async (req) => {
      const problems = await reload();
      req.log.warn({ operator: req.operator, problems: problems.length }, `playbooks reloaded by ${req.operator}`);
      return {
        ok: problems.length === 0,
        generation: deps.catalog.generation,
        playbooks: deps.catalog.list().map((p) => p.name),
        problems: problems.map(formatProblem),
      };
    },
  );
}
