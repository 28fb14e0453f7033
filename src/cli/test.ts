import { pino } from 'pino';
import { runTestPaths } from '../playbook-test/run-test-files.ts';
import { caseLine, failureDetails, problemLines, summaryLine } from '../playbook-test/reporter.ts';
import { writeJunitReport, type JunitFile } from '../playbook-test/junit-report.ts';

export interface TestCommandOptions {
  filter?: string;
  verbose?: boolean;
  /** Also write a JUnit XML report to this file. */
  junit?: string;
}

/**
 * `remediator test [paths...]`: runs playbook test files (docs/playbook-tests.md) through the real engine against
 * the simulated cluster and a scripted outside world. One line per case, the diff of what differed, exit 1 when
 * anything failed or a file has errors; `--junit FILE` also writes a JUnit XML report. Uses REDIS_URL when set, else starts its own redis-server.
 */
export async function testCommand(paths: string[], opts: TestCommandOptions): Promise<void> {
  const say = (line: string) => process.stdout.write(`${line}\n`);
  const started = performance.now();
  let passed = 0;
  let failed = 0;
  let fileErrors = 0;
  const report = new Map<string, JunitFile>();
  const reportFile = (file: string) => report.get(file) ?? report.set(file, { file, problems: [], cases: [] }).get(file)!;
  try {
    const results = await runTestPaths(paths.length > 0 ? paths : ['playbooks/tests'], {
      redisUrl: process.env.REDIS_URL || undefined,
      filter: opts.filter,
      log: opts.verbose ? pino({ name: 'remediator', level: 'debug' }, pino.destination(2)) : undefined,
      onFileProblems: (file, problems) => {
        fileErrors++;
        reportFile(file).problems.push(...problems);
        for (const l of problemLines(problems)) say(l);
      },
      onCase: (file, result, position) => {
        if (result.passed) passed++;
        else failed++;
        reportFile(file).cases.push({ result, position });
        say(caseLine(file, result));
        for (const l of failureDetails(result, position)) say(l);
      },
    });
    if (results.length === 0) say(`no *.test.yaml files in ${paths.length > 0 ? paths.join(', ') : 'playbooks/tests'}`);
  } catch (err) {
    console.error(`remediator test: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(2);
  }
  if (opts.junit) {
    try {
      writeJunitReport(opts.junit, [...report.values()]);
    } catch (err) {
      console.error(`remediator test: cannot write the JUnit report ${opts.junit}: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(2);
    }
  }
  say(summaryLine(passed, failed, fileErrors, performance.now() - started));
  process.exit(failed + fileErrors > 0 ? 1 : 0);
}
