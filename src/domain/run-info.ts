/** The alert a run was started for (or the synthetic one of a manual run). */
export interface AlertView {
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt?: string;
  fingerprint: string;
  generatorURL?: string;
  externalURL?: string;
}

export interface RunInfo {
  id: string;
  playbook: string;
  /** Mutations go to the API server with dryRun=All and the run records the plan instead. */
  dryRun: boolean;
  manual: boolean;
  alert: AlertView;
  episodeId?: string;
}
