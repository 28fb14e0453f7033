import t from 'tap';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { httpCheckGate } from '../../src/gates/http-check.ts';
import { gates } from '../../src/gates/index.ts';
import { freePort } from '../../src/dev/free-port.ts';
import { checkGate } from '../support/gate-context.ts';

/** A local service whose answers the test scripts one request at a time. */
async function service(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const srv = createServer(handler);
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => srv.close(() => resolve())));
  return `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
}

t.test('is registered and asks for five passes in a row by default', async (t) => {
  t.equal(
    gates.find((g) => g.name === 'http.check'),
    httpCheckGate,
  );
  t.equal(httpCheckGate.defaults?.successes, 5);
});

t.test('a service that answers 500 then 200: fail with the status, then pass', async (t) => {
  let calls = 0;
  const url = await service((_req, res) => {
    calls++;
    res.writeHead(calls === 1 ? 500 : 200, { 'content-type': 'text/plain' }).end(calls === 1 ? 'boom' : 'ok');
  });
  const first = await checkGate(httpCheckGate, { url: `${url}/healthz` });
  t.equal(first.verdict, 'fail');
  t.equal(first.statusCode, 500);
  t.match(first.summary, /HTTP 500 in \d+ ms .*expected 200-299/);
  t.equal(typeof first.latencyMs, 'number');
  const second = await checkGate(httpCheckGate, { url: `${url}/healthz` });
  t.equal(second.verdict, 'pass');
  t.equal(second.statusCode, 200);
  t.match(second.summary, /^HTTP 200 in \d+ ms$/);
});

t.test('expectStatus accepts codes, ranges and classes', async (t) => {
  const url = await service((req, res) => {
    res.writeHead(Number(new URL(req.url!, 'http://x').searchParams.get('s'))).end();
  });
  const cases: Array<[number, Array<number | string>, 'pass' | 'fail']> = [
    [204, [200], 'fail'],
    [204, [200, 204], 'pass'],
    [301, ['200-299'], 'fail'],
    [299, ['200-299'], 'pass'],
    [404, ['4xx'], 'pass'],
    [503, ['4xx', 200], 'fail'],
  ];
  for (const [status, expectStatus, verdict] of cases) {
    const o = await checkGate(httpCheckGate, { url: `${url}/?s=${status}`, expectStatus });
    t.equal(o.verdict, verdict, `${status} against ${JSON.stringify(expectStatus)}`);
  }
});

t.test('body conditions: contains, regex, JSONPath', async (t) => {
  let body: unknown = {
    status: 'DOWN',
    checks: [
      { name: 'db', status: 'pass' },
      { name: 'cache', status: 'fail' },
    ],
  };
  const url = await service((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });

  const contains = await checkGate(httpCheckGate, { url, bodyMatch: { contains: '"status":"UP"' } });
  t.equal(contains.verdict, 'fail');
  t.match(contains.summary, /HTTP 200 .*does not contain/);
  t.match(contains.value, { status: 200, body: /DOWN/ }, 'what was seen is recorded');

  const path = await checkGate(httpCheckGate, { url, bodyMatch: { jsonPath: { path: '$.status', equals: 'UP' } } });
  t.equal(path.verdict, 'fail');
  t.match(path.summary, /\$\.status is "DOWN", expected "UP"/);

  const every = await checkGate(httpCheckGate, { url, bodyMatch: { jsonPath: { path: '$.checks[*].status', equals: 'pass' } } });
  t.equal(every.verdict, 'fail', 'every selected value must match');

  const missing = await checkGate(httpCheckGate, { url, bodyMatch: { jsonPath: { path: '$.nothing' } } });
  t.match(missing, { verdict: 'fail', summary: /selects nothing/ });

  body = {
    status: 'UP',
    checks: [
      { name: 'db', status: 'pass' },
      { name: 'cache', status: 'pass' },
    ],
  };
  t.equal((await checkGate(httpCheckGate, { url, bodyMatch: { contains: '"status":"UP"' } })).verdict, 'pass');
  t.equal((await checkGate(httpCheckGate, { url, bodyMatch: { regex: '"status":\\s*"(UP|OK)"' } })).verdict, 'pass');
  t.equal(
    (await checkGate(httpCheckGate, { url, bodyMatch: { jsonPath: { path: '$.checks[*].status', equals: 'pass' }, contains: 'db' } }))
      .verdict,
    'pass',
  );

  const script = await checkGate(httpCheckGate, { url, bodyMatch: { jsonPath: { path: '$.checks[?(@.status=="pass")]' } } });
  t.equal(script.verdict, 'fail', 'script expressions are refused, never evaluated');

  const broken = await checkGate(httpCheckGate, { url, bodyMatch: { regex: '(unclosed' } });
  t.equal(broken.verdict, 'fatal', 'a regex that cannot compile will never pass');
});

t.test('a text body is not JSON for JSONPath', async (t) => {
  const url = await service((_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('OK'));
  t.match(await checkGate(httpCheckGate, { url, bodyMatch: { jsonPath: { path: '$.status' } } }), { verdict: 'fail', summary: /not JSON/ });
});

t.test('a refused connection is a fail with the reason, not a throw', async (t) => {
  const port = await freePort();
  const o = await checkGate(httpCheckGate, { url: `http://127.0.0.1:${port}/healthz` });
  t.equal(o.verdict, 'fail');
  t.match(o.summary, /ECONNREFUSED/);
  t.equal(o.statusCode, undefined);
});

t.test('a service that hangs fails the poll at the per-request timeout', async (t) => {
  const url = await service(() => {
    /* never answers */
  });
  const o = await checkGate(httpCheckGate, { url, timeout: '200ms' });
  t.equal(o.verdict, 'fail');
  // The poll ended because of its own timeout (what ended it, not how long it took: that depends on the machine).
  t.match(o.summary, /timeout of 200ms exceeded/, 'ended by the per-request timeout');
});

t.test('sends the method, headers and body it is given', async (t) => {
  let seen: { method?: string; auth?: string; body?: string } = {};
  const url = await service((req, res) => {
    let data = '';
    req.on('data', (c) => (data += c));
    req.on('end', () => {
      seen = { method: req.method, auth: req.headers.authorization, body: data };
      res.writeHead(202).end();
    });
  });
  const o = await checkGate(httpCheckGate, { url, method: 'POST', headers: { authorization: 'Bearer x' }, body: { probe: true } });
  t.equal(o.verdict, 'pass');
  t.same(seen, { method: 'POST', auth: 'Bearer x', body: '{"probe":true}' });
});

t.test('a cancelled run aborts the poll instead of recording a failure', async (t) => {
  const url = await service(() => {});
  const ac = new AbortController();
  setTimeout(() => ac.abort(new Error('run cancelled')), 50);
  await t.rejects(checkGate(httpCheckGate, { url }, { signal: ac.signal }), /run cancelled/);
});
