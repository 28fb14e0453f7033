import { fork, type ChildProcess } from 'node:child_process';

/** How a revision of the stand-in service behaves: `good` serves; `bad` fails its health check and its scrape. */
export type StandInMode = 'good' | 'bad';

export interface StandInOptions {
  /** The pod's image; shown in `/health` and `stand_in_build_info`. */
  image: string;
  /** The pod's name. */
  pod: string;
  mode: StandInMode;
  /** Why a bad process fails, shown in its `/health` and `/metrics` answers. Default: a bad revision. */
  reason?: string;
  /** Aborting kills the child (SIGKILL) and rejects a start still in progress. */
  signal?: AbortSignal;
  /**
   * How long to wait for the child to report its port. Default: no limit. A child that fails exits (and the start
   * rejects with its stderr) and `signal` ends a start in progress; a fixed limit only turned a busy machine, where
   * a Node process takes seconds to start, into pods that crash-loop for good (the simulator starts a pod whose
   * start hook failed no second time).
   */
  startTimeoutMs?: number;
}

/** One running stand-in process. */
export interface StandInProcess {
  readonly pid: number;
  readonly port: number;
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  readonly image: string;
  /** How it behaves now. */
  readonly mode: StandInMode;
  /** Breaks or heals the running process (e.g. a dependency went down); `reason` shows in its failing answers. */
  setMode(mode: StandInMode, reason?: string): void;
  /** False once the process has exited. */
  alive(): boolean;
  /** Resolves once the process has exited. */
  exited(): Promise<void>;
  /** The service crashes: SIGKILL, resolved when it has exited. */
  kill(): Promise<void>;
  /** Graceful stop (SIGTERM, then SIGKILL after `graceMs`, default 1000), resolved when it has exited. */
  stop(graceMs?: number): Promise<void>;
}

const MAIN = new URL('./stand-in-main.ts', import.meta.url).pathname;

/**
 * Starts the stand-in service (stand-in-main.ts) as a child Node process with an IPC channel. The child picks its
 * own loopback port and reports it, and exits when this process goes away (the channel closes), so no stand-in is
 * left behind even if the parent is killed. The parent waits on the child's `exit` event, never on `kill -0`.
 */
export async function spawnStandIn(options: StandInOptions): Promise<StandInProcess> {
  const child: ChildProcess = fork(MAIN, [], {
    execPath: process.execPath,
    execArgv: [],
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    env: {
      ...process.env,
      STAND_IN_IMAGE: options.image,
      STAND_IN_POD: options.pod,
      STAND_IN_MODE: options.mode,
      ...(options.reason ? { STAND_IN_REASON: options.reason } : {}),
      NODE_OPTIONS: '',
    },
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (c: string) => {
    stderr = (stderr + c).slice(-4096);
  });
  child.on('error', () => {}); // a failed kill() must not become an unhandled 'error' event
  const exit = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const running = (): boolean => child.exitCode === null && child.signalCode === null;
  const onAbort = (): void => {
    child.kill('SIGKILL');
  };
  options.signal?.addEventListener('abort', onAbort, { once: true });
  void exit.then(() => options.signal?.removeEventListener('abort', onAbort));

  const port = await new Promise<number>((resolve, reject) => {
    const limit = options.startTimeoutMs;
    const timer =
      limit === undefined
        ? undefined
        : setTimeout(() => fail(new Error(`stand-in ${options.pod} did not report its port within ${limit} ms`)), limit);
    const fail = (err: Error): void => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(err);
    };
    child.once('message', (m: { port?: number }) => {
      clearTimeout(timer);
      if (typeof m?.port === 'number' && m.port > 0) resolve(m.port);
      else fail(new Error(`stand-in ${options.pod} reported no port`));
    });
    void exit.then(() =>
      fail(new Error(`stand-in ${options.pod} exited before it listened: ${stderr.trim().split('\n').slice(-3).join(' | ')}`)),
    );
    if (options.signal?.aborted) fail(new Error('aborted'));
  });

  const stop = async (signal: NodeJS.Signals, graceMs: number): Promise<void> => {
    if (!running()) return exit;
    child.kill(signal);
    const timer = signal === 'SIGKILL' ? undefined : setTimeout(() => child.kill('SIGKILL'), graceMs);
    try {
      await exit;
    } finally {
      clearTimeout(timer);
    }
  };
  let mode = options.mode;
  return {
    pid: child.pid!,
    port,
    url: `http://127.0.0.1:${port}`,
    image: options.image,
    get mode() {
      return mode;
    },
    setMode(next, reason) {
      mode = next;
      if (running() && child.connected) child.send({ mode: next, ...(reason === undefined ? {} : { reason }) });
    },
    alive: running,
    exited: () => exit,
    kill: () => stop('SIGKILL', 0),
    stop: (graceMs = 1000) => stop('SIGTERM', graceMs),
  };
}
