import junitModule, { type Builder } from 'junit-report-builder';
import type { SourcePosition, SourceProblem } from '../schema/yaml-source.ts';
import type { CaseResult } from './run-case.ts';
import { failureDetails, problemLines } from './reporter.ts';

// The package's types describe an ES default export, but the CommonJS file Node loads sets module.exports to the builder.
const junit = junitModule as unknown as Builder;

/** What `remediator test` ran, file by file, for the JUnit report. */
export interface JunitFile {
  file: string;
  /** Problems that kept the file from running (reported as one errored testcase). */
  problems: SourceProblem[];
  cases: Array<{ result: CaseResult; position: SourcePosition }>;
}

/**
 * Writes a JUnit XML report for CI systems: one testsuite per test file, one testcase per case (its time in
 * seconds), a failed case as a `<failure>` whose message names the fields that differed and whose body is the same
 * field-by-field diff and run story the terminal shows. A file that did not load is one testcase with an `<error>`.
 * junit-report-builder does the XML (escaping included) and creates the file's folder.
 */
export function writeJunitReport(path: string, files: readonly JunitFile[]): void {
  const report = junit.newBuilder();
  for (const f of files) {
    const suite = report.testSuite().name(f.file);
    if (f.problems.length > 0) {
      suite
        .testCase()
        .className(f.file)
        .name('(file)')
        .error(`${f.problems.length} problem(s) in ${f.file}`, 'problems', problemLines(f.problems).join('\n'));
    }
    for (const { result, position } of f.cases) {
      const tc = suite
        .testCase()
        .className(f.file)
        .name(result.name)
        .time(result.durationMs / 1000);
      if (!result.passed) {
        const fields = result.mismatches.map((m) => m.field);
        tc.failure(fields.length > 0 ? `differs: ${fields.join(', ')}` : 'failed', 'mismatch').stacktrace(
          failureDetails(result, position)
            .map((l) => l.trimStart())
            .join('\n'),
        );
      }
    }
  }
  report.writeTo(path);
}
