/** The escalation port used by the `escalate` step and the guards. (Filled in by the escalation work.) */
export interface Escalator {
  readonly targets: string[];
}
