import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type {
  ActionDefinition,
  ActionResult,
  AlertView,
  RecordedChange,
  RunInfo,
  StepContextBase,
} from '../../src/engine/step-definition.ts';
import type { StepLimits, StepServices } from '../../src/ports/step-services.ts';
import { AxiosHttpClient } from '../../src/http-client/axios-http-client.ts';
import { systemClock, type Clock } from '../../src/ports/clock.ts';
import { silentLogger, type Logger } from '../../src/observability/logger.ts';

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
const ajv = addFormats(new Ajv({ allErrors: true, useDefaults: true, strict: false, allowUnionTypes: true }));

export interface StepContextOptions {
  services?: Partial<StepServices>;
  limits?: Partial<StepLimits>;
  run?: Partial<Omit<RunInfo, 'alert'>> & { alert?: Partial<AlertView> };
  step?: Partial<StepContextBase<unknown>['step']>;
  state?: unknown;
  outputs?: Record<string, unknown>;
  changes?: RecordedChange[];
  signal?: AbortSignal;
  clock?: Clock;
  log?: Logger;
  /** The guard layer's answer for an `admission: 'each'` action (default: no guard, as in bare engine tests). */
  admit?: StepContextBase<unknown>['admit'];
  recordDecision?: StepContextBase<unknown>['recordDecision'];
}

export const defaultLimits: StepLimits = {
  maxReplicas: 10,
  applyKinds: ['ConfigMap', 'NetworkPolicy'],
  manifestsDir: '.',
  fieldManager: 'remediator',
};

/** A StepContextBase as the engine builds it for one attempt: real HTTP client, system clock, silent logger. */
export function stepContext<P>(params: P, o: StepContextOptions = {}): StepContextBase<P> {
  const { alert, ...run } = o.run ?? {};
  return {
    params,
    run: {
      id: 'run-test',
      playbook: 'test',
      dryRun: false,
      manual: false,
      ...run,
      alert: {
        status: 'firing',
        labels: { alertname: 'ServiceDown' },
        annotations: {},
        startsAt: '2026-01-01T00:00:00Z',
        fingerprint: '0000000000000000',
        ...alert,
      },
    },
    step: { id: 'step-1', attempt: 1, rung: 'main', ...o.step },
    state: o.state,
    outputs: o.outputs ?? {},
    changes: o.changes ?? [],
    signal: o.signal ?? AbortSignal.timeout(30_000),
    log: o.log ?? silentLogger(),
    clock: o.clock ?? systemClock,
    http: new AxiosHttpClient(),
    services: { ...o.services, limits: { ...defaultLimits, ...o.limits } },
    ...(o.admit ? { admit: o.admit } : {}),
    ...(o.recordDecision ? { recordDecision: o.recordDecision } : {}),
  };
}

/** Checks params against the definition's schema (defaults applied, as at playbook load); throws when refused. */
export function checkParams<P>(def: { name: string; params: unknown }, params: P): P {
  const checked = structuredClone(params);
  const validate = ajv.compile(def.params as object);
  if (!validate(checked)) throw new Error(`params refused by ${def.name}: ${ajv.errorsText(validate.errors)}`);
  return checked;
}

/** Runs an action the way the engine does for one attempt: params validated first, then `run`. */
export async function runAction<P>(action: ActionDefinition<any>, params: P, o: StepContextOptions = {}): Promise<ActionResult> {
  return action.run(stepContext(checkParams(action, params), o));
}
