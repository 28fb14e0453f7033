import { Type } from '@sinclair/typebox';
import { defineGate } from '../engine/step-definition.ts';
import { RemediatorError } from '../domain/errors.ts';
import type { Cluster, KubeObject, Pod } from '../ports/cluster.ts';
import { permission } from '../kube/kinds.ts';
import { isReady } from '../kube/pod-health.ts';
import { kubeOf } from '../kube/step-kube.ts';
import { Namespace, ObjectName, SelectorString } from '../kube/step-params.ts';

/** One address the Service routes to, as the endpoints controller published it. */
interface Address {
  ip: string;
  pod?: string;
  ready: boolean;
}

interface EndpointSliceLike extends KubeObject {
  endpoints?: Array<{ addresses?: string[]; conditions?: { ready?: boolean | null }; targetRef?: { kind?: string; name?: string } }>;
}

interface EndpointsLike extends KubeObject {
  subsets?: Array<{
    addresses?: Array<{ ip: string; targetRef?: { kind?: string; name?: string } }>;
    notReadyAddresses?: Array<{ ip: string; targetRef?: { kind?: string; name?: string } }>;
  }>;
}

/** The label the EndpointSlice controller puts on every slice of a Service. */
const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/**
 * The runbook's Fix 5.2 check (`kubectl get endpoints`): passes when the Service routes to ready pods of the backup
 * (the pods `selector` selects), at least `minReady` of them, and, with `exclusive` (the default), to nothing else.
 * Reads the Service's EndpointSlices (`kubernetes.io/service-name`), or its Endpoints object on a cluster that
 * publishes no slices, and the backup pods; the observation records the addresses seen against those expected.
 * An address counts when it is ready and names a backup pod (targetRef) or carries a backup pod's IP.
 */
export const kubeTrafficSwitchedGate = defineGate({
  name: 'kube.trafficSwitched',
  summary:
    'Pass when a Service routes (Endpoints/EndpointSlices) to ready backup pods, like checking `kubectl get endpoints` after a traffic switch.',
  needs: ['kube'],
  defaults: { intervalMs: 2_000, timeoutMs: 120_000, successes: 1 },
  params: Type.Object(
    {
      namespace: Namespace,
      service: ObjectName,
      selector: SelectorString,
      minReady: Type.Optional(Type.Integer({ minimum: 1, default: 1, description: 'How many ready backup addresses are needed.' })),
      exclusive: Type.Optional(
        Type.Boolean({ default: true, description: 'Fail while the Service still routes to any ready pod that is not a backup pod.' }),
      ),
    },
    { additionalProperties: false },
  ),
  permissions: (p) => [
    permission('list', 'EndpointSlice', p.namespace),
    permission('list', 'Endpoints', p.namespace),
    permission('list', 'Pod', p.namespace),
  ],
  async check(ctx) {
    const p = ctx.params;
    const kube = kubeOf(ctx);
    let seen: { source: 'EndpointSlice' | 'Endpoints'; addresses: Address[] } | undefined;
    let backups: Pod[];
    try {
      seen = await addressesOf(kube, p.namespace, p.service, ctx.signal);
      backups = await kube.listPods(p.namespace, p.selector, { signal: ctx.signal });
    } catch (err) {
      if (err instanceof RemediatorError && err.retryable) return { verdict: 'fail', summary: `${err.code}: ${err.message}` };
      throw err;
    }
    const expected = backups.map((pod) => ({
      pod: pod.metadata.name,
      ip: typeof pod.status?.podIP === 'string' ? (pod.status.podIP as string) : undefined,
      ready: isReady(pod),
    }));
    const names = new Set(expected.map((e) => e.pod));
    const ips = new Set(expected.flatMap((e) => (e.ip ? [e.ip] : [])));
    const isBackup = (a: Address) => (a.pod !== undefined ? names.has(a.pod) : ips.has(a.ip));
    const addresses = seen?.addresses ?? [];
    const routed = addresses.filter((a) => a.ready && isBackup(a));
    const others = addresses.filter((a) => a.ready && !isBackup(a));
    const minReady = p.minReady ?? 1;
    const value = {
      source: seen?.source ?? 'none',
      seen: addresses,
      expected,
      routedToBackup: routed.length,
      routedElsewhere: others.length,
    };
    const label = (a: Address) => a.pod ?? a.ip;
    if (seen === undefined) return { verdict: 'fail', summary: `service "${p.service}" has no Endpoints or EndpointSlices`, value };
    if (routed.length < minReady) {
      const why =
        expected.length === 0
          ? `no pod matches ${p.selector}`
          : `${expected.filter((e) => e.ready).length} of ${expected.length} backup pods ready`;
      return {
        verdict: 'fail',
        summary: `service "${p.service}" routes to ${routed.length} ready backup address${routed.length === 1 ? '' : 'es'} (need ${minReady}; ${why})${others.length ? `, and still to ${others.map(label).join(', ')}` : ''}`,
        value,
      };
    }
    if ((p.exclusive ?? true) && others.length > 0) {
      return {
        verdict: 'fail',
        summary: `service "${p.service}" routes to ${routed.length} backup pods but still to ${others.map(label).join(', ')}`,
        value,
      };
    }
    return {
      verdict: 'pass',
      summary: `service "${p.service}" routes to ${routed.length} ready backup pod${routed.length === 1 ? '' : 's'} (${routed.map(label).join(', ')})`,
      value,
      output: { service: p.service, routed: routed.map(label), source: seen.source },
    };
  },
});

/** The Service's addresses from its EndpointSlices, else its Endpoints; undefined when it has neither. */
async function addressesOf(kube: Cluster, namespace: string, service: string, signal: AbortSignal) {
  let slices: EndpointSliceLike[] = [];
  try {
    slices = (await kube.list('EndpointSlice', namespace, {
      signal,
      labelSelector: `${SERVICE_NAME_LABEL}=${service}`,
    })) as EndpointSliceLike[];
  } catch (err) {
    // A cluster (or identity) without discovery.k8s.io still has core Endpoints.
    if (!(err instanceof RemediatorError) || (err.code !== 'REM_ERR_KUBE_NOT_FOUND' && err.code !== 'REM_ERR_KUBE_FORBIDDEN')) throw err;
  }
  if (slices.length > 0) {
    const addresses: Address[] = [];
    for (const s of slices) {
      for (const e of s.endpoints ?? []) {
        // EndpointSlice semantics: a nil ready condition means ready.
        const ready = e.conditions?.ready !== false;
        for (const ip of e.addresses ?? [])
          addresses.push({ ip, ready, ...(e.targetRef?.kind === 'Pod' && e.targetRef.name ? { pod: e.targetRef.name } : {}) });
      }
    }
    return { source: 'EndpointSlice' as const, addresses };
  }
  const all = (await kube.list('Endpoints', namespace, { signal })) as EndpointsLike[];
  const ep = all.find((e) => e.metadata.name === service);
  if (ep === undefined) return undefined;
  const addresses: Address[] = [];
  for (const s of ep.subsets ?? []) {
    for (const a of s.addresses ?? [])
      addresses.push({ ip: a.ip, ready: true, ...(a.targetRef?.kind === 'Pod' && a.targetRef.name ? { pod: a.targetRef.name } : {}) });
    for (const a of s.notReadyAddresses ?? [])
      addresses.push({ ip: a.ip, ready: false, ...(a.targetRef?.kind === 'Pod' && a.targetRef.name ? { pod: a.targetRef.name } : {}) });
  }
  return { source: 'Endpoints' as const, addresses };
}
