import t from 'tap';
import { fileURLToPath } from 'node:url';
import { redisForTest } from '../support/redis.ts';
import { silentLogger } from '../../src/observability/logger.ts';
import { findTestFiles, loadTestFile } from '../../src/playbook-test/load-test-file.ts';
import { preparePlaybooks } from '../../src/playbook-test/prepare-playbooks.ts';
import { runCase } from '../../src/playbook-test/run-case.ts';
import { failureDetails } from '../../src/playbook-test/reporter.ts';
import { formatProblem } from '../../src/schema/yaml-source.ts';

// Every playbook test shipped in playbooks/tests/ (what `remediator test` runs), one subtest per case, so `npm test`
// fails when a shipped playbook stops doing what its tests say. No files: no subtests.
const dir = fileURLToPath(new URL('../../playbooks/tests', import.meta.url));
const files = await findTestFiles(dir);
const redis = files.length > 0 ? await redisForTest() : undefined;

for (const file of files) {
  const loaded = await loadTestFile(file);
  t.test(loaded.file, async (t) => {
    t.same(loaded.problems.map(formatProblem), [], 'the test file loads');
    if (loaded.problems.length > 0) return;
    const playbooks = await preparePlaybooks(loaded);
    t.teardown(() => playbooks.cleanup());
    t.same(playbooks.problems.map(formatProblem), [], 'its playbooks load');
    if (playbooks.problems.length > 0) return;
    for (const c of loaded.cases) {
      t.test(c.name, async (t) => {
        const r = await runCase(c, {
          redisUrl: redis!.url,
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
