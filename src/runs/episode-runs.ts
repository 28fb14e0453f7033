import type { RunStore } from '../store/run-store.ts';
import type { RunView } from '../store/run-record.ts';

/**
 * Every run of an incident, oldest first: the runs named by the episode's decisions (an alert episode: its first run,
 * retries and later runs), or the run itself for a manual run, whose episode key is its id (`runEpisodeId`).
 */
export async function runsOfEpisode(store: RunStore, episodeKey: string): Promise<RunView[]> {
  const ids = new Set<string>();
  for (const d of await store.episodeDecisions(episodeKey)) if (d.runId) ids.add(d.runId);
  if (ids.size === 0) ids.add(episodeKey);
  const views: RunView[] = [];
  for (const id of ids) {
    const view = await store.getRun(id);
    if (view) views.push(view);
  }
  return views.sort((a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt));
}
