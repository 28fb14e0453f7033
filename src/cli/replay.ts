import { loadReplayStream } from '../replay/replay-stream.ts';
import { replay } from '../replay/replayer.ts';
import { formatReplay } from '../replay/print-replay.ts';
import { pino } from 'pino';
import { isRemediatorError } from '../domain/errors.ts';

export interface ReplayCommandOptions {
  playbooks?: string;
  config?: string;
  prometheusUrl?: string;
  alertmanagerUrl?: string;
  redisUrl?: string;
  settle: string;
  timeout: string;
  json?: boolean;
  verbose?: boolean;
}

/**
 * `remediator replay FILE`: posts a recorded stream of Alertmanager deliveries to a real remediator on the simulated
 * cluster and prints every decision with its reason. Exit status 0 whatever the engine decided (escalations
 * included); 1 when the replay itself could not run (a bad stream, playbooks that do not load, no redis-server).
 */
export async function replayCommand(file: string, opts: ReplayCommandOptions): Promise<void> {
  const controller = new AbortController();
  const stop = () => controller.abort(new Error('interrupted'));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const stream = await loadReplayStream(file, { signal: controller.signal });
    const report = await replay(stream, {
      playbooksDir: opts.playbooks,
      configFile: opts.config,
      prometheusUrl: opts.prometheusUrl,
      alertmanagerUrl: opts.alertmanagerUrl,
      redisUrl: opts.redisUrl,
      settle: opts.settle,
      timeout: opts.timeout,
      // Engine logs go to stderr so stdout stays the report (and valid JSON with --json).
      log: opts.verbose ? pino({ name: 'remediator', level: 'debug' }, pino.destination(2)) : undefined,
      signal: controller.signal,
    });
    process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : formatReplay(report));
    process.exitCode = 0;
  } catch (err) {
    process.stderr.write(`${isRemediatorError(err) ? `${err.code}: ${err.message}` : String((err as Error)?.stack ?? err)}\n`);
    // Exit at once: a remediator that refused to start (e.g. a playbook needing Prometheus) can leave Redis
    // connections open, which would keep the process alive. Everything the replay started is already stopped.
    process.exit(1);
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}
