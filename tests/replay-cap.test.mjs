// @ts-check
// A reconnect loop cannot make the hub replay its whole event log again and again (issue 23):
// each session may be replayed HUB_REPLAY_BUDGET events a minute (2,000 by default); past it, a
// replay is cut to the latest event of each call, so its cost is bounded and the console still
// shows every call as it is now.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { startWorker, callEvent, newCallId } from './helpers/worker.mjs';

let w;
before(async () => {
  w = await startWorker({ bindings: { HUB_REPLAY_BUDGET: '4' } });
});
after(() => w?.close());

const replayed = async (socket) => {
  await socket.settle();
  return socket.messages.filter((m) => m.type !== 'hello' && m.raw === undefined);
};

test('past its replay budget a session is replayed the latest event of each call, not the log', async () => {
  const admin = await w.login({ role: 'admin' });
  const watcher = await w.openSocket(admin);
  const hello = watcher.of('hello')[0];
  // Three events of two calls: one call rang and was answered, another rang.
  const a = callEvent();
  const b = callEvent({ call_id: newCallId(), external_number: '+818011113333' });
  await w.sendEvent(a);
  await w.sendEvent({ ...a, state: 'connected', date_connected: Date.now() });
  await w.sendEvent(b);
  await watcher.waitFor((m) => m.legId === String(b.call_id));
  watcher.close();

  // Within the budget (3 of 4): every event after `since`, in order.
  const first = await w.openSocket(admin, { since: hello.seq });
  const full = await replayed(first);
  assert.deepEqual(
    full.map((m) => [m.legId, m.state]),
    [
      [String(a.call_id), 'ringing'],
      [String(a.call_id), 'connected'],
      [String(b.call_id), 'ringing'],
    ],
  );
  assert.equal(first.of('hello')[0].replay, 3);
  first.close();

  // The same session again within the minute (1 left, 3 due): the latest event of each call.
  const again = await w.openSocket(admin, { since: hello.seq });
  const cut = await replayed(again);
  assert.deepEqual(
    cut.map((m) => [m.legId, m.state]),
    [
      [String(a.call_id), 'connected'],
      [String(b.call_id), 'ringing'],
    ],
  );
  assert.equal(again.of('hello')[0].replay, 2, 'the hello counts what is replayed');
  assert.ok(cut[0].seq < cut[1].seq, 'in seq order');
  // A console sees nothing twice and misses no call: its seq moves to the hello's.
  assert.equal(again.of('hello')[0].seq, full.at(-1).seq);
  again.close();

  // Another session has its own budget: the whole log.
  const other = await w.login({ role: 'admin' });
  const third = await w.openSocket(other, { since: hello.seq });
  assert.equal((await replayed(third)).length, 3);
  third.close();
});
