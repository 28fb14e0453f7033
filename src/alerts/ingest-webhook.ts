import type { Logger } from 'pino';
import type { WebhookPayload } from './alertmanager-payload.ts';
import { episodeId, toAlertView } from './episode.ts';
import type { PlaybookCatalog } from '../playbooks/playbook-catalog.ts';
import type { Playbook } from '../domain/playbook.ts';
import type { RunStore, FiringClaim, FiringClaimResult, CandidateRun, KnownRun, FleetCount } from '../store/run-store.ts';
import type { KnownEpisodes } from './known-episodes.ts';
import type { RunQueue } from '../queue/run-queue.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { Clock } from '../ports/clock.ts';
import type { AlertView, TargetRef } from '../engine/step-definition.ts';
import type { Decision } from '../engine/decision.ts';
import type { RunRecord } from '../store/run-record.ts';
import { newRunId } from '../store/run-id.ts';
import { render } from '../engine/template.ts';
import { parseFleet, parseVerdict, type FleetCorrelator, type FleetVerdict, type OpenFleet } from '../guards/fleet-correlator.ts';
import { formatDuration } from '../domain/duration.ts';

export interface IngestDeps {
  store: RunStore;
  queue: RunQueue;
  catalog: PlaybookCatalog;
  metrics: Metrics;
  clock: Clock;
  log: Logger;
  /** runs.dryRun from config: every run is a dry run. */
  dryRun: boolean;
  /** Correlated incidents (playbooks with spec.fleet); absent: every alert gets its own runs. */
  fleet?: FleetCorrelator;
  /** Recent episodes' stored runs: a repeat is claimed by their ids (absent: every claim carries candidates). */
  known?: KnownEpisodes;
}

export interface AlertSummary {
  fingerprint: string;
  status: 'firing' | 'resolved';
  startsAt: string;
  episode: string;
  /** What happened to this alert as a whole; `absorbed`: a fleet run handles it with other services of its namespace. */
  decision: 'started' | 'deduplicated' | 'unmatched' | 'resolved' | 'absorbed';
  runs: Array<{ playbook: string; runId: string; decision: 'started' | 'deduplicated' | 'absorbed' }>;
}

/**
 * Splits a webhook into alerts and records each one durably before the caller answers: episodes, runs and
 * decisions in Redis, and a queued job per new run. Decisions are per alert (`alerts[].status`), never per group.
 * The firing alerts of a notification are recorded together, in one Redis round trip with the fleet counts they
 * need (one more when a count takes alerts into a fleet), and their new runs' jobs queued in one more; a repeat costs
 * one round trip and bumps its episode's counter. A repeat of an episode this process saw stored sends only its runs'
 * ids (`known`); if the store no longer has them, the notification is claimed again with candidates, which nothing of
 * the first attempt wrote.
 * Any Redis failure propagates as REM_ERR_STORE_UNAVAILABLE so the route answers 503 and Alertmanager retries;
 * every write is idempotent, so the retry completes what a failed attempt started without doubling anything.
 */
export async function ingestWebhook(payload: WebhookPayload, deps: IngestDeps): Promise<AlertSummary[]> {
  for (const a of payload.alerts) deps.metrics.alertsReceived.inc({ status: a.status });
  return ingest(payload, deps);
}

/** ingestWebhook without the count of alerts received: what a notification claimed again runs a second time. */
async function ingest(payload: WebhookPayload, deps: IngestDeps): Promise<AlertSummary[]> {
  const nowMs = deps.clock.now();
  const now = new Date(nowMs).toISOString();
  const alerts = payload.alerts.map((raw) => toAlertView(raw, payload));
  const out: AlertSummary[] = new Array(alerts.length);
  const firing: Firing[] = [];
  for (let i = 0; i < alerts.length; i++) {
    const alert = alerts[i]!;
    if (alert.status !== 'firing') continue;
    const ep = episodeId(alert.fingerprint, alert.startsAt);
    const matched = deps.catalog.match(alert);
    const own = matched.filter((pb) => !pb.fleet);
    const known = deps.known?.runs(
      ep,
      own.map((pb) => pb.name),
    );
    const hold = known ? 0 : fleetHold(matched, alert, deps);
    const runs: FiringClaim['runs'] = known
      ? known.map((k) => ({ known: k }))
      : own.map((pb) => {
          const record = newRecord(pb, alert, ep, now, nowMs, deps);
          if (hold > 0) record.holdUntil = new Date(nowMs + hold).toISOString();
          const started: Decision = {
            at: now,
            reason: 'started',
            playbook: pb.name,
            runId: record.id,
            episodeId: ep,
            message: `${alertName(alert)} started ${pb.name}${record.dryRun ? ' (dry run)' : ''}`,
          };
          return { record, started };
        });
    firing.push({ index: i, alert, ep, fleets: deps.fleet ? matched.filter((pb) => pb.fleet) : [], runs });
  }
  // The fleet counts go with the claims, in one script: the claims assume no fleet takes their alerts, as almost
  // always; when one does, the script writes no claim and hands back the verdicts, and the claims they call for are
  // recorded in a second call.
  const groups = fleetGroups(firing, now, nowMs, deps);
  let fleets = applyVerdicts(groups, undefined, now, deps);
  let built = claimsOf(firing, fleets, now, deps);
  let ingested = await deps.store.ingestFiring(
    built.claims,
    now,
    [...built.looks.values()].map((l) => l.key),
    groups.map((g) => g.count),
  );
  if (ingested.fleetVerdicts) {
    fleets = applyVerdicts(groups, ingested.fleetVerdicts.map(parseVerdict), now, deps);
    built = claimsOf(firing, fleets, now, deps);
    ingested = await deps.store.ingestFiring(
      built.claims,
      now,
      [...built.looks.values()].map((l) => l.key),
    );
  }
  if (ingested.unknown) {
    for (const ep of ingested.unknown) deps.known?.forget(ep);
    const { known: _, ...withoutKnown } = deps;
    return ingest(payload, withoutKnown);
  }
  const { claims, claimed, looks } = built;
  const results = ingested.runs;
  let m = 0;
  for (const l of looks.values()) l.value = ingested.readAfter[m++] ?? '';
  // The jobs only after their runs are stored (the sweeper re-queues a run whose job was never added).
  await deps.queue.enqueueMany(
    results
      .flat()
      .filter((r) => r.enqueue)
      .map((r) => r.runId),
  );
  if (deps.known) {
    for (let c = 0; c < claimed.length; c++) {
      const runs = claims[c]!.runs;
      if (runs.length > 0 && !('known' in runs[0]!))
        deps.known.remember(
          claims[c]!.episodeId,
          results[c]!.map((r, j) => ({ runId: r.runId, playbook: runRef(runs[j]!).playbook })),
        );
    }
  }
  await absorbSingles(fleets.singles, now, deps);
  // Only the runs this webhook created can have been missed by a fleet opened meanwhile: a repeat's candidate run was
  // deduplicated into a run whose own webhook made this check after storing it.
  const stored = new Set(results.flat().flatMap((r) => (r.created ? [r.runId] : [])));
  await absorbIntoFleetsOpenedMeanwhile(
    fleets.counted.flatMap((c) => {
      const runs = c.runs.filter((r) => stored.has(r.runId));
      return runs.length > 0 ? [{ ...c, runs }] : [];
    }),
    looks,
    now,
    deps,
  );
  // A fleet run this webhook created is reported `started` on the first alert it absorbed, like any new run.
  const created = new Set(
    fleets.claims.flatMap((_, k) => (results[claimed.length + k]?.[0]?.created ? [results[claimed.length + k]![0]!.runId] : [])),
  );
  for (let c = 0; c < claimed.length; c++) {
    const i = claimed[c]!;
    const taken = fleets.absorbed.get(i);
    if (taken) {
      deps.metrics.decisions.inc({ reason: 'absorbed', playbook: taken.playbook.name });
      const fresh = created.delete(taken.fleet.runId);
      if (fresh) deps.metrics.decisions.inc({ reason: 'started', playbook: taken.playbook.name });
      out[i] = {
        fingerprint: alerts[i]!.fingerprint,
        status: 'firing',
        startsAt: alerts[i]!.startsAt,
        episode: claims[c]!.episodeId,
        decision: 'absorbed',
        runs: [{ playbook: taken.playbook.name, runId: taken.fleet.runId, decision: fresh ? 'started' : 'absorbed' }],
      };
    } else {
      out[i] = firingSummary(claims[c]!, results[c]!, deps);
    }
  }
  for (let i = 0; i < alerts.length; i++) if (!out[i]) out[i] = await ingestResolved(alerts[i]!, deps);
  return out;
}

interface FleetTake {
  playbook: Playbook;
  fleet: OpenFleet;
  namespace: string;
}

interface Correlation {
  /** Alert index → the fleet that takes it. */
  absorbed: Map<number, FleetTake>;
  /** The fleet runs' claims (one per open fleet; a repeat claim is deduplicated by the store). */
  claims: FiringClaim[];
  /** Runs of services the fleet took that were started before it opened: absorbed if they are still queued. */
  singles: Array<{ take: FleetTake; service: string; runs: SingleRun[] }>;
  /** Alerts a fleet playbook counted without taking them (below its threshold): they get their own runs. */
  counted: Array<{ playbook: Playbook; namespace: string; service: string; runs: SingleRun[] }>;
}

/** What the correlator remembers of a service's own run, to absorb it later. */
interface SingleRun {
  runId: string;
  playbook: string;
  episodeId: string;
}

/** A firing alert of the notification, with its own runs (candidates or known) and the fleet playbooks that count it. */
interface Firing {
  index: number;
  alert: AlertView;
  ep: string;
  fleets: Playbook[];
  runs: FiringClaim['runs'];
}

/** The claims of a notification as a fleet correlation sees it, and what the ingest script reads back. */
interface Claims {
  claims: FiringClaim[];
  /** claims[c] is the alert at index claimed[c]; the fleet runs' claims follow them. */
  claimed: number[];
  /** The open markers of the fleets that counted alerts without taking them (see absorbIntoFleetsOpenedMeanwhile). */
  looks: OpenLooks;
}

/** Each firing alert's claim (absorbed into the fleet that takes it, or its own runs), then the fleet runs' claims. */
function claimsOf(firing: Firing[], fleets: Correlation, now: string, deps: IngestDeps): Claims {
  const claims: FiringClaim[] = [];
  const claimed: number[] = [];
  for (const f of firing) {
    const taken = fleets.absorbed.get(f.index);
    if (taken) {
      const absorbed: Decision = {
        at: now,
        reason: 'absorbed',
        playbook: taken.playbook.name,
        runId: taken.fleet.runId,
        episodeId: f.ep,
        message: absorbedMessage(f.alert, taken),
      };
      claims.push({ episodeId: f.ep, alert: f.alert, runs: [], unmatched: absorbed });
    } else {
      const why =
        f.fleets.length > 0
          ? `${alertName(f.alert)} is counted by ${f.fleets.map((pb) => pb.name).join(', ')}, which runs once enough services of its namespace are down together; no other playbook matches`
          : `no playbook matches ${alertName(f.alert)}`;
      claims.push({
        episodeId: f.ep,
        alert: f.alert,
        runs: f.runs,
        unmatched: { at: now, reason: 'unmatched', episodeId: f.ep, message: why },
      });
    }
    claimed.push(f.index);
  }
  for (const c of fleets.claims) claims.push(c);
  // Read back by the ingest script once the runs are stored: no second round trip.
  return { claims, claimed, looks: openMarkersToRead(fleets.counted, deps) };
}

/** The alerts of one (fleet playbook, namespace) in a notification, and the count the ingest script makes for them. */
interface FleetGroup {
  playbook: Playbook;
  namespace: string;
  alerts: Array<{ f: Firing; service: string }>;
  count: FleetCount;
}

/**
 * Correlated incidents: the alerts of this notification that a fleet playbook's triggers select are counted per
 * (playbook, namespace) in Redis (src/guards/fleet-correlator.ts), one count per group, made by the ingest script.
 * When the namespace has `min` services down within the window, the fleet is open: every alert of a service it holds
 * is absorbed (its own runs are not created), and the fleet run is claimed under the fleet's episode (the store
 * creates it once, whichever webhook gets there first; a retry after a crash creates it then). An alert episode a
 * fleet took stays with it: its repeats are absorbed again. Below the threshold the alerts get their own runs, which
 * the correlator remembers.
 */
function fleetGroups(firing: Firing[], now: string, nowMs: number, deps: IngestDeps): FleetGroup[] {
  if (!deps.fleet) return [];
  const groups = new Map<string, Omit<FleetGroup, 'count'>>();
  for (const f of firing) {
    for (const pb of f.fleets) {
      const spec = pb.fleet!;
      const namespace = f.alert.labels[spec.namespaceLabel];
      const service = f.alert.labels[spec.by];
      if (!namespace || !service) continue;
      const key = `${pb.name}\u0000${namespace}`;
      const g = groups.get(key) ?? { playbook: pb, namespace, alerts: [] };
      groups.set(key, g);
      g.alerts.push({ f, service });
    }
  }
  return [...groups.values()].map((g) => {
    const candidate = {
      runId: newRunId(nowMs),
      episodeId: `ep-fleet-${g.playbook.name}-${g.namespace}-${nowMs}`,
      openedAt: now,
    };
    const alerts = g.alerts.map(({ f, service }) => ({ service, episodeId: f.ep, runs: f.runs.map(runRef) }));
    return { ...g, count: deps.fleet!.request(g.playbook.name, g.namespace, g.playbook.fleet!, alerts, candidate, nowMs) };
  });
}

/** What no fleet taking anything looks like: the verdict the claims are first built on. */
const BELOW: FleetVerdict = { kind: 'below', singles: [], earlier: {} };

/** The groups' verdicts (in order; undefined: every count below, taking nothing) as what happens to each alert. */
function applyVerdicts(groups: FleetGroup[], verdicts: FleetVerdict[] | undefined, now: string, deps: IngestDeps): Correlation {
  const result: Correlation = { absorbed: new Map(), claims: [], singles: [], counted: [] };
  const claimed = new Set<string>();
  const claim = (take: FleetTake, alert: AlertView) => {
    if (claimed.has(take.fleet.runId)) return;
    claimed.add(take.fleet.runId);
    result.claims.push(fleetClaim(take, alert, now, deps));
  };
  groups.forEach((g, k) => {
    const verdict = verdicts?.[k] ?? BELOW;
    const take: FleetTake | undefined =
      verdict.fleet && (verdict.kind === 'opened' || verdict.kind === 'joined')
        ? { playbook: g.playbook, fleet: verdict.fleet, namespace: g.namespace }
        : undefined;
    for (const { f, service } of g.alerts) {
      if (result.absorbed.has(f.index)) continue;
      const before = verdict.earlier[f.ep];
      const mine = before
        ? { playbook: g.playbook, fleet: before, namespace: g.namespace }
        : take?.fleet.services.includes(service)
          ? take
          : undefined;
      if (!mine) {
        const runs = f.runs.map((r) => ({ ...runRef(r), episodeId: f.ep }));
        if (runs.length > 0) result.counted.push({ playbook: g.playbook, namespace: g.namespace, service, runs });
        continue;
      }
      result.absorbed.set(f.index, mine);
      claim(mine, f.alert);
    }
    if (take && verdict.kind === 'opened') {
      for (const s of verdict.singles)
        result.singles.push({ take, service: s.service, runs: s.runs.map((r) => JSON.parse(r) as SingleRun) });
    }
  });
  return result;
}

/** The claim of a fleet run: created by the first webhook that makes it, a repeat for every later one. */
function fleetClaim(take: FleetTake, alert: AlertView, now: string, deps: IngestDeps): FiringClaim {
  const { fleet, playbook, namespace } = take;
  // The claim's alert (the first one the fleet took here) becomes the record's alert when the store creates the run.
  const record: Omit<RunRecord, 'alert'> = {
    id: fleet.runId,
    playbook: playbook.name,
    createdAt: fleet.openedAt,
    trigger: 'alert',
    episodeId: fleet.episodeId,
    params: { ...playbook.params, namespace, services: fleet.services },
    dryRun: deps.dryRun || playbook.dryRun,
  };
  const started: Decision = {
    at: now,
    reason: 'started',
    playbook: playbook.name,
    runId: record.id,
    episodeId: record.episodeId,
    message: `${fleet.services.length} services of ${namespace} down within ${formatDuration(playbook.fleet!.windowMs)} (${fleet.services.join(', ')}): one fleet run${record.dryRun ? ' (dry run)' : ''}`,
  };
  return { episodeId: fleet.episodeId, alert, runs: [{ record, started }], unmatched: started };
}

/** The services' own runs from before the fleet opened: the ones no worker started yet stop before any step. */
async function absorbSingles(singles: Correlation['singles'], now: string, deps: IngestDeps): Promise<void> {
  for (const s of singles) {
    for (const r of s.runs) {
      const message = `absorbed into fleet run ${s.take.fleet.runId} (${s.take.playbook.name}): ${s.take.fleet.services.length} services of ${s.take.namespace} went down together (${s.take.fleet.services.join(', ')})`;
      const absorbed = await deps.store.absorbQueued(r.runId, s.take.playbook.name, {
        at: now,
        reason: 'absorbed',
        playbook: r.playbook,
        runId: r.runId,
        episodeId: r.episodeId,
        message,
      });
      if (absorbed) await deps.queue.wake(r.runId);
      else
        deps.log.info(
          { runId: r.runId, service: s.service, fleet: s.take.fleet.runId },
          'a run of a service the fleet took had already started; it goes on',
        );
    }
  }
}

/** An open marker to read once the runs are stored, per (playbook, namespace); `value` '' when no fleet is open. */
type OpenLooks = Map<string, { key: string; value: string }>;

/** One look per (playbook, namespace): a group of alerts of one namespace asks once, not once per alert. */
function openMarkersToRead(counted: Correlation['counted'], deps: IngestDeps): OpenLooks {
  const looks: OpenLooks = new Map();
  if (!deps.fleet) return looks;
  for (const c of counted) {
    const key = `${c.playbook.name}\u0000${c.namespace}`;
    if (!looks.has(key)) looks.set(key, { key: deps.fleet.openKey(c.playbook.name, c.namespace), value: '' });
  }
  return looks;
}

/**
 * A service's own runs, recorded after its alert was counted: if another webhook opened a fleet that holds the
 * service in between, that webhook looked for these runs before they existed. Absorbed now if still queued (absorbing
 * is idempotent, so a run both webhooks reach is absorbed once). `looks`: the fleets' open markers as the ingest
 * script read them right after storing the runs.
 */
async function absorbIntoFleetsOpenedMeanwhile(
  counted: Correlation['counted'],
  looks: OpenLooks,
  now: string,
  deps: IngestDeps,
): Promise<void> {
  if (!deps.fleet || counted.length === 0) return;
  for (const c of counted) {
    const marker = looks.get(`${c.playbook.name}\u0000${c.namespace}`)?.value;
    const open = marker ? parseFleet(marker) : undefined;
    if (!open?.services.includes(c.service)) continue;
    await absorbSingles(
      [{ take: { playbook: c.playbook, fleet: open, namespace: c.namespace }, service: c.service, runs: c.runs }],
      now,
      deps,
    );
  }
}

function absorbedMessage(alert: AlertView, take: FleetTake): string {
  return `${alertName(alert)} absorbed into fleet run ${take.fleet.runId} (${take.playbook.name}): ${take.fleet.services.length} services of ${take.namespace} went down together (${take.fleet.services.join(', ')})`;
}

function firingSummary(claim: FiringClaim, results: FiringClaimResult[], deps: IngestDeps): AlertSummary {
  const { alert, episodeId: ep } = claim;
  const summary: AlertSummary = {
    fingerprint: alert.fingerprint,
    status: 'firing',
    startsAt: alert.startsAt,
    episode: ep,
    decision: 'unmatched',
    runs: [],
  };
  if (claim.runs.length === 0) {
    deps.metrics.decisions.inc({ reason: 'unmatched', playbook: '' });
    return summary;
  }
  for (let r = 0; r < results.length; r++) {
    const { playbook } = runRef(claim.runs[r]!);
    const { created, runId } = results[r]!;
    const decision = created ? 'started' : 'deduplicated';
    (created ? deps.metrics.episodesStarted : deps.metrics.episodesDeduplicated).inc({ playbook });
    deps.metrics.decisions.inc({ reason: decision, playbook });
    summary.runs.push({ playbook, runId, decision });
  }
  summary.decision = summary.runs.some((r) => r.decision === 'started') ? 'started' : 'deduplicated';
  return summary;
}

async function ingestResolved(alert: AlertView, deps: IngestDeps): Promise<AlertSummary> {
  const ep = episodeId(alert.fingerprint, alert.startsAt);
  const now = new Date(deps.clock.now()).toISOString();
  deps.known?.forget(ep);
  const runIds = await deps.store.resolveEpisode(ep, alert, now);
  const summary: AlertSummary = {
    fingerprint: alert.fingerprint,
    status: 'resolved',
    startsAt: alert.startsAt,
    episode: ep,
    decision: 'resolved',
    runs: [],
  };
  for (const runId of runIds) {
    // Recorded, not acted on: a resolve is not proof of health (Alertmanager also resolves when Prometheus stops).
    await record(deps, {
      at: now,
      reason: 'resolved',
      runId,
      episodeId: ep,
      message: `Alertmanager reports ${alertName(alert)} resolved${alert.endsAt ? ` at ${alert.endsAt}` : ''}`,
    });
    await deps.queue.wake(runId);
  }
  if (runIds.length === 0)
    await record(deps, { at: now, reason: 'resolved', episodeId: ep, message: `${alertName(alert)} resolved; no run belonged to it` });
  return summary;
}

/**
 * How long a new run of the alert waits before its first step: the longest hold of the fleet playbooks that count it
 * (a fleet opening in that time absorbs the run before it acts); 0 when none does. Only new runs are held.
 */
function fleetHold(matched: Playbook[], alert: AlertView, deps: IngestDeps): number {
  if (!deps.fleet) return 0;
  let hold = 0;
  for (const pb of matched)
    if (pb.fleet && alert.labels[pb.fleet.namespaceLabel] && alert.labels[pb.fleet.by]) hold = Math.max(hold, pb.fleet.holdMs);
  return hold;
}

/** The record of a candidate run, without its alert: the store adds the claim's alert only if it creates the run. */
function newRecord(pb: Playbook, alert: AlertView, ep: string, now: string, nowMs: number, deps: IngestDeps): Omit<RunRecord, 'alert'> {
  return {
    id: newRunId(nowMs),
    playbook: pb.name,
    createdAt: now,
    trigger: 'alert',
    episodeId: ep,
    params: pb.params,
    dryRun: deps.dryRun || pb.dryRun,
    target: renderTarget(pb, alert, pb.params),
  };
}

/** The playbook's target for this alert, or undefined when the alert lacks a label it names. */
export function renderTarget(pb: Playbook, alert: AlertView, params: Record<string, unknown>): TargetRef | undefined {
  if (!pb.target) return undefined;
  try {
    const t = render(pb.target, { alert, labels: alert.labels, annotations: alert.annotations, params }) as Record<string, unknown>;
    const namespace = t.namespace === undefined ? {} : { namespace: String(t.namespace) };
    return { ...namespace, kind: String(t.kind ?? 'Deployment'), name: String(t.name) };
  } catch {
    return undefined;
  }
}

/** The run a claim names: a candidate's, or the stored one a known claim points at. */
function runRef(r: CandidateRun | KnownRun): { runId: string; playbook: string } {
  return 'known' in r ? r.known : { runId: r.record.id, playbook: r.record.playbook };
}

/** Records a decision (the store counts it). */
async function record(deps: IngestDeps, d: Decision): Promise<void> {
  await deps.store.recordDecision(d);
}

function alertName(a: AlertView): string {
  const name = a.labels.alertname ?? 'alert';
  const where = [a.labels.namespace, a.labels.deployment ?? a.labels.service ?? a.labels.instance].filter(Boolean).join('/');
  return where ? `${name} (${where})` : name;
}
