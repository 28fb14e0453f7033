import t from 'tap';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { redisForTest } from '../support/redis.ts';
import { silentLogger } from '../../src/observability/logger.ts';
import { loadTestFile } from '../../src/playbook-test/load-test-file.ts';
import { preparePlaybooks } from '../../src/playbook-test/prepare-playbooks.ts';
import { runCase } from '../../src/playbook-test/run-case.ts';
import { failureDetails } from '../../src/playbook-test/reporter.ts';
import { formatProblem } from '../../src/schema/yaml-source.ts';

/** playbooks/tests: the playbook tests the project ships (what `remediator test` runs). */
export const SHIPPED_TESTS_DIR = fileURLToPath(new URL('../../playbooks/tests', import.meta.url));

/**
 * One shipped playbook test file (`name` in playbooks/tests), one subtest per case, so `npm test` fails when a shipped
 * playbook stops doing what its tests say. Each file runs in a test process of its own (test/playbooks/shipped/):
 * the files run side by side, and each stays well inside the per-file time limit on a loaded machine.
 */
export function shippedPlaybookTests(name: string): void {
  t.test(`playbooks/tests/${name}`, async (t) => {
    const loaded = await loadTestFile(join(SHIPPED_TESTS_DIR, name));
    t.same(loaded.problems.map(formatProblem), [], 'the test file loads');
    if (loaded.problems.length > 0) return;
    const playbooks = await preparePlaybooks(loaded);
    t.teardown(() => playbooks.cleanup());
    t.same(playbooks.problems.map(formatProblem), [], 'its playbooks load');
    if (playbooks.problems.length > 0) return;
    const redis = await redisForTest();
    for (const c of loaded.cases) {
      t.test(c.name, async (t) => {
        const r = await runCase(c, {
          redisUrl: redis.url,
          playbookDir: playbooks.dir,
          manifestsDir: loaded.playbookDir,
          targetNames: playbooks.targetNames,
          log: silentLogger(),
          cleanRedis: true,
        });
        t.ok(
          r.passed,
          r.passed ? `passed in ${Math.round(r.durationMs)} ms` : ['expectations not met:', ...failureDetails(r, c.position)].join('\n'),
        );
      });
    }
  });
}
