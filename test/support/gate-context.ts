import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { AlertView, GateContext, GateDefinition, Observation } from '../../src/engine/step-definition.ts';
import type { StepServices } from '../../src/ports/step-services.ts';
import type { HttpClient } from '../../src/ports/http-client.ts';
import { AxiosHttpClient } from '../../src/http-client/axios-http-client.ts';
import { ManualClock, type Clock } from '../../src/ports/clock.ts';
import { silentLogger } from '../../src/observability/logger.ts';

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
const ajv = addFormats(new Ajv({ allErrors: true, useDefaults: true, strict: false, allowUnionTypes: true }));

/**
 * Calls a gate's `check` the way the engine does for one poll: params checked against the gate's schema first
 * (Ajv with defaults applied, as at load; a test with params the schema refuses fails loudly), real HTTP client, state handed in from the last poll.
 */
export async function checkGate<P>(
  gate: GateDefinition<any>,
  params: P,
  options: {
    services?: Partial<StepServices>;
    alert?: Partial<AlertView>;
    state?: unknown;
    clock?: Clock;
    http?: HttpClient;
    signal?: AbortSignal;
  } = {},
): Promise<Observation> {
  const checked = structuredClone(params);
  const validate = ajv.compile(gate.params);
  if (!validate(checked)) throw new Error(`params refused by ${gate.name}: ${ajv.errorsText(validate.errors)}`);
  const ctx: GateContext<P> = {
    params: checked,
    run: {
      id: 'run-test',
      playbook: 'test',
      dryRun: false,
      manual: false,
      alert: {
        status: 'firing',
        labels: {},
        annotations: {},
        startsAt: '2026-01-01T00:00:00Z',
        fingerprint: '0000000000000000',
        ...options.alert,
      },
    },
    step: { id: 'verify', attempt: 1, rung: 'main' },
    state: options.state,
    outputs: {},
    changes: [],
    signal: options.signal ?? AbortSignal.timeout(30_000),
    log: silentLogger(),
    clock: options.clock ?? new ManualClock(),
    http: options.http ?? new AxiosHttpClient(),
    services: { limits: { maxReplicas: 10, applyKinds: [], manifestsDir: '.', fieldManager: 'remediator' }, ...options.services },
  };
  return gate.check(ctx);
}

/** Polls like the engine would, `state` carried over (kept when a poll returns none), until `want` or `timeoutMs`; returns every observation. */
export async function pollGate<P>(
  gate: GateDefinition<any>,
  params: P,
  want: (o: Observation) => boolean,
  options: Parameters<typeof checkGate>[2] & { intervalMs?: number; timeoutMs?: number } = {},
): Promise<Observation[]> {
  const seen: Observation[] = [];
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  let state = options.state;
  for (;;) {
    const o = await checkGate(gate, params, { ...options, state });
    seen.push(o);
    if (o.state !== undefined) state = o.state; // as the engine does: no state means keep the last one
    if (want(o) || Date.now() > deadline) return seen;
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 50));
  }
}
