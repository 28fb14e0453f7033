import type { Logger } from 'pino';
import type { Cluster, KubeObject } from '../ports/cluster.ts';
import { withLinkedSignal } from '../domain/linked-signal.ts';
import type { RedisClient } from '../store/redis-connection.ts';
import type { Keys } from '../store/keys.ts';
import { storeCall } from '../store/store-call.ts';
import type { GitopsController } from './scope-policy.ts';

export interface GitopsSuspenderDeps {
  redis: RedisClient;
  keys: Keys;
  kube: Cluster;
  /** Where an Argo CD Application named only by its tracking label lives (guards.gitops.argocdNamespace). */
  argocdNamespace: string;
  fieldManager: string;
  /** Records a decision on the run (gitops_suspended / gitops_resumed). */
  recordDecision(runId: string, reason: 'gitops_suspended' | 'gitops_resumed', message: string): Promise<void>;
  /** Whether a run has ended (or no longer exists): its suspensions are then orphans the sweeper resumes. */
  runOver(runId: string): Promise<boolean>;
  log: Logger;
}

/** The Flux objects whose reconciliation `spec.suspend` pauses, as `flux suspend kustomization|helmrelease` does. */
type FluxKind = 'Kustomization' | 'HelmRelease';
type ControllerKind = 'Application' | FluxKind;

/** What a controller's sync was before the first run suspended it: what resuming puts back. */
type Saved = { kind: 'Application'; automated: unknown } | { kind: FluxKind; wasSuspended: boolean };

const CALL_TIMEOUT_MS = 10_000;

/**
 * `spec.gitops: suspend`: before a run's first change of an object a GitOps controller syncs, its auto-sync is paused
 * (an Argo CD Application's `spec.syncPolicy.automated` removed; a Flux Kustomization's or HelmRelease's
 * `spec.suspend: true` by merge patch, as `flux suspend ks|hr` writes it), and when the run ends it is put back as it
 * was (`spec.suspend: false`, as `flux resume` writes it). Recorded as `gitops_suspended` / `gitops_resumed` decisions.
 *
 * Several runs may hold one controller: Redis keeps the holders, and the setting from before the first one
 * (`gitopsSaved`, written before the patch, so a crash right after the patch still knows what to put back). The last
 * holder to leave restores it. A controller that was already manual (no `automated`, or already suspended) is left
 * as it was at the end. A run that crashed and was closed by the sweeper, or whose resume failed (API server away),
 * is resumed by `resumeOrphans`, which the stuck-run sweeper calls on each sweep.
 *
 * The record is written before the patch on purpose: a holder with nothing patched yet only makes resume write the
 * value the object already has, and the holder's next admitted change patches it.
 */
export class GitopsSuspender {
  readonly #d: GitopsSuspenderDeps;

  constructor(deps: GitopsSuspenderDeps) {
    this.#d = deps;
  }

  /**
   * Suspends the controller's sync for the run. Idempotent: a step retried finds it suspended and writes nothing. While
   * a suspension is held, a controller found syncing again (a crash between saving and patching, or a person turning
   * it back on) is suspended again.
   */
  async suspend(runId: string, controller: GitopsController, signal: AbortSignal): Promise<void> {
    const ref = this.#ref(controller);
    const key = controllerKey(ref);
    const { redis, keys } = this.#d;
    await storeCall(() => redis.sadd(keys.gitopsHolders(key), runId));
    await storeCall(() => redis.sadd(keys.gitopsRun(runId), key));
    await storeCall(() => redis.sadd(keys.gitopsSuspended(), key));
    const obj = await withLinkedSignal([signal], { timeoutMs: CALL_TIMEOUT_MS }, (bounded) => this.#d.kube.get(ref, { signal: bounded }));
    const spec = (obj as KubeObject & { spec?: { syncPolicy?: { automated?: unknown }; suspend?: unknown } }).spec ?? {};
    const now: Saved =
      ref.kind === 'Application'
        ? { kind: 'Application', automated: spec.syncPolicy?.automated ?? null }
        : { kind: ref.kind, wasSuspended: spec.suspend === true };
    // The first holder saves the setting from before; the others keep it (NX).
    const first = (await storeCall(() => redis.set(keys.gitopsSaved(key), JSON.stringify(now), 'NX'))) === 'OK';
    const raw = first ? JSON.stringify(now) : await storeCall(() => redis.get(keys.gitopsSaved(key)));
    const saved = raw === null ? now : (JSON.parse(raw) as Saved);
    const where = describe(ref);
    if (!syncing(saved)) {
      if (first)
        await this.#d.recordDecision(runId, 'gitops_suspended', `${where} does not sync automatically now; left as it is for the run`);
      return;
    }
    if (!syncing(now)) return;
    const body = ref.kind === 'Application' ? { spec: { syncPolicy: { automated: null } } } : { spec: { suspend: true } };
    await withLinkedSignal([signal], { timeoutMs: CALL_TIMEOUT_MS }, (bounded) =>
      this.#d.kube.patch(ref, { type: 'merge', body }, { signal: bounded, fieldManager: this.#d.fieldManager }),
    );
    await this.#d.recordDecision(
      runId,
      'gitops_suspended',
      ref.kind === 'Application'
        ? `suspended the automated sync of ${where} for the run (spec.syncPolicy.automated removed)`
        : `suspended ${where} for the run (spec.suspend: true)`,
    );
  }

  /**
   * Resumes what the run suspended (the last holder puts the controller back). Never throws: a failure is logged and
   * left for the sweeper's `resumeOrphans`, so closing a run never fails for it.
   */
  async resumeRun(runId: string): Promise<void> {
    const { redis, keys } = this.#d;
    try {
      const held = await storeCall(() => redis.smembers(keys.gitopsRun(runId)));
      for (const key of held) {
        await storeCall(() => redis.srem(keys.gitopsHolders(key), runId));
        await this.#releaseIfUnheld(key, runId);
        await storeCall(() => redis.srem(keys.gitopsRun(runId), key));
      }
    } catch (err) {
      this.#d.log.warn({ err, runId }, 'could not resume the GitOps sync this run suspended; the stuck-run sweeper tries again');
    }
  }

  /** Resumes the suspensions of runs that ended without resuming them (crash, failed resume). Returns how many controllers were put back. */
  async resumeOrphans(): Promise<number> {
    const { redis, keys } = this.#d;
    let resumed = 0;
    for (const key of await storeCall(() => redis.smembers(keys.gitopsSuspended()))) {
      try {
        const holders = await storeCall(() => redis.smembers(keys.gitopsHolders(key)));
        let last: string | undefined;
        for (const runId of holders) {
          if (!(await this.#d.runOver(runId))) continue;
          await storeCall(() => redis.srem(keys.gitopsHolders(key), runId));
          await storeCall(() => redis.srem(keys.gitopsRun(runId), key));
          last = runId;
        }
        if (await this.#releaseIfUnheld(key, last, 'the run that suspended it ended without resuming it')) resumed++;
      } catch (err) {
        this.#d.log.warn({ err, controller: key }, 'could not resume a suspended GitOps sync; trying again at the next sweep');
      }
    }
    return resumed;
  }

  /** With no holder left, puts the saved setting back and forgets it. True when it wrote. */
  async #releaseIfUnheld(key: string, runId: string | undefined, why?: string): Promise<boolean> {
    const { redis, keys } = this.#d;
    if ((await storeCall(() => redis.scard(keys.gitopsHolders(key)))) > 0) return false;
    const raw = await storeCall(() => redis.get(keys.gitopsSaved(key)));
    if (raw !== null) {
      const saved = JSON.parse(raw) as Saved;
      const ref = parseKey(key);
      const where = describe(ref);
      const body =
        saved.kind === 'Application'
          ? saved.automated === null
            ? undefined
            : { spec: { syncPolicy: { automated: saved.automated } } }
          : saved.wasSuspended
            ? undefined
            : { spec: { suspend: false } };
      if (body !== undefined) {
        await this.#d.kube.patch(
          ref,
          { type: 'merge', body },
          { signal: AbortSignal.timeout(CALL_TIMEOUT_MS), fieldManager: this.#d.fieldManager },
        );
        if (runId !== undefined) {
          const what = saved.kind === 'Application' ? `resumed the automated sync of ${where}` : `resumed ${where} (spec.suspend: false)`;
          await this.#d.recordDecision(runId, 'gitops_resumed', why ? `${what}: ${why}` : what);
        }
      }
      await storeCall(() => redis.del(keys.gitopsSaved(key)));
    }
    await storeCall(() => redis.srem(keys.gitopsSuspended(), key));
    return raw !== null;
  }

  #ref(c: GitopsController): { kind: ControllerKind; namespace: string; name: string } {
    return { kind: c.kind, namespace: c.namespace ?? this.#d.argocdNamespace, name: c.name };
  }
}

/** Whether the setting syncs automatically. */
function syncing(saved: Saved): boolean {
  return saved.kind === 'Application' ? saved.automated !== null : !saved.wasSuspended;
}

function controllerKey(ref: { kind: string; namespace: string; name: string }): string {
  return `${ref.kind}/${ref.namespace}/${ref.name}`;
}

function parseKey(key: string): { kind: ControllerKind; namespace: string; name: string } {
  const [kind, namespace, name] = key.split('/') as [ControllerKind, string, string];
  return { kind, namespace, name };
}

function describe(ref: { kind: string; namespace: string; name: string }): string {
  return ref.kind === 'Application' ? `Argo CD Application ${ref.namespace}/${ref.name}` : `Flux ${ref.kind} ${ref.namespace}/${ref.name}`;
}
