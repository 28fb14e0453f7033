import { setTimeout as sleep } from 'node:timers/promises';
import { RemediatorError } from '../domain/errors.ts';
import type { RecordedChange, StepContextBase } from '../engine/step-definition.ts';
import type { Cluster, KubeObject, WriteOptions } from '../ports/cluster.ts';
import { apiVersionOf, isClusterScoped, type KnownKind } from './kinds.ts';

/**
 * Small helpers every kube action shares: the Cluster from the step's services, the options of a write (dry run,
 * field manager), conflict retries and the Event a mutation leaves on its object.
 */
type Ctx = StepContextBase<unknown>;

export function kubeOf(ctx: Pick<Ctx, 'services'>): Cluster {
  const kube = ctx.services.kube;
  if (kube === undefined) throw new RemediatorError('REM_ERR_DEPENDENCY_MISSING', 'this step needs Kubernetes, which is not configured');
  return kube;
}

/** Every write of a step: its signal, `dryRun=All` when the run is a dry run, the configured field manager. */
export function writeOptions(ctx: Pick<Ctx, 'signal' | 'run' | 'services'>): WriteOptions {
  return { signal: ctx.signal, dryRun: ctx.run.dryRun, fieldManager: ctx.services.limits.fieldManager };
}

export function precondition(message: string, details?: Record<string, unknown>): RemediatorError {
  return new RemediatorError('REM_ERR_KUBE_PRECONDITION', message, details === undefined ? {} : { details });
}

export interface ConflictRetryOptions {
  /** Attempts in all, the first included. Default 5 (client-go's `retry.DefaultRetry`). */
  attempts?: number;
  /** Pause between attempts. Default 10 ms, like client-go; the re-read is what matters, not the wait. */
  delayMs?: number;
}

/**
 * Runs a read-modify-write until it does not hit a resourceVersion conflict, at most `attempts` times; `fn` must
 * re-read the object on each call. Other errors, and the last conflict, are thrown as they are.
 */
export async function retryOnConflict<T>(
  ctx: Pick<Ctx, 'signal' | 'log'>,
  fn: (attempt: number) => Promise<T>,
  options: ConflictRetryOptions = {},
): Promise<T> {
  const attempts = options.attempts ?? 5;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (!(err instanceof RemediatorError) || err.code !== 'REM_ERR_KUBE_CONFLICT' || attempt >= attempts) throw err;
      ctx.log.debug({ attempt, err: err.message }, 'conflict, re-reading');
      await sleep(options.delayMs ?? 10, undefined, { signal: ctx.signal });
    }
  }
}

/** `remediator restarted deployment phone-gateway: ServiceDown, run 01J…` */
export function eventMessage(ctx: Pick<Ctx, 'run'>, phrase: string): string {
  const alert = ctx.run.alert.labels.alertname ?? (ctx.run.manual ? 'manual run' : 'alert');
  return `remediator ${phrase}: ${alert}, run ${ctx.run.id}`;
}

/** Where Events about cluster-scoped objects (Nodes) go, as kubelet and `kubectl cordon` leave them. */
const CLUSTER_EVENTS_NAMESPACE = 'default';

/**
 * Records a Kubernetes Event on the object a mutation changed (`reason: Remediator<Action>`, source component
 * `remediator`), so `kubectl describe` shows who touched it and why. Never in a dry run. Failures are logged and
 * swallowed: the mutation already happened, and its result matters more than its Event. A cluster-scoped object's
 * Event lives in namespace `default` and its involvedObject has no namespace.
 */
export async function recordEvent(
  ctx: Pick<Ctx, 'run' | 'services' | 'signal' | 'log'>,
  obj: KubeObject,
  kind: KnownKind,
  reason: string,
  phrase: string,
): Promise<void> {
  if (ctx.run.dryRun) return;
  const clusterScoped = isClusterScoped(kind);
  const namespace = clusterScoped ? CLUSTER_EVENTS_NAMESPACE : (obj.metadata.namespace ?? '');
  try {
    await kubeOf(ctx).createEvent(
      {
        namespace,
        involvedObject: {
          apiVersion: apiVersionOf(kind),
          kind,
          name: obj.metadata.name,
          ...(clusterScoped ? {} : { namespace }),
          ...(obj.metadata.uid === undefined ? {} : { uid: obj.metadata.uid }),
          ...(obj.metadata.resourceVersion === undefined ? {} : { resourceVersion: obj.metadata.resourceVersion }),
        },
        reason,
        message: eventMessage(ctx, phrase),
      },
      { signal: ctx.signal, fieldManager: ctx.services.limits.fieldManager },
    );
  } catch (err) {
    ctx.log.warn(
      { err, reason, object: clusterScoped ? `${kind}/${obj.metadata.name}` : `${namespace}/${kind}/${obj.metadata.name}` },
      'could not record the Kubernetes Event',
    );
  }
}

/**
 * A RecordedChange that also names the step that made it (`kube.restore {step}` reverts one step's changes).
 * RecordedChange has no step field of its own; the extra field travels with it in the run record.
 */
export function stepChange(ctx: Pick<Ctx, 'step'>, change: RecordedChange): RecordedChange & { step: string } {
  return { ...change, step: ctx.step.id };
}
