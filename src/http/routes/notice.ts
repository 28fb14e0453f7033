import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { AppDeps } from '../app-deps.ts';
import { Errors } from '../schemas.ts';
import { EpisodeParams } from './incidents.ts';

const NoticeRecordSchema = Type.Object({
  status: Type.String({ description: 'drafted (a text a person proposed) | sent | rejected' }),
  text: Type.String(),
  by: Type.String(),
  reason: Type.String(),
  at: Type.String(),
  targets: Type.Optional(Type.Array(Type.String())),
});
const NoticeViewSchema = Type.Object({
  episode: Type.String(),
  status: Type.String({ description: 'pending (no answer since the last proposal, or none yet) | sent | rejected (the last answer)' }),
  draft: Type.String({
    description:
      'The notice as it would be sent now: the text proposed since the last answer, else rendered from the incident (impact, expected recovery, apology).',
  }),
  draftedBy: Type.Optional(
    Type.String({
      description: "Who proposed the draft's text; absent when it is rendered from the incident. With four eyes they may not approve it.",
    }),
  ),
  targets: Type.Array(Type.String()),
  history: Type.Array(NoticeRecordSchema),
});
const ApproveBody = Type.Object(
  {
    reason: Type.String({ minLength: 3 }),
    text: Type.Optional(
      Type.String({
        minLength: 20,
        maxLength: 5000,
        description:
          "The text to send instead of the draft (the approver's edit; refused with four eyes, where another approver must approve it: propose it with /notice/draft). Omitted: the draft as shown.",
      }),
    ),
  },
  { additionalProperties: false },
);
const RejectBody = Type.Object({ reason: Type.String({ minLength: 3 }) }, { additionalProperties: false });
const DraftBody = Type.Object(
  {
    reason: Type.String({ minLength: 3 }),
    text: Type.String({
      minLength: 20,
      maxLength: 5000,
      description: 'The text proposed for the notice; an approver other than its author sends it.',
    }),
  },
  { additionalProperties: false },
);

/**
 * The customer notice of an incident: anyone may read the draft; an operator may propose its text; only an approver
 * sends it (the text they approve, with a reason) or rejects it, and with four eyes (approvals.requireDifferentApprover)
 * never a text they wrote themselves (403 REM_ERR_SELF_APPROVAL). Nothing is sent without that answer. The routes
 * exist when escalation.notice is set.
 */
export async function noticeRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const notices = deps.notices;
  if (!notices) return;
  app.get<{ Params: Static<typeof EpisodeParams> }>(
    '/v1/incidents/:episode/notice',
    {
      config: { role: 'viewer' },
      schema: {
        operationId: 'getCustomerNotice',
        summary: 'The customer notice waiting for approval, and the answers so far',
        tags: ['incidents'],
        params: EpisodeParams,
        response: { 200: NoticeViewSchema, ...Errors },
      },
    },
    async (req) => notices.view(req.params.episode),
  );
  app.post<{ Params: Static<typeof EpisodeParams>; Body: Static<typeof DraftBody> }>(
    '/v1/incidents/:episode/notice/draft',
    {
      config: { role: 'operator' },
      schema: {
        operationId: 'draftCustomerNotice',
        summary: 'Propose the text of the customer notice; nothing is sent until another approver approves it',
        tags: ['incidents'],
        params: EpisodeParams,
        body: DraftBody,
        response: { 200: NoticeViewSchema, ...Errors },
      },
    },
    async (req) => notices.propose(req.params.episode, req.operator, req.body.reason, req.body.text),
  );
  app.post<{ Params: Static<typeof EpisodeParams>; Body: Static<typeof ApproveBody> }>(
    '/v1/incidents/:episode/notice/approve',
    {
      config: { role: 'approver' },
      schema: {
        operationId: 'approveCustomerNotice',
        summary: 'Approve the customer notice (as shown, or edited) and send it to the notice targets',
        tags: ['incidents'],
        params: EpisodeParams,
        body: ApproveBody,
        response: { 202: NoticeViewSchema, ...Errors },
      },
    },
    async (req, reply) =>
      reply
        .code(202)
        .send(await notices.approve(req.params.episode, req.operator, req.body.reason, req.body.text, AbortSignal.timeout(10_000))),
  );
  app.post<{ Params: Static<typeof EpisodeParams>; Body: Static<typeof RejectBody> }>(
    '/v1/incidents/:episode/notice/reject',
    {
      config: { role: 'approver' },
      schema: {
        operationId: 'rejectCustomerNotice',
        summary: 'Reject the customer notice; nothing is sent',
        tags: ['incidents'],
        params: EpisodeParams,
        body: RejectBody,
        response: { 200: NoticeViewSchema, ...Errors },
      },
    },
    async (req) => notices.reject(req.params.episode, req.operator, req.body.reason),
  );
}
