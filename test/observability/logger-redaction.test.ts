import t from 'tap';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/observability/logger.ts';

/** A logger writing into an array of parsed lines. */
function capture() {
  const lines: Array<Record<string, any>> = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      for (const l of String(chunk).split('\n')) if (l) lines.push(JSON.parse(l));
      done();
    },
  });
  return { log: createLogger({ destination, level: 'debug' }), lines };
}

t.test('secrets one level down and in headers never reach a log line; the logged object is left as it was', async (t) => {
  const { log, lines } = capture();
  const target = { type: 'pagerduty', routingKey: 'R0UTING-KEY', apiKey: 'API-KEY', name: 'oncall' };
  const req = { method: 'POST', headers: { authorization: 'Bearer SECRET-TOKEN', host: 'x' } };
  log.info(
    {
      target,
      req,
      headers: { authorization: 'Basic abc' },
      config: { token: 'T', password: 'P', secret: 'S', webhookUrl: 'https://hooks/x' },
    },
    'hello',
  );
  const [line] = lines;
  t.equal(line!.target.routingKey, '[redacted]');
  t.equal(line!.target.apiKey, '[redacted]');
  t.equal(line!.target.name, 'oncall', 'other fields kept');
  t.equal(line!.req.headers.authorization, '[redacted]');
  t.equal(line!.req.headers.host, 'x');
  t.equal(line!.headers.authorization, '[redacted]');
  t.same(line!.config, { token: '[redacted]', password: '[redacted]', secret: '[redacted]', webhookUrl: '[redacted]' });
  t.equal(target.routingKey, 'R0UTING-KEY', 'the caller’s object is not changed');
  t.equal(req.headers.authorization, 'Bearer SECRET-TOKEN');
  t.notMatch(JSON.stringify(lines), /SECRET-TOKEN|R0UTING-KEY|API-KEY|hooks\/x/);
});

t.test('a line without secrets is written as given, errors too', async (t) => {
  const { log, lines } = capture();
  log.info({ receiver: 'remediator', alerts: ['a:started', 'b:deduplicated'] }, 'webhook: 2 alert(s)');
  log.error({ err: new Error('boom') }, 'failed');
  t.same(lines[0]!.alerts, ['a:started', 'b:deduplicated']);
  t.equal(lines[0]!.msg, 'webhook: 2 alert(s)');
  t.equal(lines[1]!.err.message, 'boom');
});
