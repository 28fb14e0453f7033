import t from 'tap';
import { applicablePause, describePause, type PauseRecord } from '../../src/guards/pause-policy.ts';

const t0 = Date.parse('2026-03-01T10:00:00Z');
const base = { reason: 'change freeze', code: 'paused' as const, by: 'alice', since: new Date(t0).toISOString() };
const ns: PauseRecord = { ...base, scope: 'namespace', value: 'payments' };
const pb: PauseRecord = { ...base, scope: 'playbook', value: 'restart', until: new Date(t0 + 60_000).toISOString(), untilMs: t0 + 60_000 };
const global: PauseRecord = { ...base, scope: 'global', code: 'storm_paused', by: 'storm-breaker' };

t.test('a pause applies to its own scope only, global before narrower ones', async (t) => {
  t.equal(applicablePause([ns, pb], t0, { playbook: 'other', namespace: 'ai-ninja' }), undefined);
  t.equal(applicablePause([ns, pb], t0, { playbook: 'other', namespace: 'payments' }), ns);
  t.equal(applicablePause([ns, pb], t0, { playbook: 'restart', namespace: 'ai-ninja' }), pb);
  t.equal(applicablePause([ns, pb, global], t0, { playbook: 'restart', namespace: 'payments' }), global);
  t.equal(applicablePause([ns], t0, { playbook: 'x' }), undefined, 'a namespace pause needs the namespace known');
});

t.test('a pause with until ends by itself', async (t) => {
  t.equal(applicablePause([pb], t0 + 59_999, { playbook: 'restart' }), pb);
  t.equal(applicablePause([pb], t0 + 60_000, { playbook: 'restart' }), undefined);
  t.match(describePause(pb), /playbook "restart" are paused .* by alice until 2026-03-01T10:01:00\.000Z: change freeze/);
  t.match(describePause(global), /all automatic mutations are paused .* until an operator lifts it/);
});
