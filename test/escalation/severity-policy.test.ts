import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import t from 'tap';
import { EscalationConfig, resolveSecret } from '../../src/escalation/escalation-config.ts';
import { resolutionDeadline, SeverityPolicy, SeverityPolicyConfig } from '../../src/escalation/severity-policy.ts';
import { createTargets } from '../../src/escalation/targets/index.ts';

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
const ajv = addFormats(new Ajv({ allErrors: true, strict: false }));
const checkConfig = ajv.compile(EscalationConfig);
const checkPolicy = ajv.compile(SeverityPolicyConfig);

t.test('levels from alert labels: first matching rule, else the default', async (t) => {
  const p = new SeverityPolicy();
  t.equal(p.levelFor({ alertname: 'ServiceDown', severity: 'critical' }), 'P0');
  t.equal(p.levelFor({ priority: 'P1', severity: 'warning' }), 'P1', 'an explicit priority label wins over severity=warning');
  t.equal(p.levelFor({ severity: 'warning' }), 'P2');
  t.equal(p.levelFor({ severity: 'info' }), 'P3');
  t.equal(p.levelFor({ team: 'x' }), 'P2', 'default');

  const custom = new SeverityPolicy({
    rules: [{ match: { service: 'phone-gateway', severity: 'warning' }, level: 'P1' }],
    defaultLevel: 'P3',
  });
  t.equal(custom.levelFor({ service: 'phone-gateway', severity: 'warning' }), 'P1', 'all labels of a rule must match');
  t.equal(custom.levelFor({ service: 'phone-gateway' }), 'P3');
});

t.test('response and resolution times are the process levels, and configurable', async (t) => {
  t.equal(resolutionDeadline('P0'), 3_600_000);
  t.equal(resolutionDeadline('P1'), 4 * 3_600_000);
  t.equal(resolutionDeadline('P2'), 24 * 3_600_000);
  t.equal(resolutionDeadline('P3'), 7 * 24 * 3_600_000);
  const p = new SeverityPolicy();
  t.same(
    ['P0', 'P1', 'P2', 'P3'].map((l) => p.responseTime(l as 'P0')),
    [300_000, 900_000, 1_800_000, null],
    'P3: business hours',
  );
  const q = new SeverityPolicy({ levels: { P0: { resolution: '30m', response: '2m' } } });
  t.equal(resolutionDeadline('P0', q), 1_800_000);
  t.equal(q.responseTime('P0'), 120_000);
  t.equal(resolutionDeadline('P1', q), 4 * 3_600_000, 'other levels keep their defaults');
});

t.test('what each level does by default: P0 page + Slack, P1 page, P2 Slack, P3 record only', async (t) => {
  const p = new SeverityPolicy();
  t.same(
    ['P0', 'P1', 'P2', 'P3'].map((l) => [p.forLevel(l as 'P0').page, p.forLevel(l as 'P0').notify]),
    [
      [true, true],
      [true, false],
      [false, true],
      [false, false],
    ],
  );
  const q = new SeverityPolicy({ levels: { P3: { targets: ['ticket-hook'] } } });
  t.same(q.forLevel('P3').targets, ['ticket-hook']);
});

t.test('the config schema accepts the documented shape and refuses typos', async (t) => {
  const good = {
    targets: {
      pd: { type: 'pagerduty', routingKey: 'env:PD_KEY', rateLimit: { max: 60, window: '1m' } },
      og: { type: 'opsgenie', apiKey: 'k', url: 'https://api.eu.opsgenie.com' },
      slack: { type: 'slack', webhookUrl: 'env:SLACK_URL' },
      hook: { type: 'webhook', url: 'https://hooks.example.com/x', secret: 's3cret!', headers: { authorization: 'Bearer t' } },
    },
    policy: { rules: [{ match: { severity: 'critical' }, level: 'P0' }], defaultLevel: 'P2', levels: { P1: { page: true, notify: true } } },
    delivery: { timeout: '5s', attempts: 5, backoff: '1s' },
  };
  t.ok(checkConfig(good), JSON.stringify(checkConfig.errors));
  t.notOk(checkConfig({ targets: { pd: { type: 'pagerduty', routing_key: 'x' } } }), 'routing_key is not routingKey');
  t.notOk(checkConfig({ targets: {}, delivery: { timeout: 'soon' } }));
  t.notOk(checkPolicy({ defaultLevel: 'P5' }));
  t.notOk(checkConfig({ targets: { slack: { type: 'slack', webhookUrl: 'https://x', channel: '#ops' } } }), 'unknown keys are refused');
});

t.test('env: secrets are read at start-up; a missing variable is named, never a value', async (t) => {
  t.equal(resolveSecret('env:PD_KEY', 'x', { PD_KEY: 'abc123' }), 'abc123');
  t.equal(resolveSecret('literal', 'x', {}), 'literal');
  t.throws(() => createTargets({ pd: { type: 'pagerduty', routingKey: 'env:PD_ROUTING_KEY' } }, {}), {
    code: 'REM_ERR_CONFIG_INVALID',
    message: 'escalation.targets.pd.routingKey: environment variable PD_ROUTING_KEY is not set',
  });
  const targets = createTargets(
    { pd: { type: 'pagerduty', routingKey: 'env:K' }, s: { type: 'slack', webhookUrl: 'https://hooks.slack.com/services/T1/B2/xyz' } },
    { K: 'routing-key-value' },
  );
  t.same(
    [...targets.values()].map((x) => [x.name, x.type, x.role]),
    [
      ['pd', 'pagerduty', 'page'],
      ['s', 'slack', 'notify'],
    ],
  );
  t.same(targets.get('pd')!.secrets, ['routing-key-value']);
  t.notOk(targets.get('pd')!.rateLimit!.key.includes('routing-key-value'), 'the limiter bucket is a hash');
});

t.test('overdue: a run past its resolution time keeps working unless the level says stop; a typo is refused', async (t) => {
  const policy = new SeverityPolicy({ levels: { P1: { resolution: '2h', overdue: 'stop' } } });
  t.same(
    ['P0', 'P1', 'P2', 'P3'].map((l) => policy.forLevel(l as 'P0').overdue),
    ['continue', 'stop', 'continue', 'continue'],
  );
  t.equal(policy.resolutionDeadline('P1'), 2 * 3_600_000);
  t.ok(checkPolicy({ levels: { P0: { overdue: 'continue' } } }));
  t.notOk(checkPolicy({ levels: { P0: { overdue: 'page' } } }));
});

t.test('P0 tells the business owner at its response time by default; configured tiers replace that', async (t) => {
  t.same(
    new SeverityPolicy().forLevel('P0').tiers,
    [{ targets: ['business-owner'], afterMs: 5 * 60_000, notify: true, byDefault: true }],
    'within 5 minutes, acknowledged or not',
  );
  t.same(
    new SeverityPolicy({ levels: { P0: { response: '2m' } } }).forLevel('P0').tiers[0]?.afterMs,
    2 * 60_000,
    'at the P0 response time',
  );
  t.same(new SeverityPolicy({ levels: { P0: { tiers: [] } } }).forLevel('P0').tiers, [], '[] turns it off');
  t.same(new SeverityPolicy({ levels: { P0: { tiers: [{ targets: ['owner'], after: '3m', notify: true }] } } }).forLevel('P0').tiers, [
    { targets: ['owner'], afterMs: 3 * 60_000, notify: true },
  ]);
  for (const level of ['P1', 'P2', 'P3'] as const) t.same(new SeverityPolicy().forLevel(level).tiers, [], `${level}: no default tier`);
});
