import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { AxiosHttpClient } from '../http-client/axios-http-client.ts';
import { PrometheusHttpApi } from '../gates/prometheus-http-api.ts';
import { spawnServerInTempDir } from './binary-process.ts';

/** One scrape job: `targets` are `host:port` on loopback. */
export interface ScrapeTarget {
  job: string;
  targets: string[];
  /** Default `/metrics`. */
  metricsPath?: string;
  /** Extra labels on every series of this job. */
  labels?: Record<string, string>;
}

export type PromRule =
  | { alert: string; expr: string; for?: string; labels?: Record<string, string>; annotations?: Record<string, string> }
  | { record: string; expr: string; labels?: Record<string, string> };

export interface PrometheusOptions {
  scrapeTargets?: ScrapeTarget[];
  rules?: PromRule[];
  /** Alertmanager base URLs Prometheus sends its alerts to (`alerting.alertmanagers`, API v2). */
  alertmanagers?: string[];
  /**
   * Fast profile for tests and the demo: scrapes every 500 ms with a 500 ms timeout, rules every 100 ms. Default
   * false: every 1 s. The scrape timeout is what a healthy target must answer within, so it stays long enough for a
   * loaded machine (an outage the tests make is a killed process, refused at once, not a slow one); Prometheus does
   * not allow a timeout longer than the interval.
   * Either way the first scrape comes about 5 s after start (Prometheus's discovery manager batches its first
   * update); wait for it with `waitFor('up{job="x"} == 1')` before breaking anything.
   */
  fast?: boolean;
  /** How long `startPrometheus` waits for `/-/ready`. Default 15 s. */
  readyTimeoutMs?: number;
}

export interface PrometheusProcess {
  /** Base URL of the HTTP API, e.g. `http://127.0.0.1:41234`. */
  url: string;
  port: number;
  pid: number;
  /** The temporary folder holding its configuration and data; removed by `stop()`. */
  dir: string;
  /**
   * Rewrites the configuration (fields given replace the ones from start) and reloads it via `POST /-/reload`.
   * Resolves once Prometheus sends alerts to exactly the configured Alertmanagers (see `startPrometheus`).
   */
  reload(next?: Pick<PrometheusOptions, 'scrapeTargets' | 'rules' | 'alertmanagers'>): Promise<void>;
  /** Polls until `expr` returns a non-empty vector (e.g. `up{job="x"} == 1`); throws after `timeoutMs` (default 15 s). */
  waitFor(expr: string, timeoutMs?: number): Promise<void>;
  /** Stops the process (by PID, waiting for its exit) and removes its temporary folder. Idempotent. */
  stop(): Promise<void>;
}

/**
 * A real `prometheus` (Debian's package) on a free loopback port with its TSDB in a temporary folder: used by the
 * tests and the demo. Throws a clear error naming the package when the binary is missing.
 *
 * Start and `reload()` resolve only once Prometheus's notifier sends to the configured Alertmanagers. Its discovery
 * hands a new Alertmanager list over in batches, up to 5 s after a (re)load; an alert that fires before then is sent
 * to nobody and dropped, and Prometheus sends a firing alert again only after its resend delay (1 min). Breaking a
 * service right after connecting Alertmanager would otherwise bring the first webhook a minute late.
 */
export async function startPrometheus(options: PrometheusOptions = {}): Promise<PrometheusProcess> {
  let current: Pick<PrometheusOptions, 'scrapeTargets' | 'rules' | 'alertmanagers'> = options;
  const timing = options.fast ? FAST_TIMING : NORMAL_TIMING;
  const writeConfig = async (dir: string): Promise<void> => {
    await writeFile(join(dir, 'rules.yml'), stringify({ groups: [{ name: 'remediator-dev', rules: current.rules ?? [] }] }));
    await writeFile(join(dir, 'prometheus.yml'), stringify(prometheusConfig(current, timing)));
  };
  const server = await spawnServerInTempDir({
    prefix: 'remediator-prometheus-',
    command: 'prometheus',
    debianPackage: 'prometheus',
    readyTimeoutMs: options.readyTimeoutMs,
    prepare: writeConfig,
    args: (dir, port, url) => [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      `--web.external-url=${url}`,
      '--web.enable-lifecycle',
      '--log.level=warn',
    ],
  });
  const { url, dir } = server;
  const api = new PrometheusHttpApi({ baseUrl: url, http: new AxiosHttpClient() });
  try {
    await waitForAlertmanagers(url, current.alertmanagers ?? [], options.readyTimeoutMs ?? 15_000);
  } catch (err) {
    await server.stop();
    throw err;
  }
  return {
    url,
    port: server.port,
    pid: server.proc.pid,
    dir,
    async reload(next) {
      current = { ...current, ...next };
      await writeConfig(dir);
      const res = await fetch(`${url}/-/reload`, { method: 'POST', signal: AbortSignal.timeout(10_000) });
      const text = await res.text();
      if (!res.ok) throw new Error(`prometheus refused the new configuration: HTTP ${res.status} ${text.trim()}`);
      await waitForAlertmanagers(url, current.alertmanagers ?? [], options.readyTimeoutMs ?? 15_000);
    },
    async waitFor(expr, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      let last = 'no answer';
      while (Date.now() < deadline) {
        // One poll that gets no answer in time (a busy machine) is a poll without result, not the end of the wait:
        // the wait ends at its own deadline. (An aborted query throws the signal's TimeoutError, which used to
        // escape from here and end the caller on the first slow answer.)
        const r = await api.query(expr, { signal: AbortSignal.timeout(2000), timeoutMs: 1000 }).catch((err: unknown) => err as Error);
        if (r instanceof Error) last = `no answer: ${r.message}`;
        else if (r.status === 'success' && r.resultType === 'vector' && r.samples.length > 0) return;
        else last = r.status === 'error' ? `${r.errorType}: ${r.error}` : `${r.resultType} result, nothing yet`;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      throw new Error(`prometheus: "${expr}" returned nothing within ${timeoutMs} ms (${last})`);
    },
    stop: server.stop,
  };
}

/** Where Prometheus posts alerts for an Alertmanager base URL (API v2), as `/api/v1/alertmanagers` lists it. */
function alertsEndpoint(base: string): string {
  const u = new URL(base);
  return `${u.protocol}//${u.host}${u.pathname.replace(/\/+$/, '')}/api/v2/alerts`;
}

/** Polls `/api/v1/alertmanagers` until the active set is exactly `alertmanagers`; throws after `timeoutMs`. */
async function waitForAlertmanagers(url: string, alertmanagers: string[], timeoutMs: number): Promise<void> {
  const want = alertmanagers.map(alertsEndpoint).sort();
  const deadline = Date.now() + timeoutMs;
  let active: string[] = [];
  for (;;) {
    try {
      const res = await fetch(`${url}/api/v1/alertmanagers`, { signal: AbortSignal.timeout(2000) });
      const body = (await res.json()) as { data?: { activeAlertmanagers?: Array<{ url: string }> } };
      active = (body.data?.activeAlertmanagers ?? []).map((a) => a.url).sort();
      if (active.length === want.length && active.every((a, i) => a === want[i])) return;
    } catch {
      // not answering yet: poll again
    }
    if (Date.now() > deadline) {
      throw new Error(
        `prometheus did not send to the Alertmanagers [${want.join(', ')}] within ${timeoutMs} ms (it sends to [${active.join(', ')}])`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

interface Timing {
  scrape_interval: string;
  scrape_timeout: string;
  evaluation_interval: string;
}
const NORMAL_TIMING: Timing = { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' };
const FAST_TIMING: Timing = { scrape_interval: '500ms', scrape_timeout: '500ms', evaluation_interval: '100ms' };

function prometheusConfig(o: Pick<PrometheusOptions, 'scrapeTargets' | 'alertmanagers'>, timing: Timing): Record<string, unknown> {
  return {
    global: { ...timing },
    rule_files: ['rules.yml'],
    alerting: {
      alertmanagers: (o.alertmanagers ?? []).map((base) => {
        const u = new URL(base);
        return {
          api_version: 'v2',
          scheme: u.protocol.replace(':', ''),
          ...(u.pathname !== '/' ? { path_prefix: u.pathname.replace(/\/+$/, '') } : {}),
          static_configs: [{ targets: [u.host] }],
        };
      }),
    },
    scrape_configs: (o.scrapeTargets ?? []).map((t) => ({
      job_name: t.job,
      metrics_path: t.metricsPath ?? '/metrics',
      static_configs: [{ targets: t.targets, ...(t.labels ? { labels: t.labels } : {}) }],
    })),
  };
}
