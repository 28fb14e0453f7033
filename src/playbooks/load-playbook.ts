import type { ValidateFunction } from 'ajv';
import { PlaybookSchema, type PlaybookDoc, type StepDoc } from '../domain/playbook-schema.ts';
import { parseMatchers, type Matcher } from '../domain/matcher.ts';
import type { Playbook, Rung, Step, CompiledWhen } from '../domain/playbook.ts';
import { YamlSource, type SourceProblem } from '../schema/yaml-source.ts';
import { createAjv, pointedErrors, sourceProblems } from '../schema/validator.ts';
import { allowTemplates, type StepRegistry } from '../engine/step-registry.ts';
import { collectRefs, TEMPLATE_ROOTS } from '../engine/template.ts';
import { parseDuration } from '../domain/duration.ts';
import { retryBudgetMs } from '../engine/backoff.ts';
import { isRemediatorError } from '../domain/errors.ts';
import { isClusterScoped } from '../kube/kinds.ts';
import type { StepServices } from '../ports/step-services.ts';

export interface LoadContext {
  registry: StepRegistry;
  /** Services that are configured; a step that needs a missing one is refused. */
  available: ReadonlySet<keyof StepServices>;
}

export interface LoadResult {
  playbook?: Playbook;
  problems: SourceProblem[];
  /**
   * Why a valid playbook cannot run with this configuration (`"prometheus.query" needs prometheus, which is not
   * configured`), one line per missing service; empty when it can. Problems in the file itself come first: a
   * playbook is reported unservable only when it has no problem.
   */
  unservable: SourceProblem[];
}

const ajv = createAjv({ verbose: true });
const validateDoc = ajv.compile(PlaybookSchema);
const paramValidators = new WeakMap<object, ValidateFunction>();

const DEFAULT_ACTION_TIMEOUT = 60_000;
const DEFAULT_GATE = { intervalMs: 5_000, timeoutMs: 5 * 60_000, successes: 1 };
const DEFAULT_POLL_TIMEOUT = 10_000;

/**
 * Parses and checks one playbook file. Every problem is reported with file:line:column; nothing is thrown. A
 * playbook with any problem is not returned (the caller keeps the last good set).
 */
export function loadPlaybook(file: string, text: string, ctx: LoadContext): LoadResult {
  const source = new YamlSource(file, text);
  if (source.problems.length > 0) return { problems: source.problems, unservable: [] };
  const doc = source.value as PlaybookDoc;
  if (!validateDoc(doc)) return { problems: sourceProblems(source, validateDoc.errors), unservable: [] };

  const problems: SourceProblem[] = [];
  const unservable: SourceProblem[] = [];
  const at = (pointer: string, message: string) => problems.push({ ...source.locate(pointer), message });
  const unmet = (pointer: string, message: string) => unservable.push({ ...source.locate(pointer), message });
  const spec = doc.spec;

  if (!spec.steps === !spec.rungs) at('/spec', 'spec needs exactly one of "steps" (one rung) or "rungs" (a ladder)');
  const rungDocs = spec.rungs ?? (spec.steps ? [{ name: 'main', steps: spec.steps }] : []);
  const rungBase = spec.rungs ? '/spec/rungs' : '/spec';

  const triggers = spec.triggers.map((t, i) => ({
    status: t.status ?? 'firing',
    matchers: t.matchers.flatMap(
      (m, j) =>
        parseOr(
          () => parseMatchers(m),
          (msg) => at(`/spec/triggers/${i}/matchers/${j}`, msg),
        ) ?? [],
    ),
  }));

  const declaredParams = new Set(Object.keys(spec.params ?? {}));
  const seen = new Map<string, string>();
  const order: string[] = [];
  const rungs: Rung[] = [];
  rungDocs.forEach((r, ri) => {
    const steps: Step[] = [];
    r.steps.forEach((s, si) => {
      const ptr = spec.rungs ? `${rungBase}/${ri}/steps/${si}` : `/spec/steps/${si}`;
      if (seen.has(s.id)) at(`${ptr}/id`, `step id "${s.id}" is used twice (first at ${seen.get(s.id)})`);
      seen.set(s.id, ptr);
      const step = compileStep(s, ptr, order, declaredParams, ctx, at, unmet);
      order.push(s.id);
      if (step) steps.push(step);
    });
    rungs.push({ name: r.name, description: 'description' in r ? r.description : undefined, steps });
  });

  // onFailure jumps may only go forward, so a ladder cannot loop.
  rungDocs.forEach((r, ri) => {
    r.steps.forEach((s, si) => {
      const target = s.onFailure;
      if (!target || ['next-rung', 'abort', 'continue', 'escalate'].includes(target)) return;
      const ptr = spec.rungs ? `${rungBase}/${ri}/steps/${si}/onFailure` : `/spec/steps/${si}/onFailure`;
      const from = order.indexOf(s.id);
      const to = order.indexOf(target);
      if (to < 0) at(ptr, `onFailure names step "${target}", which does not exist`);
      else if (to <= from) at(ptr, `onFailure may only jump forward; "${target}" comes before "${s.id}"`);
    });
  });

  if (spec.target) {
    const kind = spec.target.kind ?? 'Deployment';
    if (spec.target.namespace === undefined && !isClusterScoped(kind))
      at('/spec/target/namespace', `a ${kind} lives in a namespace: spec.target.namespace is required`);
    if (spec.target.namespace !== undefined && isClusterScoped(kind))
      at('/spec/target/namespace', `a ${kind} is cluster-scoped: spec.target has no namespace`);
    for (const ref of parseOr(
      () => collectRefs(spec.target),
      (msg) => at('/spec/target', msg),
    ) ?? [])
      checkRef(ref.path, `/spec/target${ref.pointer}`, [], declaredParams, at);
  }

  if (problems.length > 0) return { problems, unservable: [] };
  const steps = rungs.flatMap((r) => r.steps);
  return {
    problems,
    unservable,
    playbook: {
      name: doc.metadata.name,
      description: doc.metadata.description,
      owner: doc.metadata.owner,
      runbookUrl: doc.metadata.runbookUrl,
      file,
      priority: spec.priority,
      stop: spec.stop,
      dryRun: spec.dryRun,
      triggers,
      target: spec.target ? { ...spec.target, kind: spec.target.kind ?? 'Deployment' } : undefined,
      params: spec.params ?? {},
      rungs,
      onExhausted: {
        escalate: spec.onExhausted?.escalate ?? true,
        level: spec.onExhausted?.level as Playbook['onExhausted']['level'],
        targets: spec.onExhausted?.targets,
      },
      onResolved: spec.onResolved,
      concurrency: spec.concurrency ?? 'wait',
      budget: spec.budget && {
        runs: spec.budget.runs,
        windowMs: spec.budget.window === undefined ? undefined : parseDuration(spec.budget.window),
        cooldownMs: spec.budget.cooldown === undefined ? undefined : parseDuration(spec.budget.cooldown),
      },
      gitops: spec.gitops ?? 'refuse',
      ...(spec.fleet
        ? {
            fleet: {
              by: spec.fleet.by ?? 'deployment',
              namespaceLabel: spec.fleet.namespaceLabel ?? 'namespace',
              min: spec.fleet.min ?? 2,
              windowMs: spec.fleet.window === undefined ? 120_000 : parseDuration(spec.fleet.window),
              holdMs: spec.fleet.hold === undefined ? 0 : parseDuration(spec.fleet.hold),
            },
          }
        : {}),
      mutating: steps.some((s) => s.mutating),
      doc,
    },
  };
}

function compileStep(
  s: StepDoc,
  ptr: string,
  earlier: readonly string[],
  declaredParams: ReadonlySet<string>,
  ctx: LoadContext,
  at: (pointer: string, message: string) => void,
  unmet: (pointer: string, message: string) => void,
): Step | undefined {
  const isGate = 'gate' in s;
  const uses = isGate ? s.gate : s.action;
  const def = ctx.registry.get(uses);
  const usesPtr = `${ptr}/${isGate ? 'gate' : 'action'}`;
  if (!def) {
    const known = ctx.registry
      .list()
      .filter((d) => d.kind === (isGate ? 'gate' : 'action'))
      .map((d) => d.name);
    at(usesPtr, `unknown ${isGate ? 'gate' : 'action'} "${uses}" (known: ${known.join(', ')})`);
    return undefined;
  }
  if (def.kind !== (isGate ? 'gate' : 'action')) {
    at(usesPtr, `"${uses}" is ${def.kind === 'gate' ? 'a gate: use "gate:"' : 'an action: use "action:"'}`);
    return undefined;
  }
  for (const need of def.needs ?? []) {
    if (!ctx.available.has(need)) unmet(usesPtr, `"${uses}" needs ${need}, which is not configured`);
  }

  const params = s.with ?? {};
  let validate = paramValidators.get(def.params);
  if (!validate) {
    validate = ajv.compile(allowTemplates(JSON.parse(JSON.stringify(def.params))) as object);
    paramValidators.set(def.params, validate);
  }
  const checked = structuredClone(params);
  if (!validate(checked)) {
    for (const p of pointedErrors(validate.errors, `${ptr}/with`)) at(p.key ? `${p.pointer}/${p.key}` : p.pointer, `${uses}: ${p.message}`);
  }
  for (const ref of parseOr(
    () => collectRefs(params),
    (msg) => at(`${ptr}/with`, msg),
  ) ?? [])
    checkRef(ref.path, `${ptr}/with${ref.pointer}`, earlier, declaredParams, at);

  let when: CompiledWhen | undefined;
  if (s.when) {
    when = { doc: s.when, dryRun: s.when.dryRun };
    if (s.when.steps) {
      when.steps = {};
      for (const [id, outcome] of Object.entries(s.when.steps)) {
        if (!earlier.includes(id)) at(`${ptr}/when/steps/${id}`, `when refers to step "${id}", which does not come earlier`);
        when.steps[id] = (Array.isArray(outcome) ? outcome : [outcome]) as Array<'succeeded' | 'failed' | 'skipped'>;
      }
    }
    if (s.when.alert) {
      when.alert = s.when.alert.flatMap(
        (m, i) =>
          parseOr(
            () => parseMatchers(m),
            (msg) => at(`${ptr}/when/alert/${i}`, msg),
          ) ?? [],
      ) as Matcher[];
    }
  }

  const retry = {
    attempts: isGate ? 1 : (s.retry?.attempts ?? 1),
    backoffMs: isGate ? 0 : parseDuration(s.retry?.backoff ?? '1s'),
    factor: isGate ? 1 : (s.retry?.factor ?? 2),
    maxBackoffMs: isGate ? 0 : parseDuration(s.retry?.maxBackoff ?? '1m'),
  };
  const base = {
    id: s.id,
    name: s.name,
    uses,
    definition: def,
    with: params,
    when,
    onFailure: s.onFailure ?? 'next-rung',
    deadlineExplicit: s.deadline !== undefined,
  };
  if (isGate) {
    const d = def.kind === 'gate' ? (def.defaults ?? {}) : {};
    const timeoutMs = s.timeout !== undefined ? parseDuration(s.timeout) : (d.timeoutMs ?? DEFAULT_GATE.timeoutMs);
    return {
      ...base,
      kind: 'gate',
      attemptTimeoutMs: s.pollTimeout !== undefined ? parseDuration(s.pollTimeout) : DEFAULT_POLL_TIMEOUT,
      deadlineMs: s.deadline !== undefined ? parseDuration(s.deadline) : timeoutMs,
      retry,
      gate: {
        intervalMs: s.interval !== undefined ? parseDuration(s.interval) : (d.intervalMs ?? DEFAULT_GATE.intervalMs),
        successes: s.successes ?? d.successes ?? DEFAULT_GATE.successes,
      },
      mutating: false,
    };
  }
  const attemptTimeoutMs = s.timeout !== undefined ? parseDuration(s.timeout) : DEFAULT_ACTION_TIMEOUT;
  const mutating = def.kind === 'action' && typeof def.mutates === 'function';
  return {
    ...base,
    kind: 'action',
    attemptTimeoutMs,
    deadlineMs: s.deadline !== undefined ? parseDuration(s.deadline) : retryBudgetMs(retry, attemptTimeoutMs),
    retry,
    approval: s.approval && s.approval.required !== false ? { timeoutMs: parseDuration(s.approval.timeout ?? '15m') } : undefined,
    mutating,
  };
}

function checkRef(
  path: string,
  pointer: string,
  earlier: readonly string[],
  declaredParams: ReadonlySet<string>,
  at: (pointer: string, message: string) => void,
): void {
  const [root, second] = path.split('.');
  if (!(TEMPLATE_ROOTS as readonly string[]).includes(root ?? '')) {
    at(pointer, `template refers to "${path}"; it must start with one of ${TEMPLATE_ROOTS.join(', ')}`);
  } else if (root === 'steps' && (!second || !earlier.includes(second))) {
    at(pointer, `template refers to step "${second ?? ''}", which does not come earlier in the playbook`);
  } else if (root === 'params' && (!second || !declaredParams.has(second))) {
    at(pointer, `template refers to params.${second ?? ''}, which spec.params does not declare`);
  }
}

function parseOr<T>(fn: () => T, report: (message: string) => void): T | undefined {
  try {
    return fn();
  } catch (err) {
    if (isRemediatorError(err)) report(err.message);
    else report(String(err));
    return undefined;
  }
}
