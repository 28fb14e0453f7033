import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { AppDeps } from '../app-deps.ts';
import { Errors, RunDeliveriesSchema, RunViewSchema } from '../schemas.ts';
import { runEpisodeId } from '../../alerts/episode.ts';
import { RemediatorError } from '../../domain/errors.ts';
import type { RunStatus } from '../../engine/run-state.ts';
import { buildIncidentReport } from '../../runs/incident-report.ts';
import { renderTimelineMarkdown } from '../../escalation/render/timeline-markdown.ts';

const ListQuery = Type.Object(
  {
    playbook: Type.Optional(Type.String()),
    status: Type.Optional(Type.String()),
    target: Type.Optional(Type.String({ description: 'namespace/kind/name, namespace/name or name' })),
    since: Type.Optional(Type.String({ format: 'date-time', description: 'Runs created at or after (RFC 3339).' })),
    until: Type.Optional(Type.String({ format: 'date-time', description: 'Runs created at or before (RFC 3339).' })),
    limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
    cursor: Type.Optional(Type.String({ description: 'The `next` of the previous page.' })),
  },
  { additionalProperties: false },
);
const ReasonBody = Type.Object({ reason: Type.String({ minLength: 3 }) }, { additionalProperties: false });
const RevertBody = Type.Object(
  {
    reason: Type.String({ minLength: 3 }),
    planHash: Type.Optional(
      Type.String({
        pattern: '^[0-9a-f]{64}$',
        description: 'Revert only if the plan is still this one (the planHash a dryRun answered).',
      }),
    ),
  },
  { additionalProperties: false },
);
const RevertQuery = Type.Object(
  { dryRun: Type.Boolean({ default: false, description: 'Only show the plan; change nothing.' }) },
  { additionalProperties: false },
);
const RevertPlanSchema = Type.Object({
  plan: Type.Unknown({
    description: 'Per object, the fields to put back (now → to), those already back, and the conflicts that refuse it.',
  }),
  planHash: Type.String(),
  checkedAgainstCluster: Type.Boolean({
    description: 'false: this process has no Kubernetes client; the revert run checks the objects before writing',
  }),
});
const IdParams = Type.Object({ id: Type.String({ pattern: '^[A-Za-z0-9_-]+$' }) });

const CountQuery = Type.Object(
  { since: Type.Optional(Type.String({ format: 'date-time' })), until: Type.Optional(Type.String({ format: 'date-time' })) },
  { additionalProperties: false },
);

/** Run history and the operator's verbs on runs. */
export async function runRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  app.get<{ Querystring: Static<typeof ListQuery> }>(
    '/v1/runs',
    {
      config: { role: 'viewer' },
      schema: {
        operationId: 'listRuns',
        summary: 'Run history, newest first',
        tags: ['runs'],
        querystring: ListQuery,
        response: { 200: Type.Object({ runs: Type.Array(RunViewSchema), next: Type.Optional(Type.String()) }), ...Errors },
      },
    },
    async (req) => {
      const { since, until, ...rest } = req.query;
      const { runs, next } = await deps.store.listRuns({
        ...rest,
        status: rest.status as RunStatus | undefined,
        ...(since ? { since: Date.parse(since) } : {}),
        ...(until ? { until: Date.parse(until) } : {}),
      });
      // The list shows the record and status; the full state is in GET /v1/runs/:id.
      return { runs: runs.map(({ state, ...rest }) => ({ ...rest, outcome: state?.outcome })), next };
    },
  );

  app.get<{ Querystring: Static<typeof CountQuery> }>(
    '/v1/runs/counts',
    {
      config: { role: 'viewer' },
      schema: {
        operationId: 'countRuns',
        summary: 'How many runs have each status (created in the window)',
        tags: ['runs'],
        querystring: CountQuery,
        response: { 200: Type.Object({ counts: Type.Record(Type.String(), Type.Integer()) }), ...Errors },
      },
    },
    async (req) => ({
      counts: await deps.store.countRuns({
        ...(req.query.since ? { since: Date.parse(req.query.since) } : {}),
        ...(req.query.until ? { until: Date.parse(req.query.until) } : {}),
      }),
    }),
  );

  app.get<{ Params: Static<typeof IdParams> }>(
    '/v1/runs/:id',
    {
      config: { role: 'viewer' },
      schema: {
        operationId: 'getRun',
        summary: 'One run: record, steps with outputs and observations, decisions',
        tags: ['runs'],
        params: IdParams,
        response: { 200: RunViewSchema, ...Errors },
      },
    },
    async (req) => {
      const run = await deps.store.getRun(req.params.id);
      if (!run) throw new RemediatorError('REM_ERR_NOT_FOUND', `no run with id ${req.params.id}`);
      return run;
    },
  );

  app.get<{ Params: Static<typeof IdParams> }>(
    '/v1/runs/:id/timeline',
    {
      config: { role: 'viewer' },
      schema: {
        operationId: 'getRunTimeline',
        summary: 'The run as a post-incident timeline (Markdown)',
        tags: ['runs'],
        params: IdParams,
        produces: ['text/markdown'],
        response: { 200: Type.String(), ...Errors },
      },
    },
    async (req, reply) => {
      const run = await deps.store.getRun(req.params.id);
      if (!run) throw new RemediatorError('REM_ERR_NOT_FOUND', `no run with id ${req.params.id}`);
      const report = deps.incidentReport ? deps.incidentReport(run) : buildIncidentReport(run, { level: 'P2' });
      return reply.header('content-type', 'text/markdown; charset=utf-8').send(renderTimelineMarkdown(report));
    },
  );

  app.get<{ Params: Static<typeof IdParams> }>(
    '/v1/runs/:id/deliveries',
    {
      config: { role: 'viewer' },
      schema: {
        operationId: 'getRunDeliveries',
        summary: "Where each page of the run's episode stands at each paging target, and who acknowledged or resolved it",
        tags: ['runs'],
        params: IdParams,
        response: { 200: RunDeliveriesSchema, ...Errors },
      },
    },
    async (req) => {
      const run = await deps.store.getRun(req.params.id);
      if (!run) throw new RemediatorError('REM_ERR_NOT_FOUND', `no run with id ${req.params.id}`);
      const episodeKey = runEpisodeId(run);
      return { episodeKey, ...(deps.deliveries ? await deps.deliveries(episodeKey) : { deliveries: [], human: {} }) };
    },
  );

  app.post<{ Params: Static<typeof IdParams>; Body: Static<typeof ReasonBody> }>(
    '/v1/runs/:id/retry',
    {
      config: { role: 'operator' },
      schema: {
        operationId: 'retryRun',
        summary: 'Start the same playbook again for the same alert (a new run)',
        tags: ['runs'],
        params: IdParams,
        body: ReasonBody,
        response: { 202: RunViewSchema, ...Errors },
      },
    },
    async (req, reply) => reply.code(202).send(await deps.commands.retry(req.params.id, req.operator, req.body.reason)),
  );

  for (const [verb, verdict] of [
    ['approve', 'approved'],
    ['reject', 'rejected'],
  ] as const) {
    app.post<{ Params: Static<typeof IdParams>; Body: Static<typeof ReasonBody> }>(
      `/v1/runs/:id/${verb}`,
      {
        config: { role: 'approver' },
        schema: {
          operationId: `${verb}Run`,
          summary: `${verb === 'approve' ? 'Approve' : 'Reject'} the plan a run is waiting on (binds to that exact plan)`,
          tags: ['runs'],
          params: IdParams,
          body: ReasonBody,
          response: { 202: RunViewSchema, ...Errors },
        },
      },
      async (req, reply) => reply.code(202).send(await deps.commands.answerApproval(req.params.id, verdict, req.operator, req.body.reason)),
    );
  }

  app.post<{ Params: Static<typeof IdParams>; Body: Static<typeof RevertBody>; Querystring: Static<typeof RevertQuery> }>(
    '/v1/runs/:id/revert',
    {
      config: { role: 'approver' },
      schema: {
        operationId: 'revertRun',
        summary: 'Put back what a finished run changed (a new run), refusing objects changed since; dryRun=true shows the plan',
        tags: ['runs'],
        params: IdParams,
        querystring: RevertQuery,
        body: RevertBody,
        response: { 200: RevertPlanSchema, 202: Type.Object({ run: RunViewSchema, plan: RevertPlanSchema }), ...Errors },
      },
    },
    async (req, reply) => {
      const out = await deps.commands.revert(req.params.id, {
        operator: req.operator,
        reason: req.body.reason,
        dryRun: req.query.dryRun,
        ...(req.body.planHash ? { planHash: req.body.planHash } : {}),
      });
      return 'run' in out ? reply.code(202).send(out) : reply.code(200).send(out.plan);
    },
  );

  app.post<{ Params: Static<typeof IdParams>; Body: Static<typeof ReasonBody> }>(
    '/v1/runs/:id/cancel',
    {
      config: { role: 'operator' },
      schema: {
        operationId: 'cancelRun',
        summary: 'Cancel a run: the step under way is interrupted and no further step runs',
        tags: ['runs'],
        params: IdParams,
        body: ReasonBody,
        response: { 202: RunViewSchema, ...Errors },
      },
    },
    async (req, reply) => reply.code(202).send(await deps.commands.cancel(req.params.id, req.operator, req.body.reason)),
  );
}
