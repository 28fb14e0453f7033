import { Type } from '@sinclair/typebox';
import { defineAction } from '../engine/step-definition.ts';
import { RemediatorError } from '../domain/errors.ts';

/**
 * Pages people about this run, or with `status: recovered` tells them of the fix it verified. The step builds no report itself: it hands `ctx.run` to the escalation service,
 * which asks the engine's report builder for the full incident report (rungs, timeline, snapshot) or, when none is
 * installed, builds a minimal one from the run's alert (see `Escalator.escalateRun`). The step finishes once the
 * events are durably enqueued; delivery, retries and the dead letter happen behind the service.
 * Not mutating: it passes no guard.
 */
export const escalateAction = defineAction({
  name: 'escalate',
  summary: "Page people (PagerDuty, Opsgenie, Slack, webhook) with the run's incident report.",
  needs: ['escalation'],
  params: Type.Object(
    {
      level: Type.Optional(
        Type.Union([Type.Literal('P0'), Type.Literal('P1'), Type.Literal('P2'), Type.Literal('P3')], {
          description: "Incident level; default: the severity policy's level for the alert's labels.",
        }),
      ),
      targets: Type.Optional(
        Type.Array(Type.String({ minLength: 1 }), {
          minItems: 1,
          description: 'Target names from escalation.targets; default: what the severity policy says for the level.',
        }),
      ),
      summary: Type.Optional(
        Type.String({
          minLength: 1,
          maxLength: 1000,
          description: 'One line on why automation gives up, e.g. "restart and rollback did not bring phone-gateway back".',
        }),
      ),
      status: Type.Optional(
        Type.Union([Type.Literal('escalated'), Type.Literal('recovered')], {
          default: 'escalated',
          description:
            'escalated (default): automation hands the incident to a human. recovered: the message is the summary of a fix this run verified (a gate of the rung passed before this step), told as recovered (✅), not as an escalation; without a passed gate the step fails rather than claim a recovery.',
        }),
      ),
      resolve: Type.Optional(
        Type.Union([Type.Literal('when-verified'), Type.Literal('by-hand')], {
          default: 'when-verified',
          description:
            'when-verified (default): a verified fix of this episode resolves the incident. by-hand: it stays open for a person, for pages that ask for follow-up work a restart only postpones (a memory leak, an exhausted pool).',
        }),
      ),
    },
    { additionalProperties: false },
  ),
  async run(ctx) {
    const escalation = ctx.services.escalation;
    if (!escalation) throw new RemediatorError('REM_ERR_DEPENDENCY_MISSING', 'the escalate step needs escalation to be configured');
    const p = ctx.params;
    const recovered = p.status === 'recovered';
    if (recovered && !ctx.verified)
      throw new RemediatorError(
        'REM_ERR_STEP_FAILED',
        'status: recovered tells a verified fix, and no verification gate of this rung has passed; nothing was sent',
      );
    const receipt = await escalation.escalateRun(ctx.run, {
      ...(recovered ? { recovered: true } : {}),
      ...(p.level ? { level: p.level } : {}),
      ...(p.targets ? { targets: p.targets } : {}),
      ...(p.summary ? { summary: p.summary } : {}),
      signal: ctx.signal,
    });
    const sent = receipt.enqueued.map((e) => `${e.target} (${e.action})`);
    return {
      status: 'ok',
      output: {
        episodeKey: receipt.episodeKey,
        level: receipt.level,
        enqueued: receipt.enqueued,
        skipped: receipt.skipped,
        resolve: p.resolve ?? 'when-verified',
        status: recovered ? 'recovered' : 'escalated',
      },
      summary:
        sent.length > 0
          ? recovered
            ? `told the verified recovery (${receipt.level}) to ${sent.join(', ')}`
            : `escalated ${receipt.level} to ${sent.join(', ')}`
          : `${receipt.level} recorded; nothing sent (${receipt.skipped.map((s) => s.reason).join('; ')})`,
    };
  },
});
