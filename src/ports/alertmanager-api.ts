/**
 * The narrow Alertmanager API v2 port used by `alertmanager.resolved`: list the alerts Alertmanager currently holds.
 * Alertmanager never lists an alert whose `endsAt` has passed (`api/v2/api.go`, `alertFilter`), so every alert
 * returned is still firing from Alertmanager's point of view, whatever its `status.state`.
 *
 * Failures throw `RemediatorError`: `REM_ERR_HTTP_TRANSPORT` (no answer), `REM_ERR_HTTP_STATUS` (non-2xx, with
 * `details.status` and the body Alertmanager sent, e.g. `bad matcher format`), or the signal's reason when aborted.
 */
export interface AlertmanagerApi {
  readonly baseUrl: string;
  listAlerts(filter: AlertFilter, options: { signal: AbortSignal; timeoutMs?: number }): Promise<AmAlert[]>;
}

/**
 * `GET /api/v2/alerts` query parameters. Each `include*` flag defaults to true as in the API: a silenced or
 * inhibited alert is still firing (a silence hides a problem, it does not fix it).
 */
export interface AlertFilter {
  /** Alertmanager matchers, one per entry: `alertname="X"`, `severity=~"critical|page"` (see `formatMatcher`). */
  matchers: string[];
  includeActive?: boolean;
  includeSilenced?: boolean;
  includeInhibited?: boolean;
  includeUnprocessed?: boolean;
  /** A regex on receiver names. */
  receiver?: string;
}

/** One element of `gettableAlerts` (`api/v2/openapi.yaml`). */
export interface AmAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  fingerprint: string;
  startsAt: string;
  endsAt: string;
  updatedAt: string;
  generatorURL?: string;
  receivers: string[];
  status: { state: 'unprocessed' | 'active' | 'suppressed'; silencedBy: string[]; inhibitedBy: string[] };
}

/** Label names Alertmanager's matcher parser accepts unquoted (`pkg/labels/parse.go`). */
const LABEL_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

export function isMatcherLabelName(name: string): boolean {
  return LABEL_NAME.test(name);
}

/**
 * An equality (or other) matcher in the syntax `GET /api/v2/alerts?filter=` parses, with the value quoted and
 * escaped the way `pkg/labels/parse.go` unescapes it (`\\`, `\"`, `\n`), so any label value round-trips.
 */
export function formatMatcher(name: string, value: string, op: '=' | '!=' | '=~' | '!~' = '='): string {
  if (!isMatcherLabelName(name)) throw new TypeError(`"${name}" is not a label name Alertmanager can match on`);
  const escaped = value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
  return `${name}${op}"${escaped}"`;
}
