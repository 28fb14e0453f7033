import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { AppDeps } from '../app-deps.ts';
import type { Playbook } from '../../domain/playbook.ts';
import { formatMatcher } from '../../domain/matcher.ts';
import { Errors, RunViewSchema } from '../schemas.ts';
import { RemediatorError } from '../../domain/errors.ts';

const PlaybookSummary = Type.Object({
  name: Type.String(),
  description: Type.Optional(Type.String()),
  owner: Type.Optional(Type.String()),
  file: Type.String(),
  priority: Type.Integer(),
  stop: Type.Boolean(),
  dryRun: Type.Boolean(),
  mutating: Type.Boolean(),
  triggers: Type.Array(Type.Object({ status: Type.String(), matchers: Type.Array(Type.String()) })),
  params: Type.Record(Type.String(), Type.Unknown()),
  rungs: Type.Array(
    Type.Object({
      name: Type.String(),
      steps: Type.Array(Type.Object({ id: Type.String(), kind: Type.String(), uses: Type.String(), mutating: Type.Boolean() })),
    }),
  ),
});

const ManualRunBody = Type.Object(
  {
    reason: Type.String({ minLength: 3, description: 'Why the run is started by hand; recorded on the run.' }),
    labels: Type.Optional(
      Type.Record(Type.String(), Type.String(), { description: 'Alert labels the templates see (e.g. namespace, deployment).' }),
    ),
    annotations: Type.Optional(Type.Record(Type.String(), Type.String())),
    params: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'Overrides of the playbook params.' })),
    dryRun: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

function summary(p: Playbook): Static<typeof PlaybookSummary> {
  return {
    name: p.name,
    description: p.description,
    owner: p.owner,
    file: p.file,
    priority: p.priority,
    stop: p.stop,
    dryRun: p.dryRun,
    mutating: p.mutating,
    triggers: p.triggers.map((t) => ({ status: t.status, matchers: t.matchers.map(formatMatcher) })),
    params: p.params,
    rungs: p.rungs.map((r) => ({
      name: r.name,
      steps: r.steps.map((s) => ({ id: s.id, kind: s.kind, uses: s.uses, mutating: s.mutating })),
    })),
  };
}

/** GET /v1/playbooks, GET /v1/playbooks/:name, POST /v1/playbooks/:name/runs (manual run). */
export async function playbookRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  app.get(
    '/v1/playbooks',
    {
      config: { role: 'viewer' },
      schema: {
        operationId: 'listPlaybooks',
        summary: 'List the playbooks in force',
        tags: ['playbooks'],
        response: { 200: Type.Object({ generation: Type.Integer(), playbooks: Type.Array(PlaybookSummary) }), ...Errors },
      },
    },
    async () => ({
      generation: deps.catalog.generation,
      playbooks: deps.catalog.list().map(summary),
    }),
  );

  app.get<{ Params: { name: string } }>(
    '/v1/playbooks/:name',
    {
      config: { role: 'viewer' },
      schema: {
        operationId: 'getPlaybook',
        summary: 'One playbook, with its source document',
        tags: ['playbooks'],
        params: Type.Object({ name: Type.String() }),
        response: { 200: Type.Intersect([PlaybookSummary, Type.Object({ document: Type.Unknown() })]), ...Errors },
      },
    },
    async (req) => {
      const p = deps.catalog.get(req.params.name);
      if (!p) throw new RemediatorError('REM_ERR_NOT_FOUND', `no playbook named "${req.params.name}"`);
      return { ...summary(p), document: p.doc };
    },
  );

  app.post<{ Params: { name: string }; Body: Static<typeof ManualRunBody> }>(
    '/v1/playbooks/:name/runs',
    {
      config: { role: 'operator' },
      schema: {
        operationId: 'startManualRun',
        summary: 'Start a playbook by hand (recorded as manual, with the operator and reason)',
        tags: ['playbooks'],
        params: Type.Object({ name: Type.String() }),
        body: ManualRunBody,
        response: { 202: RunViewSchema, ...Errors },
      },
    },
    async (req, reply) => {
      const run = await deps.commands.startManual(req.params.name, { operator: req.operator, ...req.body });
      req.log.info({ runId: run.id, operator: req.operator }, `manual run of ${run.playbook}`);
      return reply.code(202).send(run);
    },
  );
}
