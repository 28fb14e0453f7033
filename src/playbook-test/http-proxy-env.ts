/**
 * Routes the process's outgoing http(s) calls to a proxy, except loopback. The engine's HTTP client (axios) reads
 * `http_proxy`/`https_proxy`/`no_proxy` on every request, which is how `http.check` calls to in-cluster URLs such
 * as `http://phone-gateway.ai-ninja.svc:8080/health` reach the scripted world without any change to the engine.
 * Returns a function that puts the previous values back. Process-wide: one case at a time.
 */
const KEYS = ['http_proxy', 'HTTP_PROXY', 'https_proxy', 'HTTPS_PROXY', 'all_proxy', 'ALL_PROXY', 'no_proxy', 'NO_PROXY'] as const;

export function routeHttpThroughProxy(proxyUrl: string): () => void {
  const saved = new Map(KEYS.map((k) => [k, process.env[k]]));
  const set: Record<(typeof KEYS)[number], string | undefined> = {
    http_proxy: proxyUrl,
    HTTP_PROXY: proxyUrl,
    https_proxy: proxyUrl,
    HTTPS_PROXY: proxyUrl,
    all_proxy: undefined,
    ALL_PROXY: undefined,
    no_proxy: '127.0.0.1,localhost,::1',
    NO_PROXY: '127.0.0.1,localhost,::1',
  };
  for (const k of KEYS) assign(k, set[k]);
  return () => {
    for (const [k, v] of saved) assign(k, v);
  };
}

function assign(key: string, value: string | undefined): void {
  if (value === undefined) delete process.env[key];
  else process.env[key] = value;
}
