import type { RunView } from '../../store/run-record.ts';
import { firstSample } from './first-sample.ts';
import type { PodProcessEvent } from './pod-processes.ts';

/** Where a line comes from; the column that tells a reader who did what. */
export type TimelineSource = 'service' | 'cluster' | 'prometheus' | 'alertmanager' | 'remediator' | 'pager' | 'demo';

export interface LiveTimelineOptions {
  /** Writes one finished line (default: stdout). */
  write?: (line: string) => void;
  /** Time zero of the relative column. Default: now. */
  t0?: number;
  /**
   * How long a line is held before it is printed, so lines that pollers discover a little late still come out in
   * the order things happened. Default 400 ms (longer than one poll and its request).
   */
  holdMs?: number;
}

/**
 * A readable timeline printed as things happen: `14:02:07.345  +3.21s  prometheus    up{job="phone-gateway"} = 0`.
 * The watchers poll what a person would look at (Prometheus's `up`, remediator's run API) and print only changes;
 * pod process events are pushed in by the real loop. Every watcher stops when its signal aborts.
 */
export class LiveTimeline {
  readonly #write: (line: string) => void;
  readonly #t0: number;
  readonly #holdMs: number;
  #held: Array<{ at: number; seq: number; line: string }> = [];
  #seq = 0;
  #timer: NodeJS.Timeout | undefined;
  /** Lines said so far (without timestamps), for a summary or a test. */
  readonly lines: Array<{ at: number; source: TimelineSource; text: string }> = [];

  constructor(options: LiveTimelineOptions = {}) {
    this.#write = options.write ?? ((l) => process.stdout.write(`${l}\n`));
    this.#t0 = options.t0 ?? Date.now();
    this.#holdMs = options.holdMs ?? 400;
  }

  say(source: TimelineSource, text: string, at = Date.now()): void {
    this.lines.push({ at, source, text });
    const clock = new Date(at).toISOString().slice(11, 23);
    const rel = `${at < this.#t0 ? '-' : '+'}${(Math.abs(at - this.#t0) / 1000).toFixed(2)}s`.padStart(8);
    this.#held.push({ at, seq: this.#seq++, line: `  ${clock} ${rel}  ${source.padEnd(12)} ${text}` });
    this.#timer ??= setTimeout(() => this.#release(false), this.#holdMs);
  }

  /** Prints every held line now (before a summary, or at exit). */
  flush(): void {
    this.#release(true);
  }

  #release(all: boolean): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const cutoff = Date.now() - this.#holdMs;
    this.#held.sort((a, b) => a.at - b.at || a.seq - b.seq);
    const due = all ? this.#held : this.#held.filter((h) => h.at <= cutoff);
    this.#held = all ? [] : this.#held.filter((h) => h.at > cutoff);
    for (const h of due) this.#write(h.line);
    if (this.#held.length > 0) this.#timer = setTimeout(() => this.#release(false), this.#holdMs);
  }

  /** A pod process event, in words. */
  podEvent(e: PodProcessEvent): void {
    const who = `${e.deployment.name} pod ${e.pod}`;
    if (e.type === 'started')
      this.say('cluster', `${who} started: process on 127.0.0.1:${e.port} playing ${e.image}${e.mode === 'bad' ? ' (failing)' : ''}`, e.at);
    else if (e.type === 'unready') this.say('cluster', `${who} failed its readiness probe: ${e.reason}`, e.at);
    else if (e.type === 'stopped') this.say('cluster', `${who} deleted: its process stopped`, e.at);
    else this.say('service', `${who}: process killed`, e.at);
  }

  /** Prints every change of `query`'s first sample (`1`, `0`, or no data) until `signal` aborts. */
  async watchUp(prometheusUrl: string, query: string, signal: AbortSignal, intervalMs = 100): Promise<void> {
    let last: string | undefined;
    while (!signal.aborted) {
      const v = (await firstSample(prometheusUrl, query, AbortSignal.any([signal, AbortSignal.timeout(2000)]))) ?? 'no data';
      if (v !== last && !signal.aborted) {
        this.say(
          'prometheus',
          `${query} = ${v}${v === '0' ? '  (the scrape fails: the service is down)' : v === '1' ? '  (scraped fine)' : ''}`,
        );
        last = v;
      }
      await sleep(intervalMs, signal);
    }
  }

  /**
   * Follows the runs for a target in remediator's API (`GET /v1/runs?target=`): each new run, each step as it
   * starts and ends, each decision (webhooks started, deduplicated, resolved …). Calls `onRun` with every fresh
   * view. Runs created before `since` are ignored.
   */
  async watchRuns(o: {
    url: string;
    operatorToken: string;
    target: string;
    since: number;
    signal: AbortSignal;
    intervalMs?: number;
    /** Who the webhook decisions (started, deduplicated, resolved) are shown from. Default `alertmanager`. */
    webhookSource?: TimelineSource;
    onRun?: (run: RunView) => void;
  }): Promise<void> {
    const shown = new Map<string, { steps: Map<string, string>; decisions: number }>();
    const resolvedRuns = new Set<string>();
    const get = async (path: string): Promise<any> => {
      const res = await fetch(`${o.url}${path}`, {
        headers: { authorization: `Bearer ${o.operatorToken}` },
        signal: AbortSignal.any([o.signal, AbortSignal.timeout(2000)]),
      });
      return res.json();
    };
    while (!o.signal.aborted) {
      try {
        const list = (await get(`/v1/runs?target=${encodeURIComponent(o.target)}&limit=20`)) as { runs: RunView[] };
        for (const summary of [...list.runs].reverse()) {
          if (Date.parse(summary.createdAt) < o.since) continue;
          const run = (await get(`/v1/runs/${summary.id}`)) as RunView;
          let seen = shown.get(run.id);
          if (!seen) {
            seen = { steps: new Map(), decisions: 0 };
            shown.set(run.id, seen);
          }
          for (const d of run.decisions.slice(seen.decisions)) {
            const fromAlertmanager = d.reason === 'started' || d.reason === 'deduplicated' || d.reason === 'resolved';
            const again = d.reason === 'resolved' && resolvedRuns.has(run.id);
            if (d.reason === 'resolved') resolvedRuns.add(run.id);
            this.say(
              fromAlertmanager ? (o.webhookSource ?? 'alertmanager') : 'remediator',
              again ? 'webhook again: resolved (the other Alertmanager, or a re-send)' : decisionText(d.reason, d.message, run.id),
              Date.parse(d.at),
            );
          }
          seen.decisions = run.decisions.length;
          for (const s of run.state?.steps ?? []) {
            const key = `${s.rung}/${s.id}/${s.startedAt}`;
            const before = seen.steps.get(key);
            if (before === s.status) continue;
            if (before === undefined && (s.status === 'running' || s.status === 'pending'))
              this.say('remediator', `[${s.rung}] ${s.id} (${s.uses}) …`, Date.parse(s.startedAt));
            else if (s.status !== 'running' && s.status !== 'pending') {
              const mark = s.status === 'succeeded' ? '✓' : s.status === 'failed' ? '✗' : '·';
              const took = s.endedAt ? ` in ${Date.parse(s.endedAt) - Date.parse(s.startedAt)} ms` : '';
              this.say(
                'remediator',
                `${mark} [${s.rung}] ${s.id} (${s.uses})${took}: ${s.summary ?? s.error?.message ?? s.reason ?? s.status}`,
                s.endedAt ? Date.parse(s.endedAt) : Date.now(),
              );
            }
            seen.steps.set(key, s.status);
          }
          o.onRun?.(run);
        }
      } catch {
        /* remediator busy or stopping: try again */
      }
      await sleep(o.intervalMs ?? 150, o.signal);
    }
  }
}

function decisionText(reason: string, message: string, runId: string): string {
  if (reason === 'started') return `webhook: ${message} → run ${runId}`;
  if (reason === 'deduplicated') return `webhook again (the other Alertmanager, or a re-send): deduplicated into ${runId}`;
  if (reason === 'resolved') return `webhook: ${message}; the episode is closed`;
  if (reason === 'succeeded' || reason === 'failed' || reason === 'escalated') return `run ${runId} ${reason.toUpperCase()}: ${message}`;
  return `${reason}: ${message}`;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
