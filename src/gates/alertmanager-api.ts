/** The narrow Alertmanager API v2 port used by `alertmanager.resolved`. (Filled in by the verification-gates work.) */
export interface AlertmanagerApi {
  readonly baseUrl: string;
}
