import t from 'tap';
import { compileWindows, openWindow } from '../../src/guards/maintenance-policy.ts';

const [saturday, nightly] = compileWindows([
  { name: 'saturday-upgrades', cron: '0 2 * * 6', duration: '2h', timezone: 'UTC', namespaces: ['ai-ninja'] },
  { name: 'nightly-backup', cron: '30 23 * * *', duration: '1h', timezone: 'Europe/Berlin', playbooks: ['db-restart'] },
]);
const windows = [saturday!, nightly!];

t.test('a window is open from each cron opening for its duration', async (t) => {
  const sat = Date.parse('2026-01-03T02:00:00Z'); // a Saturday
  const subject = { playbook: 'restart', namespace: 'ai-ninja' };
  t.equal(openWindow(windows, sat - 1, subject), undefined, 'not before it opens');
  t.equal(openWindow(windows, sat, subject)?.window.name, 'saturday-upgrades', 'open at the opening minute');
  t.equal(openWindow(windows, sat + 2 * 3_600_000 - 1, subject)?.closesAt, sat + 2 * 3_600_000);
  t.equal(openWindow(windows, sat + 2 * 3_600_000, subject), undefined, 'closed when the duration is over');
  t.equal(openWindow(windows, sat + 7 * 86_400_000 + 60_000, subject)?.window.name, 'saturday-upgrades', 'open again a week later');
});

t.test('namespaces and playbooks narrow a window', async (t) => {
  const sat = Date.parse('2026-01-03T02:30:00Z');
  t.equal(openWindow(windows, sat, { playbook: 'restart', namespace: 'payments' }), undefined, 'another namespace');
  t.equal(openWindow(windows, sat, { playbook: 'restart' }), undefined, 'a namespaced window does not apply when the namespace is unknown');
});

t.test('the cron is read in the window time zone', async (t) => {
  // 23:30 in Berlin in January is 22:30 UTC.
  t.equal(openWindow(windows, Date.parse('2026-01-05T22:45:00Z'), { playbook: 'db-restart' })?.window.name, 'nightly-backup');
  t.equal(openWindow(windows, Date.parse('2026-01-05T23:31:00Z'), { playbook: 'db-restart' }), undefined);
  t.equal(openWindow(windows, Date.parse('2026-01-05T22:45:00Z'), { playbook: 'restart' }), undefined, 'other playbooks are not in it');
});

t.test('a bad cron stops start-up with the window named', async (t) => {
  t.throws(() => compileWindows([{ name: 'typo', cron: '0 25 * * *', duration: '1h', timezone: 'UTC' }]), {
    code: 'REM_ERR_CONFIG_INVALID',
    message: /guards\.maintenance\[0\] \(typo\)/,
  });
});
