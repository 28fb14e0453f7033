import { Type, type Static } from '@sinclair/typebox';
import { Duration, parseDuration } from '../domain/duration.ts';
import { Level, LEVELS } from './incident.ts';

/**
 * Which level an alert is, and what each level does. The defaults are the incident-response process's levels:
 *
 * | level | meaning                     | response          | resolution | what happens            |
 * |-------|-----------------------------|-------------------|------------|-------------------------|
 * | P0    | core service fully down     | 5 min             | 1 h        | page at once + Slack    |
 * | P1    | core function badly impaired| 15 min            | 4 h        | page                    |
 * | P2    | part of a function affected | 30 min            | 24 h       | Slack only              |
 * | P3    | no core impact              | business hours    | 1 week     | record only             |
 *
 * P0 also tells the business owner within 5 minutes (the runbook's notification list): a default notify tier, at the
 * level's response time, to the target named `business-owner` (DEFAULT_TIERS). Until such a target is configured it
 * is skipped, and each skip is recorded (`response_tier_skipped`) so the gap shows on the incident.
 */

const LevelAction = Type.Object(
  {
    page: Type.Optional(
      Type.Boolean({
        description: 'Send to every paging target (pagerduty, opsgenie, and targets with role "page"). Default per level: P0, P1 true.',
      }),
    ),
    notify: Type.Optional(
      Type.Boolean({
        description: 'Send to every notify target (slack, webhook, and targets with role "notify"). Default per level: P0, P2 true.',
      }),
    ),
    targets: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), { description: 'Exactly these target names instead of page/notify.' }),
    ),
    response: Type.Optional(
      Type.Union([Duration(), Type.Literal('business-hours')], {
        description: 'Time to first human response. Defaults: 5m, 15m, 30m, business-hours.',
      }),
    ),
    resolution: Type.Optional(
      Duration({ description: 'Time by which the incident must be resolved; a run outliving it is escalated. Defaults: 1h, 4h, 24h, 7d.' }),
    ),
    tiers: Type.Optional(
      Type.Array(
        Type.Object(
          {
            targets: Type.Array(Type.String({ minLength: 1 }), { minItems: 1, description: 'Target names this tier pages (or notifies).' }),
            after: Type.Optional(
              Duration({
                description:
                  "Time after the incident was opened at which this tier goes. Default: the level's response time times the tier's position (1st tier: 1×, 2nd: 2×, …).",
              }),
            ),
            notify: Type.Optional(
              Type.Boolean({
                description:
                  'A notify tier goes at its time whether or not someone acknowledged (e.g. the business owner of a P0 within 5m); a paging tier (default) goes only when nobody has.',
              }),
            ),
          },
          { additionalProperties: false },
        ),
        {
          description:
            "Response-time escalation: the page goes first to the level's targets; each tier whose time comes while the incident is still open (and, for paging tiers, not acknowledged in PagerDuty/Opsgenie) is sent to its targets and recorded as a `response_escalated` decision. Timed by delayed jobs in Redis, so a restart loses none. A tier naming a target that is not configured is refused at startup. Default: none, except P0: [{ targets: [business-owner], notify: true }], at the P0 response time (5m: the business owner is told within 5 minutes of a P0); configure a target named business-owner for it to reach them. While none is, that default tier is skipped and recorded as `response_tier_skipped`. Setting tiers replaces the default ([] turns it off). Example for P0: [{ targets: [business-owner], after: 5m, notify: true }, { targets: [tech-lead-pager], after: 5m }, { targets: [head-of-eng], after: 15m }].",
        },
      ),
    ),
    updateEvery: Type.Optional(
      Type.Union([Duration(), Type.Literal('never')], {
        description:
          'War-room cadence: while the incident is open, a status update (what was tried ✓/✗, next step, ETA) goes to its open targets this often. Default 15m for P0 and P1, never for P2 and P3.',
      }),
    ),
    overdue: Type.Optional(
      Type.Union([Type.Literal('continue'), Type.Literal('stop')], {
        description:
          "What a run still working past its level's resolution time does after it pages (once): `continue` (default) keeps trying, its further rungs become notes on the incident and a verified fix resolves it; `stop` cancels the run and leaves the incident to people.",
      }),
    ),
  },
  { additionalProperties: false },
);

export const SeverityPolicyConfig = Type.Object(
  {
    rules: Type.Optional(
      Type.Array(
        Type.Object(
          {
            match: Type.Record(Type.String(), Type.String(), { description: 'Alert labels that must all be equal to these values.' }),
            level: Level,
          },
          { additionalProperties: false },
        ),
        {
          description:
            'First matching rule wins. Default: severity=critical → P0, priority=P0..P3 → that level, severity=error|major → P1, severity=warning → P2, severity=info → P3.',
        },
      ),
    ),
    defaultLevel: Type.Optional(
      Type.Union(
        LEVELS.map((l) => Type.Literal(l)),
        { description: 'Level when no rule matches. Default P2.' },
      ),
    ),
    levels: Type.Optional(
      Type.Object(
        { P0: Type.Optional(LevelAction), P1: Type.Optional(LevelAction), P2: Type.Optional(LevelAction), P3: Type.Optional(LevelAction) },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type SeverityPolicyConfig = Static<typeof SeverityPolicyConfig>;

export interface LevelPolicy {
  page: boolean;
  notify: boolean;
  targets?: string[];
  /** Milliseconds, or null for "within business hours". */
  responseMs: number | null;
  resolutionMs: number;
  /** After a run outlived `resolutionMs` and paged: keep remediating, or stop and leave it to people. */
  overdue: 'continue' | 'stop';
  /** Response-time tiers with `after` resolved to milliseconds after the incident opened. */
  tiers: ResponseTier[];
  /** War-room update interval in milliseconds, or null for none. */
  updateEveryMs: number | null;
}

export interface ResponseTier {
  targets: string[];
  afterMs: number;
  notify: boolean;
  /**
   * A default tier (not configured by the user): when its targets are not configured it is skipped, and the skip is
   * recorded, instead of refusing the config at startup.
   */
  byDefault?: boolean;
}

/** The target name the default P0 notify tier tells: the business owner, within 5 minutes. */
export const BUSINESS_OWNER_TARGET = 'business-owner';

/**
 * The default tiers of a level with no `tiers` configured, as config: P0's business owner is told at the level's
 * response time (5 minutes by default, the runbook's "business owner within 5 minutes"), acknowledged or not.
 */
const DEFAULT_TIERS: Readonly<Partial<Record<Level, ReadonlyArray<{ targets: string[]; notify: boolean }>>>> = {
  P0: [{ targets: [BUSINESS_OWNER_TARGET], notify: true }],
};

export const DEFAULT_RULES: ReadonlyArray<{ match: Record<string, string>; level: Level }> = [
  { match: { severity: 'critical' }, level: 'P0' },
  ...LEVELS.map((l) => ({ match: { priority: l }, level: l })),
  { match: { severity: 'error' }, level: 'P1' },
  { match: { severity: 'major' }, level: 'P1' },
  { match: { severity: 'warning' }, level: 'P2' },
  { match: { severity: 'info' }, level: 'P3' },
];

export const DEFAULT_LEVELS: Readonly<Record<Level, LevelPolicy>> = {
  P0: {
    page: true,
    notify: true,
    responseMs: 5 * 60_000,
    resolutionMs: 3_600_000,
    overdue: 'continue',
    tiers: [],
    updateEveryMs: 15 * 60_000,
  },
  P1: {
    page: true,
    notify: false,
    responseMs: 15 * 60_000,
    resolutionMs: 4 * 3_600_000,
    overdue: 'continue',
    tiers: [],
    updateEveryMs: 15 * 60_000,
  },
  P2: {
    page: false,
    notify: true,
    responseMs: 30 * 60_000,
    resolutionMs: 24 * 3_600_000,
    overdue: 'continue',
    tiers: [],
    updateEveryMs: null,
  },
  P3: {
    page: false,
    notify: false,
    responseMs: null,
    resolutionMs: 7 * 24 * 3_600_000,
    overdue: 'continue',
    tiers: [],
    updateEveryMs: null,
  },
};

/** Level → PagerDuty severity; also the tag Slack shows (`[CRITICAL]`). */
export const LEVEL_SEVERITY: Readonly<Record<Level, 'critical' | 'error' | 'warning' | 'info'>> = {
  P0: 'critical',
  P1: 'error',
  P2: 'warning',
  P3: 'info',
};

/** Level → Opsgenie priority (P5 is left for informational alerts nobody escalates). */
export const LEVEL_OPSGENIE_PRIORITY: Readonly<Record<Level, 'P1' | 'P2' | 'P3' | 'P4'>> = { P0: 'P1', P1: 'P2', P2: 'P3', P3: 'P4' };

export class SeverityPolicy {
  readonly rules: ReadonlyArray<{ match: Record<string, string>; level: Level }>;
  readonly defaultLevel: Level;
  readonly #levels: Record<Level, LevelPolicy>;

  constructor(config: SeverityPolicyConfig = {}) {
    this.rules = config.rules ?? DEFAULT_RULES;
    this.defaultLevel = config.defaultLevel ?? 'P2';
    const levels = {} as Record<Level, LevelPolicy>;
    for (const l of LEVELS) {
      const c = config.levels?.[l];
      const d = DEFAULT_LEVELS[l];
      const responseMs = c?.response === undefined ? d.responseMs : c.response === 'business-hours' ? null : parseDuration(c.response);
      levels[l] = {
        page: c?.page ?? d.page,
        notify: c?.notify ?? d.notify,
        ...(c?.targets ? { targets: [...c.targets] } : {}),
        responseMs,
        tiers: c?.tiers
          ? c.tiers.map((t, i) => ({
              targets: [...t.targets],
              // Business hours have no fixed length: such a level's tiers need an explicit `after` (else 1 h per position).
              afterMs: t.after !== undefined ? parseDuration(t.after) : (responseMs ?? 3_600_000) * (i + 1),
              notify: t.notify ?? false,
            }))
          : (DEFAULT_TIERS[l] ?? []).map((t, i) => ({
              targets: [...t.targets],
              afterMs: (responseMs ?? 3_600_000) * (i + 1),
              notify: t.notify,
              byDefault: true,
            })),
        updateEveryMs: c?.updateEvery === undefined ? d.updateEveryMs : c.updateEvery === 'never' ? null : parseDuration(c.updateEvery),
        resolutionMs: c?.resolution === undefined ? d.resolutionMs : parseDuration(c.resolution),
        overdue: c?.overdue ?? d.overdue,
      };
    }
    this.#levels = levels;
  }

  /** The level of an alert: the first rule whose `match` labels all equal the alert's, else the default. */
  levelFor(labels: Readonly<Record<string, string>>): Level {
    for (const rule of this.rules) {
      if (Object.entries(rule.match).every(([k, v]) => labels[k] === v)) return rule.level;
    }
    return this.defaultLevel;
  }

  forLevel(level: Level): LevelPolicy {
    return this.#levels[level];
  }

  /** Milliseconds a run of this level may take before it must be escalated (P0: 1h … P3: 1 week by default). */
  resolutionDeadline(level: Level): number {
    return this.#levels[level].resolutionMs;
  }

  /** Milliseconds within which a human must respond, or null for "within business hours" (P3 by default). */
  responseTime(level: Level): number | null {
    return this.#levels[level].responseMs;
  }
}

const DEFAULT_POLICY = new SeverityPolicy();

/**
 * Milliseconds a run of `level` may take before the engine escalates it. Without a policy, the process's defaults
 * (P0 1h, P1 4h, P2 24h, P3 1 week).
 */
export function resolutionDeadline(level: Level, policy: SeverityPolicy = DEFAULT_POLICY): number {
  return policy.resolutionDeadline(level);
}
