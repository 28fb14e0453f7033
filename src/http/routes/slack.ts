import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { AppDeps } from '../app-deps.ts';
import { Errors } from '../schemas.ts';
import { isRemediatorError, RemediatorError } from '../../domain/errors.ts';
import { roleAllows, type OperatorRole } from '../operator-roles.ts';
import type { SlackUserRole } from '../../escalation/escalation-config.ts';
import type { SlackActionId } from '../../escalation/render/slack-app-message.ts';
import type { SlackClick } from '../../escalation/slack-interactions.ts';
import { SLACK_SIGNATURE_HEADER, SLACK_TIMESTAMP_HEADER } from '../../escalation/slack-signature.ts';

// The roles a Slack member is given in config are exactly the operator roles.
const sameRoles: [SlackUserRole extends OperatorRole ? true : false, OperatorRole extends SlackUserRole ? true : false] = [true, true];
void sameRoles;

/** Who may press which button: the same roles as the API's approve/reject and cancel. */
const NEEDS: Readonly<Record<SlackActionId, OperatorRole>> = {
  approve: 'approver',
  reject: 'approver',
  cancel: 'operator',
  take_over: 'operator',
};

const SlackAnswer = Type.Object(
  {
    response_type: Type.Optional(Type.String()),
    replace_original: Type.Optional(Type.Boolean()),
    text: Type.Optional(Type.String()),
  },
  { description: 'Empty, or the ephemeral refusal also sent to response_url.' },
);

/**
 * POST /v1/slack/interactions: the Request URL of the Slack app's interactivity (docs/contracts.md §5.3). Slack
 * posts `application/x-www-form-urlencoded` with `payload=<json>`; the raw body is kept for the signature, which is
 * checked before anything else (v0 HMAC, 5-minute window, constant time; 401 with no detail otherwise).
 *
 * A click is applied through the same run commands as the operator API, as the operator the Slack member is mapped
 * to (the target's `users`), with the role that action needs there. An unmapped member, a role too low, or an answer
 * the run refuses (already decided, plan changed, four eyes) gets an ephemeral reply and nothing changes. A decision
 * replaces the message without its buttons, saying who decided, and goes to the incident's thread. Slack wants a 200
 * within 3 s: the work is a few Redis writes, and the message edits are queued.
 */
export async function slackRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const slack = deps.slack;
  if (!slack) return;
  // Fastify parses only JSON and text: the form body is kept as the raw string the signature covers.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => done(null, body));

  app.post(
    '/v1/slack/interactions',
    {
      // Authenticated by Slack's signature over the raw body, checked first thing in the handler.
      config: { role: 'signed' },
      schema: {
        operationId: 'receiveSlackInteraction',
        summary: "Receive a Slack button click (block_actions), signed with the app's signing secret",
        tags: ['slack'],
        consumes: ['application/x-www-form-urlencoded'],
        // Not a bearer token: Slack's signature (X-Slack-Signature, X-Slack-Request-Timestamp).
        security: [],
        body: Type.String({ description: 'payload=<URL-encoded JSON>' }),
        response: { 200: SlackAnswer, ...Errors },
      },
    },
    async (req, reply) => {
      const raw = typeof req.body === 'string' ? req.body : '';
      // Slack's certificate check is unsigned and asks for nothing but a 200.
      if (new URLSearchParams(raw).get('ssl_check') === '1') return reply.code(200).send({});
      const header = (name: string) => {
        const v = req.headers[name];
        return Array.isArray(v) ? v[0] : v;
      };
      const target = slack.verify(header(SLACK_TIMESTAMP_HEADER), header(SLACK_SIGNATURE_HEADER), raw);
      const parsed = slack.parse(target, raw);
      if (parsed.kind === 'ignored') {
        req.log.debug({ reason: parsed.reason }, 'Slack interaction ignored');
        return reply.code(200).send({});
      }
      const click = parsed.click;
      const refuse = async (text: string) => {
        // Not awaited: Slack wants its 200 within 3 s whatever response_url does (failures are logged).
        void slack.ephemeral(click, text);
        return reply.code(200).send({ response_type: 'ephemeral', replace_original: false, text });
      };
      const member = slack.member(target, click.userId);
      const needs = NEEDS[click.action];
      if (!member) {
        req.log.warn(
          { slackUser: click.userId, action: click.action, runId: click.runId },
          'Slack click refused: member not mapped to an operator',
        );
        return refuse(
          `REM_ERR_SLACK_NOT_PERMITTED: your Slack account is not mapped to a remediator operator, so this was not done. Ask an admin to add ${click.userId} to escalation.targets.${target}.users.`,
        );
      }
      if (!roleAllows(member.role, needs)) {
        req.log.warn(
          { operator: member.name, role: member.role, needs, action: click.action, runId: click.runId },
          'Slack click refused: role too low',
        );
        return refuse(
          `REM_ERR_SLACK_NOT_PERMITTED: ${click.action.replace('_', ' ')} needs the ${needs} role; ${member.name} has ${member.role}. Nothing was done.`,
        );
      }
      let note: string;
      try {
        note = await apply(deps, click, member.name);
      } catch (err) {
        if (!isRemediatorError(err) || err.statusCode >= 500) throw err;
        req.log.info({ operator: member.name, action: click.action, runId: click.runId, code: err.code }, 'Slack click refused by the run');
        return refuse(`${err.code}: ${err.message}. Nothing was done.`);
      }
      req.log.info({ operator: member.name, action: click.action, runId: click.runId }, note);
      const view = await deps.store.getRun(click.runId);
      await slack.decided(click, view && deps.incidentReport ? deps.incidentReport(view) : undefined, note, AbortSignal.timeout(5000));
      return reply.code(200).send({});
    },
  );
}

/** Applies the click as the operator; returns the sentence that says who decided what. */
async function apply(deps: AppDeps, click: SlackClick, operator: string): Promise<string> {
  switch (click.action) {
    case 'approve':
    case 'reject': {
      const verdict = click.action === 'approve' ? 'approved' : 'rejected';
      const run = await deps.commands.answerApproval(click.runId, verdict, operator, 'answered in Slack', { planHash: click.planHash });
      const step = run.state?.approval?.stepId;
      return `${operator} ${verdict} the plan${step ? ` of step "${step}"` : ''} in Slack`;
    }
    case 'cancel':
      await deps.commands.cancel(click.runId, operator, 'cancelled in Slack');
      return `${operator} cancelled the run in Slack`;
    case 'take_over':
      await deps.commands.takeOver(click.runId, operator, AbortSignal.timeout(10_000));
      return `${operator} took the incident over in Slack; automation stops`;
    default:
      throw new RemediatorError('REM_ERR_BAD_REQUEST', `unknown action ${String(click.action)}`);
  }
}
