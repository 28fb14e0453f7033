import { resolveSecret, type TargetConfig } from '../escalation-config.ts';
import { opsgenieTarget } from './opsgenie.ts';
import { pagerDutyTarget } from './pagerduty.ts';
import type { PagingTarget } from './paging-target.ts';
import { slackTarget } from './slack.ts';
import { slackAppTarget } from './slack-app.ts';
import type { SlackThreadStore } from '../slack-thread-store.ts';
import { RemediatorError } from '../../domain/errors.ts';
import { webhookTarget } from './webhook.ts';
import { statuspageTarget } from './statuspage.ts';

/** Builds the paging targets of `escalation.targets`, reading `env:NAME` secrets (see `createTargets`). */
export type TargetFactory = (
  config: Record<string, TargetConfig>,
  env?: NodeJS.ProcessEnv,
  deps?: { threads?: SlackThreadStore },
) => Map<string, PagingTarget>;

/**
 * Builds the configured targets, reading `env:NAME` secrets. A new provider is one file in this folder and one
 * case here.
 */
export function createTargets(
  config: Record<string, TargetConfig>,
  env: NodeJS.ProcessEnv = process.env,
  deps: { threads?: SlackThreadStore } = {},
): Map<string, PagingTarget> {
  const out = new Map<string, PagingTarget>();
  for (const [name, c] of Object.entries(config)) {
    const where = `escalation.targets.${name}`;
    switch (c.type) {
      case 'pagerduty':
        out.set(name, pagerDutyTarget(name, { ...c, routingKey: resolveSecret(c.routingKey, `${where}.routingKey`, env) }));
        break;
      case 'opsgenie':
        out.set(name, opsgenieTarget(name, { ...c, apiKey: resolveSecret(c.apiKey, `${where}.apiKey`, env) }));
        break;
      case 'slack':
        out.set(name, slackTarget(name, { ...c, webhookUrl: resolveSecret(c.webhookUrl, `${where}.webhookUrl`, env) }));
        break;
      case 'slack-app': {
        if (!deps.threads)
          throw new RemediatorError('REM_ERR_CONFIG_INVALID', `${where}: a slack-app target needs the escalator's Redis for its threads`);
        const token = resolveSecret(c.token, `${where}.token`, env);
        out.set(
          name,
          slackAppTarget(
            name,
            {
              token,
              channel: c.channel,
              ...(c.apiUrl ? { apiUrl: c.apiUrl } : {}),
              ...(c.role ? { role: c.role } : {}),
              ...(c.rateLimit ? { rateLimit: c.rateLimit } : {}),
              buttons: c.signingSecret !== undefined,
            },
            deps.threads,
          ),
        );
        break;
      }
      case 'webhook':
        out.set(name, webhookTarget(name, { ...c, secret: resolveSecret(c.secret, `${where}.secret`, env) }));
        break;
      case 'statuspage':
        out.set(name, statuspageTarget(name, { ...c, apiKey: resolveSecret(c.apiKey, `${where}.apiKey`, env) }));
        break;
    }
  }
  return out;
}
