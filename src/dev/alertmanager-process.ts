import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { spawnServerInTempDir } from './binary-process.ts';

export interface AlertmanagerOptions {
  /** Where the webhook receiver posts (remediator's `/v1/alertmanager` in the demo). None: alerts are kept, not sent. */
  webhookUrl?: string;
  /** Sent as `Authorization: Bearer <token>` with every webhook (`http_config.authorization`). */
  bearerToken?: string;
  /** Route `group_by`. Default `['alertname']`; a unique label per test makes every test a new group. */
  groupBy?: string[];
  /**
   * Fast profile for tests: `group_wait: 0s`, `group_interval: 100ms` (it cannot be 0). Default false: 1 s each.
   * `repeat_interval` is 1 h either way and resolved alerts are always sent (`send_resolved: true`).
   */
  fast?: boolean;
  /** How long `startAlertmanager` waits for `/-/ready`. Default 15 s. */
  readyTimeoutMs?: number;
}

export interface AlertmanagerProcess {
  /** Base URL (also its `--web.external-url`), e.g. `http://127.0.0.1:41235`. */
  url: string;
  port: number;
  pid: number;
  /** The temporary folder holding its configuration and data; removed by `stop()`. */
  dir: string;
  /** Stops the process (by PID, waiting for its exit) and removes its temporary folder. Idempotent. */
  stop(): Promise<void>;
}

/**
 * A real Alertmanager (Debian's `prometheus-alertmanager` binary; there is no `alertmanager` one) on a free loopback
 * port, with clustering off (`--cluster.listen-address=`, which would otherwise bind 0.0.0.0:9094) and its state in
 * a temporary folder. Used by the tests and the demo.
 */
export async function startAlertmanager(options: AlertmanagerOptions = {}): Promise<AlertmanagerProcess> {
  const server = await spawnServerInTempDir({
    prefix: 'remediator-alertmanager-',
    command: 'prometheus-alertmanager',
    debianPackage: 'prometheus-alertmanager',
    readyTimeoutMs: options.readyTimeoutMs,
    prepare: (dir) => writeFile(join(dir, 'alertmanager.yml'), stringify(alertmanagerConfig(options))),
    args: (dir, port, url) => [
      `--config.file=${join(dir, 'alertmanager.yml')}`,
      `--storage.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      `--web.external-url=${url}`,
      '--cluster.listen-address=',
      '--log.level=warn',
    ],
  });
  return { url: server.url, port: server.port, pid: server.proc.pid, dir: server.dir, stop: server.stop };
}

function alertmanagerConfig(o: AlertmanagerOptions): Record<string, unknown> {
  const webhook = o.webhookUrl
    ? [
        {
          url: o.webhookUrl,
          send_resolved: true,
          ...(o.bearerToken ? { http_config: { authorization: { type: 'Bearer', credentials: o.bearerToken } } } : {}),
        },
      ]
    : [];
  return {
    route: {
      receiver: 'remediator',
      group_by: o.groupBy ?? ['alertname'],
      group_wait: o.fast ? '0s' : '1s',
      group_interval: o.fast ? '100ms' : '1s',
      repeat_interval: '1h',
    },
    receivers: [{ name: 'remediator', ...(webhook.length ? { webhook_configs: webhook } : {}) }],
  };
}
