import t from 'tap';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { redisForTest } from '../support/redis.ts';
import { silentLogger } from '../../src/observability/logger.ts';
import { loadTestFile } from '../../src/playbook-test/load-test-file.ts';
import { preparePlaybooks } from '../../src/playbook-test/prepare-playbooks.ts';
import { runCase, type CaseResult } from '../../src/playbook-test/run-case.ts';
import { failureDetails } from '../../src/playbook-test/reporter.ts';

// The runner itself, on small inline playbooks: real Redis, the real engine, kube-sim and the scripted world.
const redis = await redisForTest();
const root = await mkdtemp(join(tmpdir(), 'remediator-pt-'));
t.teardown(() => rm(root, { recursive: true, force: true }));
await mkdir(join(root, 'tests'));

const ref = '{ namespace: "{{ labels.namespace }}", name: "{{ labels.deployment }}" }';
await writeFile(
  join(root, 'restart.yaml'),
  `apiVersion: remediator.io/v1
kind: Playbook
metadata: { name: restart-then-rollback }
spec:
  triggers: [{ matchers: ['alertname="Down"'] }]
  target: { namespace: "{{ labels.namespace }}", kind: Deployment, name: "{{ labels.deployment }}" }
  onExhausted: { escalate: true, level: P1 }
  rungs:
    - name: restart
      steps:
        - { id: restart, action: kube.rolloutRestart, with: ${ref} }
        - { id: rollout, gate: kube.rolloutStatus, with: ${ref}, interval: 1s, timeout: 120s }
        - { id: health, gate: http.check, with: { url: "http://{{ labels.deployment }}.{{ labels.namespace }}.svc:8080/health" }, interval: 2s, timeout: 60s, successes: 2 }
    - name: rollback
      steps:
        - { id: undo, action: kube.rolloutUndo, with: ${ref} }
        - { id: rollback-rollout, gate: kube.rolloutStatus, with: ${ref}, interval: 1s, timeout: 120s }
`,
);

const alert = `
      - labels: { alertname: Down, namespace: ai-ninja, deployment: realtime-processor }`;
const healthy = `
    world:
      http:
        - { url: "http://realtime-processor.ai-ninja.svc:8080/health", answers: [503, 200] }`;

async function runFile(name: string, text: string): Promise<{ results: CaseResult[]; problems: string[] }> {
  const file = join(root, 'tests', name);
  await writeFile(file, text);
  const loaded = await loadTestFile(file);
  if (loaded.problems.length > 0)
    return { results: [], problems: loaded.problems.map((p) => `${p.file}:${p.line}:${p.column}: ${p.message}`) };
  const playbooks = await preparePlaybooks(loaded);
  t.teardown(() => playbooks.cleanup());
  const results: CaseResult[] = [];
  for (const c of loaded.cases) {
    results.push(
      await runCase(c, {
        redisUrl: redis.url,
        playbookDir: playbooks.dir,
        manifestsDir: root,
        targetNames: playbooks.targetNames,
        log: silentLogger(),
        cleanRedis: true,
      }),
    );
  }
  return { results, problems: [] };
}

t.test('a passing case: the restart verifies, one PATCH, no page', async (t) => {
  const { results } = await runFile(
    'pass.test.yaml',
    `tests:
  - name: restart fixes it
    alerts:${alert}${healthy}
    expect:
      status: succeeded
      rungs: [restart]
      mutations: [PATCH deployments/realtime-processor]
      escalations: []
      decisions: [started, succeeded]
      steps: { restart: succeeded, health: succeeded, undo: not-run }
`,
  );
  const r = results[0]!;
  t.same(r.mismatches, [], failureDetails(r).join('\n'));
  t.ok(r.passed);
  t.same(
    r.observation?.worldCalls.map((c) => c.answer),
    ['HTTP 503', 'HTTP 200', 'HTTP 200'],
    'the gate polled until two 200s in a row, answers consumed in order, the last repeating',
  );
});

t.test('a failing expectation names the field and shows expected against actual', async (t) => {
  const { results } = await runFile(
    'fail.test.yaml',
    `tests:
  - name: wrong guess
    alerts:${alert}${healthy}
    expect:
      status: escalated
      mutations: [PATCH deployments/realtime-processor, PATCH deployments/realtime-processor]
      steps: { undo: succeeded }
`,
  );
  const r = results[0]!;
  t.notOk(r.passed);
  t.same(
    r.mismatches.map((m) => m.field),
    ['status', 'steps.undo', 'mutations'],
  );
  const text = failureDetails(r).join('\n');
  t.match(text, /status: expected escalated, got succeeded/);
  t.match(text, /steps\.undo: expected succeeded, got not-run/);
  t.match(text, /- PATCH deployments\/realtime-processor/, 'the extra expected write is marked as missing');
  t.match(text, /\[restart\] health \(http\.check\): succeeded/, 'the run story follows the diff');
});

t.test('a call no world entry answers fails the case and names the call', async (t) => {
  const { results } = await runFile(
    'missing.test.yaml',
    `tests:
  - name: forgot the health answer
    alerts:${alert}
    expect: { rungs: [restart, rollback] }
`,
  );
  const r = results[0]!;
  t.notOk(r.passed, 'the run did what was expected, but an answer was missing');
  t.same(
    r.mismatches.map((m) => m.field),
    ['world.http'],
  );
  t.match(
    r.mismatches[0]!.message,
    'no answer for GET http://realtime-processor.ai-ninja.svc:8080/health (add a world.http entry with this url)',
  );
});

t.test("a failing ladder with hanging rollouts ends at the gates' windows on virtual time and pages at the playbook level", async (t) => {
  const { results } = await runFile(
    'ladder.test.yaml',
    `tests:
  - name: nothing helps
    cluster:
      faults:
        crashImages: { "ai-ninja/realtime-processor:1.0.0": CrashLoopBackOff }
        failRollouts: [ai-ninja/realtime-processor]
    alerts:${alert}${healthy}
    expect:
      status: escalated
      rungs: [restart, rollback]
      steps: { rollout: failed, health: not-run, rollback-rollout: failed }
      mutations: [PATCH deployments/realtime-processor, PATCH deployments/realtime-processor]
      escalations: [P1]
`,
  );
  const r = results[0]!;
  t.same(r.mismatches, [], failureDetails(r).join('\n'));
  // Two rollout gates of 120 s each: what ended each hanging rollout is its own window on the virtual clock, said by
  // the gate, however long the machine took to play it.
  t.match(r.observation?.runs[0]?.outcome, /gate "rollback-rollout" did not pass within 120 s/, 'the hanging rollout ended at its window');
  // A gate gives up once its next poll would fall past its window: at 119 s or later, for each of the two.
  t.ok(r.virtualMs >= 238_000, `both 120 s windows were played (${r.virtualMs} ms of virtual time)`);
});

t.test('an alert that waits is posted after that much virtual time, not real time', async (t) => {
  const { results } = await runFile(
    'wait.test.yaml',
    `tests:
  - name: resolved half an hour later
    timeout: 60s
    alerts:${alert}
      - { labels: { alertname: Down, namespace: ai-ninja, deployment: realtime-processor }, status: resolved, wait: 30m }${healthy}
    expect: { status: succeeded, runs: [{ status: succeeded }] }
`,
  );
  const r = results[0]!;
  t.same(r.mismatches, [], failureDetails(r).join('\n'));
  t.ok(r.virtualMs >= 30 * 60_000, `the case covered ${r.virtualMs} ms of virtual time within its 60 s of real time`);
});

t.test('a malformed test file is refused with file:line:column', async (t) => {
  const { problems, results } = await runFile(
    'malformed.test.yaml',
    `tests:
  - name: typo
    alerts:${alert}
    expect:
      status: succeeded
      mutation: [PATCH deployments/realtime-processor]
`,
  );
  t.same(results, []);
  t.match(problems, [/tests\/malformed\.test\.yaml:7:7: tests\[0\]\.expect: unknown property "mutation"$/]);

  const scaled = await runFile(
    'scaled.test.yaml',
    `playbooks: [../restart.yaml]\ntimeScale: 0.01\ntests:\n  - name: x\n    alerts:${alert}\n`,
  );
  t.match(scaled.problems, [/tests\/scaled\.test\.yaml:2:1: timeScale is no longer used: playbooks are tested with their real durations/]);

  const bad = await runFile('bad-value.test.yaml', `tests:\n  - name: x\n    alerts:${alert}\n    expect: { status: fine }\n`);
  t.match(bad.problems, [
    /tests\/bad-value\.test\.yaml:5:23: tests\[0\]\.expect\.status: must be one of "succeeded", "completed", "failed", "escalated", "skipped", "cancelled"$/,
  ]);
});
