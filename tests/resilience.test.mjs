// @ts-check
// Delivery guarantees across reconnects and a restart of workerd (the hub evicted with its
// in-memory state gone): the hub's event log lives in its SQLite storage, so nothing is lost.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startWorker, callEvent, newCallId } from './helpers/worker.mjs';

const dir = mkdtempSync(join(tmpdir(), 'cti-persist-'));
let w;
after(async () => {
  await w?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('reconnect with since=<seq> gets exactly the missed events, also after a restart', async () => {
  w = await startWorker({ persist: dir });
  const admin = await w.login({ role: 'admin', login: 'resilience-admin' });
  const a = await w.openSocket(admin);
  const first = callEvent();
  await w.sendEvent(first);
  const seen = await a.waitFor((m) => m.legId === String(first.call_id));
  a.close();

  // Missed while disconnected: a new call and the first call's answer.
  const second = callEvent({ call_id: newCallId(), external_number: '+818011112222' });
  await w.sendEvent(second);

  // Restart workerd on the same storage: the hub object is rebuilt from disk.
  await w.close();
  w = await startWorker({ persist: dir });
  const again = await w.login({ role: 'admin', login: 'resilience-admin' });
  const connected = { ...first, state: 'connected', date_connected: Date.now() };
  await w.sendEvent(connected);

  const b = await w.openSocket(again, { since: seen.seq });
  await b.waitFor((m) => m.legId === String(first.call_id) && m.state === 'connected');
  const replayed = b.messages.filter((m) => m.type !== 'hello');
  assert.deepEqual(
    replayed.map((m) => [m.legId, m.type, m.state]),
    [
      [String(second.call_id), 'incoming_call', 'ringing'],
      [String(first.call_id), 'call_state', 'connected'],
    ],
  );
  assert.ok(
    replayed[0].seq > seen.seq && replayed[1].seq > replayed[0].seq,
    'in order, after since',
  );
  b.close();

  // A fresh console (no since) gets the calls still live, once each, newest state.
  const c = await w.openSocket(again);
  await c.settle();
  const live = c.messages.filter((m) => m.type !== 'hello' && m.raw === undefined);
  const byCall = Object.fromEntries(live.map((m) => [m.callId, m.state]));
  assert.equal(byCall[String(first.call_id)], 'connected');
  assert.equal(byCall[String(second.call_id)], 'ringing');
  assert.equal(live.length, Object.keys(byCall).length, 'one message per live call');
  c.close();

  // A console that has seen everything (since = the latest seq) is replayed nothing (the hub
  // skips the query), then hears the next event live.
  const latest = replayed[1].seq;
  const d = await w.openSocket(again, { since: latest });
  await d.settle();
  assert.deepEqual(
    d.messages.filter((m) => m.type !== 'hello' && m.raw === undefined),
    [],
  );
  assert.deepEqual(
    d.messages.filter((m) => m.type === 'hello').map((m) => [m.seq, m.replay]),
    [[latest, 0]],
  );
  const third = callEvent({ call_id: newCallId(), external_number: '+818033334444' });
  await w.sendEvent(third);
  const heard = await d.waitFor((m) => m.legId === String(third.call_id));
  assert.ok(heard.seq > latest, 'live, after since');
  d.close();
});

test('a retried webhook after a restart is still recognised as a duplicate', async () => {
  const ev = callEvent();
  assert.equal((await w.sendEvent(ev)).body.status, 'broadcast');
  await w.close();
  w = await startWorker({ persist: dir });
  const r = await w.sendEvent(ev);
  assert.equal(r.status, 200);
  assert.equal(r.body.status, 'duplicate');
  assert.equal(
    await w.count('SELECT * FROM call_events WHERE call_id = ?1', String(ev.call_id)),
    1,
  );
});
