import type { PodLogOptions } from './resource-handlers.ts';
import type { CrashMode } from './faults.ts';

/**
 * Plausible container logs: a healthy start-up for running containers, and the last words of a crashing one
 * (out of memory, or an error exit) for crash-looping containers and `previous=true`.
 */
function crashLines(mode: CrashMode): string[] {
  if (mode === 'OOMKilled') {
    return ['INFO warming cache', 'WARN memory usage 498Mi of 512Mi limit', 'ERROR fatal error: runtime: out of memory'];
  }
  return ['INFO connecting to upstream', 'ERROR failed to connect to upstream: connection refused', 'FATAL exiting with status 1'];
}

export function podLogText(pod: any, opts: PodLogOptions, crashMode: CrashMode | undefined): string {
  const container = (pod.spec?.containers ?? []).find((c: any) => c.name === opts.container);
  const status = (pod.status?.containerStatuses ?? []).find((s: any) => s.name === opts.container);
  const started: string =
    (opts.previous ? status?.lastState?.terminated?.startedAt : status?.state?.running?.startedAt) ??
    status?.lastState?.terminated?.startedAt ??
    pod.metadata.creationTimestamp;
  const base = Date.parse(started);
  const lines = [
    `INFO starting ${container?.image ?? 'unknown'} (pod ${pod.metadata.name}, container ${opts.container})`,
    'INFO loaded configuration',
  ];
  if (crashMode || opts.previous) lines.push(...crashLines(crashMode ?? 'Error'));
  else lines.push('INFO listening on 0.0.0.0:8080', 'INFO ready');
  const stamped = lines.map((l, i) => `${new Date(base + i * 7).toISOString()} ${l}`);
  const tail = opts.tailLines === undefined ? stamped : opts.tailLines === 0 ? [] : stamped.slice(-opts.tailLines);
  return tail.length ? `${tail.join('\n')}\n` : '';
}
