import t from 'tap';
import { distinctTargets, stormPause, trips } from '../../src/guards/storm-policy.ts';

const M = 60_000;
const settings = { targets: 5, windowMs: 10 * M, pauseForMs: 0 };
const t0 = Date.parse('2026-03-01T10:00:00Z');

t.test('the breaker counts distinct targets in the window and trips above the threshold', async (t) => {
  const seen = ['a', 'b', 'c', 'd', 'e'].map((target, i) => ({ target, at: t0 + i * M }));
  t.equal(distinctTargets(seen, t0 + 5 * M, settings.windowMs), 5);
  t.notOk(trips(5, settings), 'five targets is not more than five');
  const withRepeat = [...seen, { target: 'a', at: t0 + 6 * M }];
  t.equal(distinctTargets(withRepeat, t0 + 6 * M, settings.windowMs), 5, 'the same target twice counts once');
  const sixth = [...seen, { target: 'f', at: t0 + 6 * M }];
  t.ok(trips(distinctTargets(sixth, t0 + 6 * M, settings.windowMs), settings));
  t.equal(distinctTargets(sixth, t0 + 10 * M, settings.windowMs), 5, 'target a (10 minutes old) has left the window');
});

t.test('the storm pause is global, says why, and lasts until lifted unless pauseFor is set', async (t) => {
  const p = stormPause(settings, t0);
  t.equal(p.scope, 'global');
  t.equal(p.code, 'storm_paused');
  t.equal(p.until, undefined);
  t.match(p.reason, /more than 5 distinct targets .* within 10m/);
  const timed = stormPause({ ...settings, pauseForMs: 30 * M }, t0);
  t.equal(timed.until, '2026-03-01T10:30:00.000Z');
  t.equal(timed.untilMs, t0 + 30 * M);
});
