import type { RecordedRequest } from '../sim/router.ts';

/** What the simulated cluster records of a request, the fields used here. */
export type SimRequest = Pick<RecordedRequest, 'method' | 'path' | 'query' | 'body'>;

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const PATH = /^\/(?:api\/v1|apis\/[^/]+\/[^/]+)\/(?:namespaces\/[^/]+\/)?([^/]+)(?:\/([^/]+))?(?:\/([^/]+))?$/;

/**
 * The writes among the requests the simulated cluster received, in order, as `"<METHOD> <resource>/<name>"`
 * (namespace omitted; a subresource is appended, `PATCH deployments/x/scale`; a create names the object from its
 * body). Server-side dry runs change nothing and say so: `PATCH deployments/x (dry-run)`. Left out: access reviews
 * (questions, not writes) and Events (the engine's audit trail, with generated names; not a change to a workload).
 */
export function clusterWrites(requests: readonly SimRequest[]): string[] {
  const out: string[] = [];
  for (const r of requests) {
    const method = r.method.toUpperCase();
    if (!WRITES.has(method)) continue;
    const m = PATH.exec(r.path.split('?')[0]!);
    if (!m) continue;
    const resource = m[1]!;
    if (resource.endsWith('accessreviews') || resource === 'events') continue;
    let name = m[2] ? decodeURIComponent(m[2]) : undefined;
    if (name === undefined && method === 'POST') name = nameInBody(r.body);
    const sub = m[3] ? `/${m[3]}` : '';
    const dry = r.query.dryRun === 'All' ? ' (dry-run)' : '';
    out.push(`${method} ${resource}${name ? `/${name}` : ''}${sub}${dry}`);
  }
  return out;
}

function nameInBody(body: string): string | undefined {
  try {
    const name = (JSON.parse(body) as { metadata?: { name?: unknown } }).metadata?.name;
    return typeof name === 'string' ? name : undefined;
  } catch {
    return undefined;
  }
}
