import t from 'tap';
import { getEventListeners } from 'node:events';
import { linkedSignal, withLinkedSignal } from '../../src/domain/linked-signal.ts';

// One operation's signal: aborted by any parent or by its timeout, and unhooked from its parents once disposed, so a
// signal that lives as long as the worker never holds the operations made under it.

/** Resolves after the timers due within `ms` ran (timers fire in order of expiry). */
const after = (ms: number) => new Promise((r) => setTimeout(r, ms));

t.test('a parent aborting aborts the operation with the parent reason', async (t) => {
  const worker = new AbortController();
  const run = new AbortController();
  const { signal, dispose } = linkedSignal([worker.signal, undefined, run.signal]);
  const reason = new Error('run cancelled');
  run.abort(reason);
  t.ok(signal.aborted);
  t.equal(signal.reason, reason);
  dispose();
});

t.test('an already aborted parent aborts it at once', async (t) => {
  const gone = AbortSignal.abort(new Error('shutting down'));
  const { signal } = linkedSignal([new AbortController().signal, gone], { timeoutMs: 60_000 });
  t.ok(signal.aborted);
  t.equal((signal.reason as Error).message, 'shutting down');
});

t.test('the timeout aborts with a TimeoutError, or with the reason given', async (t) => {
  const plain = linkedSignal([new AbortController().signal], { timeoutMs: 1 });
  const custom = linkedSignal([], { timeoutMs: 1, timeoutReason: () => new Error('attempt timed out after 1 ms') });
  await after(20);
  t.equal((plain.signal.reason as DOMException).name, 'TimeoutError', 'as AbortSignal.timeout gives');
  t.equal((custom.signal.reason as Error).message, 'attempt timed out after 1 ms');
});

t.test('disposed: the parents hold nothing of the operation and the timer never fires', async (t) => {
  const worker = new AbortController();
  for (let i = 0; i < 100; i++) {
    const op = linkedSignal([worker.signal], { timeoutMs: 1 });
    op.signal.addEventListener('abort', () => undefined);
    op.dispose();
  }
  t.equal(getEventListeners(worker.signal, 'abort').length, 0, 'no listener left on the long-lived signal');
  const op = linkedSignal([worker.signal], { timeoutMs: 1 });
  op.dispose();
  await after(20);
  t.notOk(op.signal.aborted, 'the 1 ms timer was stopped');
  worker.abort(new Error('later'));
  t.notOk(op.signal.aborted, 'nor does the parent reach it any more');
});

t.test('withLinkedSignal disposes when the operation settles, also when it fails', async (t) => {
  const worker = new AbortController();
  t.equal(await withLinkedSignal([worker.signal], { timeoutMs: 60_000 }, async (s) => (s.aborted ? 'aborted' : 'ok')), 'ok');
  await t.rejects(
    withLinkedSignal([worker.signal], { timeoutMs: 60_000 }, async () => {
      throw new Error('kube said no');
    }),
    { message: 'kube said no' },
  );
  t.equal(getEventListeners(worker.signal, 'abort').length, 0);
});
