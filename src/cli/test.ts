import { pino } from 'pino';
import { runTestPaths } from '../playbook-test/run-test-files.ts';
import { caseLine, failureDetails, problemLines, summaryLine } from '../playbook-test/reporter.ts';

export interface TestCommandOptions {
  filter?: string;
  verbose?: boolean;
}

/**
 * `remediator test [paths...]`: runs playbook test files (docs/playbook-tests.md) through the real engine against
 * the simulated cluster and a scripted outside world. One line per case, the diff of what differed, exit 1 when
 * anything failed or a file has errors. Uses REDIS_URL when set, else starts its own redis-server.
 */
export async function testCommand(paths: string[], opts: TestCommandOptions): Promise<void> {
  const say = (line: string) => process.stdout.write(`${line}\n`);
  const started = performance.now();
  let passed = 0;
  let failed = 0;
  let fileErrors = 0;
  try {
    const results = await runTestPaths(paths.length > 0 ? paths : ['playbooks/tests'], {
      redisUrl: process.env['REDIS_URL'] || undefined,
      filter: opts.filter,
      log: opts.verbose ? pino({ name: 'remediator', level: 'debug' }, pino.destination(2)) : undefined,
      onFileProblems: (_file, problems) => {
        fileErrors++;
        for (const l of problemLines(problems)) say(l);
      },
      onCase: (file, result, position) => {
        if (result.passed) passed++;
        else failed++;
        say(caseLine(file, result));
        for (const l of failureDetails(result, position)) say(l);
      },
    });
    if (results.length === 0) say(`no *.test.yaml files in ${paths.length > 0 ? paths.join(', ') : 'playbooks/tests'}`);
  } catch (err) {
    console.error(`remediator test: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(2);
  }
  say(summaryLine(passed, failed, fileErrors, performance.now() - started));
  process.exit(failed + fileErrors > 0 ? 1 : 0);
}
