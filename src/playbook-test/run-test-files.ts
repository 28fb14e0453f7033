import type { Logger } from 'pino';
import { spawnRedis, type RedisProcess } from '../dev/redis-process.ts';
import { silentLogger } from '../observability/logger.ts';
import type { SourcePosition, SourceProblem } from '../schema/yaml-source.ts';
import { findTestFiles, loadTestFile } from './load-test-file.ts';
import { preparePlaybooks } from './prepare-playbooks.ts';
import { runCase, type CaseResult } from './run-case.ts';

export interface RunTestsOptions {
  /** Use this Redis (each case under a fresh key prefix, removed afterwards) instead of starting a redis-server. */
  redisUrl?: string;
  /** Engine logs; default silent. */
  log?: Logger;
  /** Run only cases whose name contains this text. */
  filter?: string;
  /** Called as each case ends (the CLI prints as it goes). */
  onCase?(file: string, result: CaseResult, position: SourcePosition): void;
  onFileProblems?(file: string, problems: SourceProblem[]): void;
}

export interface TestFileResult {
  file: string;
  problems: SourceProblem[];
  cases: CaseResult[];
}

/**
 * `remediator test`: every `*.test.yaml` under the given paths, one case at a time, on one Redis for the whole
 * invocation. A file that does not load (or whose playbooks do not) reports its problems and runs nothing.
 */
export async function runTestPaths(paths: string[], options: RunTestsOptions = {}): Promise<TestFileResult[]> {
  const files = (await Promise.all(paths.map(findTestFiles))).flat();
  const results: TestFileResult[] = [];
  if (files.length === 0) return results;
  let redis: RedisProcess | undefined;
  if (options.redisUrl === undefined) redis = await spawnRedis();
  const redisUrl = options.redisUrl ?? redis!.url;
  try {
    for (const path of files) {
      const loaded = await loadTestFile(path);
      const result: TestFileResult = { file: loaded.file, problems: loaded.problems, cases: [] };
      results.push(result);
      if (loaded.problems.length > 0) {
        options.onFileProblems?.(loaded.file, loaded.problems);
        continue;
      }
      const playbooks = await preparePlaybooks(loaded);
      if (playbooks.problems.length > 0) {
        result.problems = playbooks.problems;
        options.onFileProblems?.(loaded.file, playbooks.problems);
        continue;
      }
      try {
        for (const c of loaded.cases) {
          if (options.filter !== undefined && !c.name.includes(options.filter)) continue;
          const r = await runCase(c, {
            redisUrl,
            playbookDir: playbooks.dir,
            manifestsDir: loaded.playbookDir,
            targetNames: playbooks.targetNames,
            log: options.log ?? silentLogger(),
            cleanRedis: options.redisUrl !== undefined,
          });
          result.cases.push(r);
          options.onCase?.(loaded.file, r, c.position);
        }
      } finally {
        await playbooks.cleanup();
      }
    }
  } finally {
    await redis?.stop();
  }
  return results;
}
