import type { WebhookPayload } from '../alerts/alertmanager-payload.ts';
import type { HttpClient } from '../ports/http-client.ts';
import { AxiosHttpClient } from '../http-client/axios-http-client.ts';
import { ScriptedHttpClient } from '../playbook-test/scripted-http-client.ts';
import { ScriptedWorld, type WorldCall } from '../playbook-test/scripted-world.ts';
import type { WorldDoc } from '../playbook-test/test-file-schema.ts';
import { startWorldServer } from '../playbook-test/world-server.ts';
import type { ReplayUnansweredCall } from './replay-report.ts';

export interface ReplayWorldOptions {
  /** A real Prometheus to query instead of the scripted one (its calls go out for real and are not recorded). */
  prometheusUrl?: string;
  /** A real Alertmanager API to query instead of the scripted one. */
  alertmanagerUrl?: string;
}

/** The stream's `world:` as the engine of a replay sees it. */
export interface ReplayWorld {
  /** The Prometheus and Alertmanager the config points at: the given ones, else the scripted ones on loopback. */
  prometheusUrl: string;
  alertmanagerUrl: string;
  /** The engine's HTTP port (`StartOptions.http`): every non-loopback URL is answered from `world.http`. */
  http: HttpClient;
  /** Tells the scripted Alertmanager what was delivered: firing alerts are listed until a resolve of them arrives. */
  delivered(payload: WebhookPayload): void;
  /** Every call the world received. */
  readonly calls: readonly WorldCall[];
  /** Calls nothing in `world:` answers, one row per distinct call with how often it was made, first made first. */
  unanswered(): ReplayUnansweredCall[];
  close(): Promise<void>;
}

const WHO = 'remediator replay';

/**
 * Starts the scripted world of a replay: the same runtime, wire server and HTTP port as a playbook test case
 * (`remediator test`), with the same semantics (answers consumed in order, the last one repeats). A flag the user
 * gave wins over the world for that service: its calls go out for real.
 */
export async function startReplayWorld(doc: WorldDoc, options: ReplayWorldOptions = {}): Promise<ReplayWorld> {
  const world = new ScriptedWorld(doc);
  const server = await startWorldServer(() => world, { who: WHO });
  const real = [options.prometheusUrl, options.alertmanagerUrl].filter((u): u is string => u !== undefined);
  return {
    prometheusUrl: options.prometheusUrl ?? server.prometheusUrl,
    alertmanagerUrl: options.alertmanagerUrl ?? server.alertmanagerUrl,
    http: new ScriptedHttpClient(world, new AxiosHttpClient({ userAgent: 'remediator' }), { who: WHO, passThrough: real }),
    delivered(payload) {
      for (const a of payload.alerts) {
        const at = world.alerts.findIndex((k) => k.fingerprint === a.fingerprint);
        if (at >= 0) world.alerts.splice(at, 1);
        if (a.status === 'firing') {
          world.alerts.push({
            labels: a.labels,
            annotations: a.annotations ?? {},
            fingerprint: a.fingerprint,
            startsAt: a.startsAt,
            ...(a.generatorURL ? { generatorURL: a.generatorURL } : {}),
          });
        }
      }
    },
    get calls() {
      return world.calls;
    },
    unanswered: () => groupUnanswered(world.unanswered),
    close: () => server.close(),
  };
}

/** Unanswered calls folded by service and call text, in the order each was first made. */
export function groupUnanswered(calls: readonly WorldCall[]): ReplayUnansweredCall[] {
  const rows = new Map<string, ReplayUnansweredCall>();
  for (const c of calls) {
    if (c.answer !== undefined) continue;
    const key = `${c.service} ${c.call}`;
    const row = rows.get(key);
    if (row) row.count++;
    else rows.set(key, { service: c.service, call: c.call, count: 1 });
  }
  return [...rows.values()];
}
