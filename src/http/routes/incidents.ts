import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { RemediatorError } from '../../domain/errors.ts';
import type { AppDeps } from '../app-deps.ts';
import { Errors } from '../schemas.ts';

export const EpisodeParams = Type.Object({
  episode: Type.String({
    pattern: '^[A-Za-z0-9._-]{1,200}$',
    description: "The episode id (`episodeId` of a run; a manual run's own id).",
  }),
});

/** The incident as a whole: every run of one episode. */
export async function incidentRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const report = deps.episodeReport;
  if (!report) return;
  app.get<{ Params: Static<typeof EpisodeParams> }>(
    '/v1/incidents/:episode/report',
    {
      config: { role: 'viewer' },
      schema: {
        operationId: 'getIncidentReport',
        summary:
          'The post-incident report of an episode (Markdown): every run, timeline, decisions, pages, acks, and the review sections to fill in',
        tags: ['incidents'],
        params: EpisodeParams,
        produces: ['text/markdown'],
        response: { 200: Type.String(), ...Errors },
      },
    },
    async (req, reply) => {
      const md = await report(req.params.episode);
      if (md === undefined) throw new RemediatorError('REM_ERR_NOT_FOUND', `nothing is recorded for episode ${req.params.episode}`);
      return reply.header('content-type', 'text/markdown; charset=utf-8').send(md);
    },
  );
}
