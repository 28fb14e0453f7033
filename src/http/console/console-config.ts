import { Type, type Static } from '@sinclair/typebox';
import { Duration } from '../../domain/duration.ts';
import { literals } from '../../schema/literals.ts';
import { OPERATOR_ROLES } from '../operator-roles.ts';

/** `console` of the config: the web console the receiver serves at `/`. */
export const ConsoleConfigSchema = Type.Object(
  {
    enabled: Type.Boolean({
      default: true,
      description: 'Serve the web console at / (sign-in with an operator token, or behind an authenticating proxy).',
    }),
    sessionSecret: Type.Optional(
      Type.String({
        minLength: 32,
        description:
          'Key that signs the session cookie (32+ characters; the same on every replica). Unset: derived from the operator and webhook tokens (the same on replicas configured alike; changing a token signs everyone out). Env: REMEDIATOR_CONSOLE_SESSION_SECRET.',
      }),
    ),
    sessionTtl: Duration({ default: '12h', description: 'How long a console sign-in lasts.' }),
    secureCookie: Type.Union([Type.Boolean(), Type.Literal('auto')], {
      default: 'auto',
      description: 'The Secure attribute of the session cookie: auto sets it when the request came over HTTPS.',
    }),
    prometheusLink: Type.Optional(Type.String({ description: 'Prometheus URL the run page links to (default: prometheus.url).' })),
    alertmanagerLink: Type.Optional(Type.String({ description: 'Alertmanager URL the run page links to (default: alertmanager.url).' })),
    proxy: Type.Object(
      {
        trustedAddresses: Type.Array(Type.String(), {
          default: [],
          description:
            'Addresses or CIDRs of the authenticating proxy (e.g. oauth2-proxy). Its user headers are believed only from these; empty: never.',
        }),
        userHeader: Type.String({ default: 'x-forwarded-user', description: 'Header naming the signed-in user.' }),
        emailHeader: Type.String({ default: 'x-forwarded-email', description: "Header with the signed-in user's email." }),
        people: Type.Array(
          Type.Object(
            {
              user: Type.Optional(Type.String({ minLength: 1 })),
              email: Type.Optional(Type.String({ minLength: 3 })),
              role: literals(OPERATOR_ROLES, { description: 'The role this person has in the console.' }),
            },
            { additionalProperties: false },
          ),
          { default: [], description: 'People the proxy signs in, by user or email, and their roles. Someone not listed is refused.' },
        ),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false, default: {} },
);

export type ConsoleConfig = Static<typeof ConsoleConfigSchema>;
