import t from 'tap';
import { budgetLimits, budgetVerdict, exhaustedMessage } from '../../src/guards/budget-policy.ts';

const H = 3_600_000;
const limits = { runs: 3, windowMs: H, cooldownMs: 0 };
const t0 = Date.parse('2026-03-01T10:00:00Z');

t.test('the fourth run within the window is refused, and the budget frees when the oldest run leaves it', async (t) => {
  const counted = [
    { runId: 'a', at: t0 },
    { runId: 'b', at: t0 + 10 * 60_000 },
    { runId: 'c', at: t0 + 20 * 60_000 },
  ];
  t.same(budgetVerdict({ counted: counted.slice(0, 2) }, 'c', t0 + 20 * 60_000, limits), { kind: 'admit' });
  t.same(budgetVerdict({ counted }, 'd', t0 + 30 * 60_000, limits), { kind: 'exhausted', freesAt: t0 + H });
  t.same(budgetVerdict({ counted }, 'd', t0 + H - 1, limits), { kind: 'exhausted', freesAt: t0 + H }, 'one ms before the oldest leaves');
  t.same(budgetVerdict({ counted }, 'd', t0 + H, limits), { kind: 'admit' }, 'a run exactly one window old no longer counts');
});

t.test('a run already counted is never refused for its own later mutations', async (t) => {
  const counted = [
    { runId: 'a', at: t0 },
    { runId: 'b', at: t0 + 1 },
    { runId: 'c', at: t0 + 2 },
  ];
  t.same(budgetVerdict({ counted }, 'b', t0 + 5 * 60_000, limits), { kind: 'counted' });
});

t.test('cooldown: another run started on the target too recently; the same run is not cooled down by itself', async (t) => {
  const cool = { ...limits, cooldownMs: 15 * 60_000 };
  const lastStart = { runId: 'x', at: t0 };
  t.same(budgetVerdict({ counted: [], lastStart }, 'y', t0 + 5 * 60_000, cool), { kind: 'cooldown', until: t0 + 15 * 60_000 });
  t.same(budgetVerdict({ counted: [], lastStart }, 'y', t0 + 15 * 60_000, cool), { kind: 'admit' });
  t.same(budgetVerdict({ counted: [], lastStart: { runId: 'y', at: t0 } }, 'y', t0 + 1, cool), { kind: 'admit' });
  t.same(budgetVerdict({ counted: [], lastStart }, 'y', t0 + 1, limits), { kind: 'admit' }, 'no cooldown when it is 0');
});

t.test('a playbook overrides the configured budget key by key', async (t) => {
  t.same(budgetLimits(limits, undefined), limits);
  t.same(budgetLimits(limits, { runs: 1 }), { runs: 1, windowMs: H, cooldownMs: 0 });
  t.same(budgetLimits(limits, { windowMs: 2 * H, cooldownMs: 60_000 }), { runs: 3, windowMs: 2 * H, cooldownMs: 60_000 });
  t.match(
    exhaustedMessage('ai-ninja/Deployment/web', 'restart', limits, t0 + H),
    /restart already ran 3 time\(s\) on ai-ninja\/Deployment\/web within 60m; the budget frees at 2026-03-01T11:00:00.000Z/,
  );
});
