import t from 'tap';
import { ineffectiveMessage, ineffectiveVerdict } from '../../src/guards/ineffective-policy.ts';

const M = 60_000;
const t0 = Date.parse('2026-03-01T10:00:00Z');
const fix = { rung: 0, at: t0, runId: 'run-1' };

t.test('a new run soon after a success climbs one rung; none left means a human', async (t) => {
  t.same(ineffectiveVerdict(fix, t0 + 5 * M, 30 * M, 3), { kind: 'climb', rung: 1 });
  t.same(ineffectiveVerdict({ ...fix, rung: 1 }, t0 + 5 * M, 30 * M, 3), { kind: 'climb', rung: 2 });
  t.same(ineffectiveVerdict({ ...fix, rung: 2 }, t0 + 5 * M, 30 * M, 3), { kind: 'exhausted' });
  t.same(ineffectiveVerdict(fix, t0 + 5 * M, 30 * M, 1), { kind: 'exhausted' }, 'a one-rung playbook has nowhere to climb');
});

t.test('outside the window, without a success, or with the check off, the run starts normally', async (t) => {
  t.same(ineffectiveVerdict(fix, t0 + 30 * M, 30 * M, 3), { kind: 'none' }, 'exactly one window later the fix held');
  t.same(ineffectiveVerdict(undefined, t0, 30 * M, 3), { kind: 'none' });
  t.same(ineffectiveVerdict(fix, t0 + M, 0, 3), { kind: 'none' });
});

t.test('the note names the fix that did not hold and where the run starts', async (t) => {
  const msg = ineffectiveMessage(fix, t0 + 5 * M, ['restart', 'rollback'], { kind: 'climb', rung: 1 });
  t.equal(msg, 'the alert came back 5m after rung "restart" of run run-1 succeeded, so that fix did not hold: starting at rung "rollback"');
});
