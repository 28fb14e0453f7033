import { matchesAll, parseMatchers, type Matcher } from '../domain/matcher.ts';
import type { WorldDoc } from './test-file-schema.ts';

/** One call the outside world received during a case. */
export interface WorldCall {
  service: 'prometheus' | 'http' | 'alertmanager';
  /** `up{job="x"} == 0`, `GET http://svc/health`, `GET /api/v2/alerts?filter=…`. */
  call: string;
  /** What was answered, for the report; undefined when nothing in `world` answers it. */
  answer?: string;
}

/** A posted test alert as Alertmanager would list it. */
export interface KnownAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  fingerprint: string;
  startsAt: string;
  generatorURL?: string;
}

export type HttpAnswer = { status: number; body?: unknown; headers?: Record<string, string> };
export type PromAnswer = Array<number | string>;

/**
 * The outside world of one case, answered from its `world:` section. Each entry's answers are consumed one per
 * call, in order, and the last one repeats. A call that no entry answers is recorded as unanswered; the case then
 * fails with a message naming the call, so the author sees which answer is missing.
 */
export class ScriptedWorld {
  readonly calls: WorldCall[] = [];
  /** Alerts posted so far (the Alertmanager API lists the ones that match its filter while not resolved). */
  readonly alerts: KnownAlert[] = [];
  readonly #prom: Array<{ query: string; answers: PromAnswer[]; used: number }>;
  readonly #http: Array<{ url: string; method?: string; answers: HttpAnswer[]; used: number }>;
  readonly #am: { answers: boolean[]; used: number } | undefined;

  constructor(world: WorldDoc = {}) {
    this.#prom = (world.prometheus ?? []).map((e) => ({ query: e.query, answers: e.answers, used: 0 }));
    this.#http = (world.http ?? []).map((e) => ({
      url: normalizeUrl(e.url),
      method: e.method?.toUpperCase(),
      answers: e.answers.map((a) => (typeof a === 'number' ? { status: a } : a)),
      used: 0,
    }));
    this.#am = world.alertmanager ? { answers: world.alertmanager.resolved, used: 0 } : undefined;
  }

  get unanswered(): WorldCall[] {
    return this.calls.filter((c) => c.answer === undefined);
  }

  /** The sample values for an instant query: the first entry whose `query` the expression contains. */
  prometheus(expr: string): PromAnswer | undefined {
    const entry = this.#prom.find((e) => expr.includes(e.query));
    const answer = entry ? next(entry) : undefined;
    this.calls.push({ service: 'prometheus', call: expr, answer: answer && `[${answer.join(', ')}]` });
    return answer;
  }

  http(method: string, url: string): HttpAnswer | undefined {
    const u = normalizeUrl(url);
    const entry = this.#http.find((e) => e.url === u && (e.method === undefined || e.method === method.toUpperCase()));
    const answer = entry ? next(entry) : undefined;
    this.calls.push({ service: 'http', call: `${method.toUpperCase()} ${url}`, answer: answer && `HTTP ${answer.status}` });
    return answer;
  }

  /** Records a call nothing can answer (a path the scripted Prometheus or Alertmanager does not serve). */
  refuse(service: WorldCall['service'], call: string): void {
    this.calls.push({ service, call });
  }

  /**
   * Alertmanager's `GET /api/v2/alerts` for these filter matchers: the posted alerts that match while the next
   * `resolved` answer is false, none when it is true. When no posted alert matches, one with the labels of the
   * equality matchers stands in (the gate asks for exactly the run's alert).
   */
  alertmanager(filters: string[], call: string): KnownAlert[] | undefined {
    const resolved = this.#am ? next(this.#am) : undefined;
    this.calls.push({
      service: 'alertmanager',
      call,
      answer: resolved === undefined ? undefined : resolved ? 'resolved (no alert)' : 'still active',
    });
    if (resolved === undefined) return undefined;
    if (resolved) return [];
    let matchers: Matcher[];
    try {
      matchers = filters.flatMap((f) => parseMatchers(f));
    } catch {
      return [];
    }
    const found = this.alerts.filter((a) => matchesAll(matchers, a.labels));
    if (found.length > 0) return found;
    const labels = Object.fromEntries(matchers.filter((m) => m.op === '=').map((m) => [m.name, m.value]));
    return [{ labels, annotations: {}, fingerprint: '', startsAt: new Date().toISOString() }];
  }
}

function next<T>(entry: { answers: T[]; used: number }): T {
  const a = entry.answers[Math.min(entry.used, entry.answers.length - 1)]!;
  entry.used++;
  return a;
}

function normalizeUrl(url: string): string {
  try {
    return new URL(url).href;
  } catch {
    return url;
  }
}
