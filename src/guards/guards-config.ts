import { Type, type Static } from '@sinclair/typebox';
import { Duration, parseDuration } from '../domain/duration.ts';
import type { BudgetLimits } from './budget-policy.ts';
import type { StormSettings } from './storm-policy.ts';
import type { ScopeConfig } from './scope-policy.ts';
import { compileWindows, MaintenanceWindowSchema, type MaintenanceWindow } from './maintenance-policy.ts';

/**
 * The `guards` section of the configuration: the safety layer in front of every mutating step. Every key has a
 * default, so an empty section gives the documented behaviour. Durations of `0` turn the matching check off.
 */
const Lock = Type.Object(
  {
    ttl: Duration({
      default: '15m',
      description:
        "How long a per-target lock lives without being renewed. Renewed at each admitted mutation; a crashed worker's lock expires after this. Keep it above the longest gap between two mutations of one run.",
    }),
    retryAfter: Duration({
      default: '5s',
      description:
        'When a target is locked by another run and the playbook waits (spec.concurrency: wait), how long before the step asks again. The release of the lock wakes waiting runs at once; this is for a holder that stopped without releasing (its lock expires after lock.ttl).',
    }),
  },
  { additionalProperties: false, default: {} },
);

const Budget = Type.Object(
  {
    runs: Type.Integer({
      minimum: 1,
      default: 3,
      description:
        'Mutating runs allowed per target and playbook within `window` (a run counts once, at its first admitted mutation; the target is the spec.target of the playbook, however many objects its rungs touch, or each object for a playbook without one). Beyond it a run does not act and a human is paged once per window. A playbook may override it (spec.budget).',
    }),
    window: Duration({
      default: '1h',
      description:
        'The sliding window of the budget; also how long a page for an exhausted budget or an ineffective fix suppresses further pages for the same target and playbook.',
    }),
    cooldown: Duration({
      default: 0,
      description:
        'Least time between the starts of two mutating runs on one target (any playbook); 0 turns it off. A playbook may override it (spec.budget.cooldown).',
    }),
  },
  { additionalProperties: false, default: {} },
);

const Ineffective = Type.Object(
  {
    window: Duration({
      default: '30m',
      description:
        'A run of the same playbook for the same target starting this soon after a successful one means that fix did not hold: the new run starts one rung higher, or escalates when there is none. 0 turns it off.',
    }),
  },
  { additionalProperties: false, default: {} },
);

const Storm = Type.Object(
  {
    targets: Type.Integer({
      minimum: 1,
      default: 5,
      description:
        'When more than this many distinct targets needed an automatic mutation within `window`, automatic mutations pause fleet-wide (many services failing at once is infrastructure, not the services) and one page goes out. Manual runs still work.',
    }),
    window: Duration({ default: '10m', description: 'The sliding window the storm breaker counts distinct targets in.' }),
    pauseFor: Duration({
      default: 0,
      description: 'How long a storm pause lasts by itself; 0 = until an operator lifts it (DELETE /v1/pause).',
    }),
  },
  { additionalProperties: false, default: {} },
);

const Scope = Type.Object(
  {
    namespaces: Type.Array(Type.String({ minLength: 1 }), {
      default: [],
      description: 'Namespaces remediator may change; empty = every namespace not excluded.',
    }),
    excludeNamespaces: Type.Array(Type.String({ minLength: 1 }), {
      default: ['kube-system', 'kube-public', 'kube-node-lease'],
      description: 'Namespaces remediator never changes, whatever `namespaces` says.',
    }),
    kinds: Type.Array(Type.String({ minLength: 1 }), {
      default: [],
      description: 'Kinds remediator may change (e.g. Deployment, ConfigMap); empty = every kind an action can change.',
    }),
  },
  { additionalProperties: false, default: {} },
);

const Gitops = Type.Object(
  {
    argocdNamespace: Type.String({
      minLength: 1,
      default: 'argocd',
      description:
        'Where Argo CD Applications live when an object names its Application without a namespace (label tracking, or a tracking-id without `<namespace>_`): the Application spec.gitops: suspend pauses.',
    }),
  },
  { additionalProperties: false, default: {} },
);

export const GuardsConfigSchema = Type.Object(
  {
    enabled: Type.Boolean({
      default: true,
      description:
        'The safety guards (locks, budgets, ineffectiveness, storm breaker, scope, maintenance, pauses). Turn off only for tests of the bare engine.',
    }),
    lock: Lock,
    budget: Budget,
    ineffective: Ineffective,
    storm: Storm,
    scope: Scope,
    gitops: Gitops,
    maintenance: Type.Array(MaintenanceWindowSchema, {
      default: [],
      description:
        'Windows in which automatic mutations are suppressed (manual runs are not): [{name, cron, duration, timezone?, namespaces?, playbooks?}].',
    }),
  },
  {
    additionalProperties: false,
    default: {},
    description:
      'Safety guards in front of every mutating step, applied in this order: pauses, maintenance windows, scope, ineffectiveness, storm breaker, budget and cooldown, per-target lock.',
  },
);

export type GuardsConfig = Static<typeof GuardsConfigSchema>;

/** The guards section resolved once at start-up: durations in ms, crons checked. */
export interface GuardSettings {
  lockTtlMs: number;
  lockRetryMs: number;
  budget: BudgetLimits;
  ineffectiveWindowMs: number;
  storm: StormSettings;
  scope: ScopeConfig;
  maintenance: MaintenanceWindow[];
}

export function guardSettings(c: GuardsConfig): GuardSettings {
  return {
    lockTtlMs: parseDuration(c.lock.ttl),
    lockRetryMs: parseDuration(c.lock.retryAfter),
    budget: { runs: c.budget.runs, windowMs: parseDuration(c.budget.window), cooldownMs: parseDuration(c.budget.cooldown) },
    ineffectiveWindowMs: parseDuration(c.ineffective.window),
    storm: { targets: c.storm.targets, windowMs: parseDuration(c.storm.window), pauseForMs: parseDuration(c.storm.pauseFor) },
    scope: c.scope,
    maintenance: compileWindows(c.maintenance),
  };
}
