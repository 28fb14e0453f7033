import type { Cluster } from '../ports/cluster.ts';
import { describePermission } from './preflight.ts';
import { preflightSteps, type DeniedStep, type StepPermission } from './step-preflight.ts';

/** One entry of /readyz: whether it is fine, whether readiness depends on it, and what to show. */
export interface ReadinessCheckResult {
  ok: boolean;
  /** False: shown as detail only; the instance stays ready whatever `ok` says. Default true. */
  required?: boolean;
  detail?: unknown;
}

export interface KubeReadinessOptions {
  /** How long an answer is reused after the API server answered (readiness probes are frequent). Default 60 s. */
  ttlMs?: number;
  /** How long "unreachable" is reused before the API server is asked again. Default 5 s. */
  failureTtlMs?: number;
  /** Time limit of one round of SelfSubjectAccessReviews. Default 10 s. */
  timeoutMs?: number;
  /**
   * How long /readyz waits for a round in flight before answering with the last known state: a probe must not hang
   * on an API server that does not answer. Default 1 s.
   */
  waitMs?: number;
  now?: () => number;
  /**
   * Told the outcome of every round that reached the API server (the steps that could not act, none when all
   * granted), or `undefined` when it could not be asked: the composition root logs it and sets the
   * `remediator_preflight_denied` gauge.
   */
  onRound?(denied: readonly DeniedStep[] | undefined, error?: Error): void;
  /** Steps whose permissions cannot be known before an alert (src/kube/playbook-permissions.ts), shown as `unchecked`. */
  unchecked?(): ReadonlyArray<{ playbook: string; step: string; why: string }>;
}

/**
 * The Kubernetes part of /readyz: is the API server reachable, and may remediator's identity do everything the loaded
 * playbooks need (one SelfSubjectAccessReview per distinct permission, src/kube/preflight.ts). It is detail, never a
 * reason to be unready (`required: false`): a receiver without the API server still receives and records alerts, and
 * a missing RBAC rule should be seen before an incident without taking the webhook away during one.
 */
export function kubeReadinessDetail(
  kube: Cluster,
  needed: () => readonly StepPermission[],
  options: KubeReadinessOptions = {},
): () => Promise<ReadinessCheckResult> {
  const ttlMs = options.ttlMs ?? 60_000;
  const failureTtlMs = options.failureTtlMs ?? 5_000;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const waitMs = options.waitMs ?? 1_000;
  const now = options.now ?? Date.now;
  let last: { at: number; value: ReadinessCheckResult } | undefined;
  let inFlight: Promise<ReadinessCheckResult> | undefined;

  const round = async (): Promise<ReadinessCheckResult> => {
    const checks = needed();
    const server = kube.description;
    try {
      const denied = await preflightSteps(kube, checks, AbortSignal.timeout(timeoutMs));
      options.onRound?.(denied);
      const missing = [...new Set(denied.map((d) => d.permission))];
      return {
        ok: denied.length === 0,
        required: false,
        detail: {
          server,
          reachable: checks.length > 0 ? true : 'not asked (no playbook needs a permission)',
          checked: new Set(checks.map((c) => describePermission(c))).size,
          missing,
          allGranted: denied.length === 0,
          // Every step that could not act, by playbook: what an incident would meet.
          denied: denied.map((d) => ({
            playbook: d.playbook,
            step: d.step,
            permission: d.permission,
            ...(d.reason ? { reason: d.reason } : {}),
          })),
          unchecked: options.unchecked?.() ?? [],
        },
      };
    } catch (err) {
      options.onRound?.(undefined, err as Error);
      return {
        ok: false,
        required: false,
        detail: { server, reachable: false, error: (err as Error).message, checked: 0, missing: [], allGranted: 'unknown', denied: [] },
      };
    }
  };

  return async () => {
    const fresh = last && now() - last.at < ((last.value.detail as { reachable?: unknown }).reachable === false ? failureTtlMs : ttlMs);
    if (fresh) return last!.value;
    inFlight ??= round().then((value) => {
      last = { at: now(), value };
      inFlight = undefined;
      return value;
    });
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), waitMs)));
    const value = await Promise.race([inFlight, waited]).finally(() => clearTimeout(timer));
    return (
      value ??
      last?.value ?? {
        ok: false,
        required: false,
        detail: { server: kube.description, reachable: 'unknown', checking: `no answer within ${waitMs} ms yet` },
      }
    );
  };
}
