import type { Keys } from '../store/keys.ts';
import { FINAL_STATUSES } from '../engine/run-state.ts';
import type { FleetCount } from '../store/run-store.ts';

/**
 * Counts the services of one namespace that a fleet playbook's alerts name, and opens one fleet run when enough of
 * them go down within the window. One script per (playbook, namespace) and notification, so under any number of
 * concurrent webhooks (and Alertmanager's retries) exactly one caller opens the fleet and everyone after it joins the
 * same one: the fleet's run id and episode are chosen once, stored with the open marker, and handed back to every
 * later caller, which is what makes the ingest of the fleet run idempotent (the same id, the same episode).
 *
 * - An alert episode a fleet took is remembered (`absorbed`, episode → fleet): its repeats, retries and HA twins go to
 *   the same fleet run however late they come, and never start a run of their own.
 * - While the fleet run has not ended and the window since it opened has not passed, a service that goes down joins
 *   it: it is appended to the fleet's services and to the run's `fleetServices` field, which the run reads as
 *   `params.services` each time it wakes (appended at the end, so a batch step in progress keeps its place). After
 *   that the fleet is closed: the services it handled stop counting, and a new service gets its own runs or, with
 *   others, the next fleet. A fleet run that escalated or failed stays open until its window passes: a service going
 *   down right after a diagnosis of an infrastructure cause joins it (recorded, paged with it) instead of being
 *   restarted on its own.
 * - Below the threshold the services' own runs are remembered (`singles`), so the caller that opens the fleet gets
 *   them back, once, to absorb the ones still queued. One entry per (alert episode, playbook), whatever the number of
 *   deliveries: a repeat (an HA twin, a re-send) costs one HSETNX and grows nothing. The id an entry keeps may be of a
 *   run that was never created (a concurrent repeat's id won the store's claim), so the opener reads the episode's
 *   `run:<playbook>` field (src/store/keys.ts), where the store put the id of the run it did create. A run not stored
 *   yet when the fleet opens is absorbed by its own webhook, which looks for an open fleet after storing it.
 *
 * The window is counted on the caller's clock (a replay compresses time); key TTLs only collect garbage.
 *
 * The count: src/store/lua/fleet-correlate.lua (its KEYS, ARGV and reply), made by the ingest script for each fleet
 * group of a notification before it records the notification (RunStore.ingestFiring): a notification whose counts
 * open or join no fleet costs one script, and one whose count does gets the verdicts back (parseVerdict) and is
 * recorded in a second. This class builds each count's keys and arguments; it calls nothing itself.
 */

/** The fleet run of a namespace once opened: chosen by the caller that opened it, the same for every later caller. */
export interface OpenFleet {
  runId: string;
  episodeId: string;
  openedAt: string;
  openedAtMs: number;
  /** The services down when the fleet opened, in the order they went down, then the ones that joined it. */
  services: string[];
}

export type FleetVerdict = {
  /** below: no fleet takes the new alerts; opened / joined: the fleet takes them. */
  kind: 'below' | 'opened' | 'joined';
  fleet?: OpenFleet;
  /** Opened: the runs of its services from before, to absorb if still queued. */
  singles: Array<{ service: string; runs: string[] }>;
  /** Episodes a fleet took before this call (repeats, retries), with that fleet. */
  earlier: Record<string, OpenFleet>;
};

/** One alert as the count sees it: its service, its episode, and the runs it gets if no fleet takes it. */
export interface FleetAlert {
  service: string;
  episodeId: string;
  runs: ReadonlyArray<{ runId: string; playbook: string }>;
}

/** The statuses of runs that ended, as the script reads them. */
const FINAL_STATUS_LIST = [...FINAL_STATUSES].join(',');

export class FleetCorrelator {
  readonly #keys: Keys;
  /** The count's arguments that never change (ARGV 7–10 of src/store/lua/fleet-correlate.lua). */
  readonly #constants: ReadonlyArray<string | number>;

  /** `keepMs`: how long an absorbed episode is remembered (the run retention). */
  constructor(keys: Keys, keepMs: number) {
    this.#keys = keys;
    this.#constants = [keys.run(''), FINAL_STATUS_LIST, Math.max(1, Math.ceil(keepMs / 1000)), keys.episode('')];
  }

  /**
   * The keys and arguments of one count, for the ingest script (RunStore.ingestFiring's `fleetCounts`): the
   * `alerts` (service, alert episode, the ids of the runs it gets if no fleet takes it) for `playbook` in `namespace`
   * at `now`; `candidate` is the fleet the count opens if it crosses the threshold.
   */
  request(
    playbook: string,
    namespace: string,
    settings: { min: number; windowMs: number },
    alerts: FleetAlert[],
    candidate: Pick<OpenFleet, 'runId' | 'episodeId' | 'openedAt'>,
    now: number,
  ): FleetCount {
    const args: Array<string | number> = [
      now,
      settings.windowMs,
      settings.min,
      candidate.runId,
      candidate.episodeId,
      candidate.openedAt,
      ...this.#constants,
    ];
    for (const a of alerts) {
      args.push(a.service, a.episodeId, a.runs.length);
      for (const r of a.runs) args.push(r.playbook, r.runId);
    }
    const k = (part: 'members' | 'open' | 'singles' | 'absorbed') => this.#keys.fleet(playbook, namespace, part);
    return { keys: [k('members'), k('open'), k('singles'), k('absorbed')], args };
  }

  /** The key of the open marker of (playbook, namespace): the fleet JSON while one is open (parseFleet reads it). */
  openKey(playbook: string, namespace: string): string {
    return this.#keys.fleet(playbook, namespace, 'open');
  }
}

/** The script's reply as a verdict. */
export function parseVerdict([kind, fleet, singles, earlier]: readonly string[]): FleetVerdict {
  const before = JSON.parse(earlier || '{}') as Record<string, OpenFleet>;
  const pairs = JSON.parse(singles || '[]') as Array<{ service: string; runs: string[] }>;
  return {
    kind: kind as FleetVerdict['kind'],
    ...(fleet ? { fleet: parseFleet(fleet) } : {}),
    singles: pairs.length ? pairs : [],
    earlier: Object.fromEntries(Object.entries(before).map(([ep, f]) => [ep, withServices(f)])),
  };
}

/** A fleet as stored (the open marker). cjson writes an empty array as `{}`; a fleet always has services, but the type is kept honest. */
export function parseFleet(json: string): OpenFleet {
  return withServices(JSON.parse(json) as OpenFleet);
}

/** A decoded fleet with `services` an array (see parseFleet). */
function withServices(f: OpenFleet): OpenFleet {
  return { ...f, services: Array.isArray(f.services) ? f.services : [] };
}
