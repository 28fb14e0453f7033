import { PrometheusHttpApi } from '../../gates/prometheus-http-api.ts';
import { AxiosHttpClient } from '../../http-client/axios-http-client.ts';

/**
 * The value of an instant query's first sample as Prometheus spelled it (`'1'`, `'0'`), or undefined when the
 * answer has no sample or the query failed (Prometheus down, an error answer, `signal` aborted). Asked through the
 * product's own Prometheus client, bounded by `signal` (default 2 s). It never throws: callers poll.
 */
export async function firstSample(prometheusUrl: string, query: string, signal?: AbortSignal): Promise<string | undefined> {
  const api = new PrometheusHttpApi({ baseUrl: prometheusUrl, http: new AxiosHttpClient() });
  try {
    const r = await api.query(query, { signal: signal ?? AbortSignal.timeout(2000), timeoutMs: 1000 });
    return r.status === 'success' && r.resultType === 'vector' ? r.samples[0]?.raw : undefined;
  } catch {
    return undefined;
  }
}
