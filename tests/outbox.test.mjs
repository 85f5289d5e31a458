// @ts-check
// The pop does not wait on D1 (issue #12): the hub answers from its own index and records the
// call through its outbox. D1 is made unavailable through the test entry's switch
// (tests/helpers/d1-fault-entry.mjs); what D1 holds is read straight from the real database.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startWorker, callEvent } from './helpers/worker.mjs';

const dir = mkdtempSync(join(tmpdir(), 'cti-outbox-'));
let w;
let admin;
let sock;
before(async () => {
  w = await startWorker({ d1Fault: true, persist: dir });
  admin = await w.login({ role: 'admin' });
  sock = await w.openSocket(admin);
});
after(async () => {
  await w?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** D1 as it is, without settling the outbox first (the test's oracle). */
const inD1 = async (sql, ...args) =>
  (
    await w.rawDb
      .prepare(`SELECT count(*) AS n FROM (${sql})`)
      .bind(...args)
      .first()
  ).n;
const until = async (what, check, ms = 40000) => {
  const end = Date.now() + ms;
  for (;;) {
    if (await check()) return;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

test('a webhook makes no D1 round trip before its 200', async () => {
  const warm = callEvent();
  assert.equal((await w.sendEvent(warm)).status, 200); // builds the index once (fresh hub)
  const ev = callEvent();
  const r = await w.sendEvent(ev);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.d1RoundTrips, 0);
  assert.equal(r.body.customerFound, 'found');
});

test('D1 down: pops keep arriving with their cards, webhooks answer 200, the log catches up when D1 returns', async () => {
  await w.flush(); // what the first test left is in D1 before it goes down
  const before = await inD1('SELECT id FROM calls');
  await w.setD1('down');
  const sent = [];
  try {
    for (let n = 0; n < 12; n++) {
      // Alternate a known customer and unknown callers; some calls are answered and end.
      const ev = callEvent(n % 2 ? { external_number: `+8180${String(55500000 + n)}` } : {});
      const r = await w.sendEvent(ev);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body.status, 'broadcast');
      const pop = await sock.waitFor(
        (m) => m.callId === String(ev.call_id) && m.type === 'incoming_call',
      );
      if (n % 2 === 0)
        assert.equal(pop.customer?.name, '山田 太郎', 'the card comes from the hub index');
      else assert.equal(pop.customer, null);
      assert.equal(pop.store.name, '西船橋');
      if (n % 3 === 0) {
        const t = Date.now();
        await w.sendEvent({ ...ev, state: 'missed', event_timestamp: t, date_ended: t });
      }
      sent.push(ev);
    }
    const stats = await w.hub('/stats');
    assert.ok(stats.outbox.waiting >= 12, JSON.stringify(stats.outbox));
    assert.equal(
      await inD1('SELECT id FROM calls'),
      before,
      'nothing reached D1 while it was down',
    );
    // The console's reads need D1: they answer 503, never a wrong empty list.
    const log = await w.json('/api/calls/recent', {
      headers: { authorization: `Bearer ${admin.token}` },
    });
    assert.equal(log.status, 503);
  } finally {
    await w.setD1('up');
  }
  // The alarm (backing off while D1 failed) copies everything, in order, once.
  await until('the outbox to drain', async () => (await w.hub('/stats')).outbox.waiting === 0);
  assert.equal(await inD1('SELECT id FROM calls'), before + sent.length);
  const ids = sent.map((e) => String(e.call_id));
  const rows = await w.rawDb
    .prepare(
      `SELECT id, phase, store_id, customer_id FROM calls WHERE id IN (${ids.map(() => '?').join(',')})`,
    )
    .bind(...ids)
    .all();
  assert.equal(rows.results.length, sent.length);
  for (const [n, ev] of sent.entries()) {
    const row = rows.results.find((r) => r.id === String(ev.call_id));
    assert.equal(row.phase, n % 3 === 0 ? 'missed' : 'ringing', `call ${n}`);
    assert.ok(row.store_id, 'store linked');
    assert.equal(row.customer_id !== null, n % 2 === 0, `customer linked for call ${n}`);
  }
  const missed = sent.filter((_, n) => n % 3 === 0).map((e) => String(e.call_id));
  assert.equal(
    await inD1(
      `SELECT callback_id FROM callback_calls WHERE call_id IN (${missed.map(() => '?').join(',')})`,
      ...missed,
    ),
    missed.length,
    'each missed call on one callback',
  );
  const events = await inD1(
    `SELECT call_id FROM call_events WHERE call_id IN (${ids.map(() => '?').join(',')})`,
    ...ids,
  );
  assert.equal(events, sent.length + missed.length);
  const log = await w.json('/api/calls/search', {
    method: 'POST',
    headers: { authorization: `Bearer ${admin.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ perPage: 100 }),
  });
  assert.equal(log.status, 200);
  for (const id of ids)
    assert.ok(
      log.body.calls.some((c) => c.id === id),
      `call ${id} in the log`,
    );
});

test('a just-popped call is in the call log at once (the read flushes the outbox first)', async () => {
  const ev = callEvent();
  await w.sendEvent(ev);
  const log = await w.json('/api/calls/recent?limit=5', {
    headers: { authorization: `Bearer ${admin.token}` },
  });
  assert.equal(log.status, 200);
  assert.ok(log.body.calls.some((c) => c.id === String(ev.call_id)));
});

test('a drain whose D1 answer was lost after the commit, and a restart mid-way, double nothing', async () => {
  await w.flush();
  const baseCalls = await inD1('SELECT id FROM calls');
  const baseCallbacks = await inD1('SELECT call_id FROM callback_calls');
  await w.setD1('down');
  const sent = [];
  for (let n = 0; n < 6; n++) {
    const ev = callEvent({ external_number: `+8170${String(44400000 + n)}` });
    await w.sendEvent(ev);
    const t = Date.now();
    await w.sendEvent({ ...ev, state: 'missed', event_timestamp: t, date_ended: t });
    sent.push(ev);
  }
  // D1 commits the next batch but its answer is lost: the hub keeps the rows and retries.
  await w.setD1('lost-answer');
  await until(
    'a batch to land in D1',
    async () => (await inD1('SELECT id FROM calls')) > baseCalls,
    20000,
  );
  assert.ok((await w.hub('/stats')).outbox.waiting > 0, 'the hub still holds what D1 committed');
  // Restart workerd on the same storage while the outbox is not empty.
  sock.close();
  const kvMode = 'up';
  await w.close();
  w = await startWorker({ d1Fault: true, persist: dir, seed: false });
  await w.setD1(kvMode);
  admin = await w.login({ role: 'admin' });
  sock = await w.openSocket(admin);
  await until(
    'the outbox to drain after the restart',
    async () => (await w.hub('/stats')).outbox.waiting === 0,
  );
  assert.equal(await inD1('SELECT id FROM calls'), baseCalls + sent.length, 'each call once');
  assert.equal(
    await inD1('SELECT call_id FROM callback_calls'),
    baseCallbacks + sent.length,
    'each missed call on one callback, once',
  );
  // A retry of a delivery after all that is still a duplicate.
  const again = await w.sendEvent(sent[0]);
  assert.equal(again.status, 200);
  assert.equal(again.body.status, 'duplicate');
});

test('health (admin) reports the index and the outbox', async () => {
  const h = await w.json('/api/health', { headers: { authorization: `Bearer ${admin.token}` } });
  assert.equal(h.status, 200);
  const { index, outbox } = h.body.hubStats;
  assert.ok(index.customers > 0 && index.phones > 0 && index.stores > 0, JSON.stringify(index));
  assert.ok(index.lastRebuild);
  assert.equal(outbox.waiting, 0);
  assert.deepEqual(outbox.warnings, []);
});

test('a hub whose index was never built pops while D1 is down, and does not wait on D1 for every event', async () => {
  const fresh = await startWorker({ d1Fault: true });
  try {
    const who = await fresh.login({ role: 'admin' });
    const s = await fresh.openSocket(who);
    await fresh.setD1('down');
    const first = callEvent();
    const r1 = await fresh.sendEvent(first);
    assert.equal(r1.status, 200, JSON.stringify(r1.body));
    assert.equal(r1.body.d1RoundTrips, 1, 'it tried to build the index once');
    const pop = await s.waitFor((m) => m.callId === String(first.call_id));
    assert.equal(pop.type, 'incoming_call');
    assert.equal(pop.customer, null, 'no card without an index');
    const r2 = await fresh.sendEvent(callEvent());
    assert.equal(r2.status, 200);
    assert.equal(r2.body.d1RoundTrips, 0, 'the next event does not wait on D1 again');
    await fresh.setD1('up');
    const rebuilt = await fresh.json('/api/admin/index/rebuild', {
      method: 'POST',
      headers: { authorization: `Bearer ${who.token}`, 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(rebuilt.status, 200);
    assert.ok(rebuilt.body.customers > 0);
    const third = callEvent();
    await fresh.sendEvent(third);
    assert.equal(
      (await s.waitFor((m) => m.callId === String(third.call_id))).customer?.name,
      '山田 太郎',
    );
  } finally {
    await fresh.close();
  }
});

test('a customer edited while the index is being rebuilt pops as edited (the rebuild reads it again)', async () => {
  const auth = { authorization: `Bearer ${admin.token}` };
  const { id } = await w.rawDb
    .prepare("SELECT customer_id AS id FROM customer_phones WHERE phone = '09012345678'")
    .first();
  const rename = async (name) => {
    const cur = (await w.json(`/api/customers/${id}`, { headers: auth })).body.customer;
    const r = await w.json(`/api/customers/${id}`, {
      method: 'PATCH',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ version: cur.version, name }),
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
  };
  // The rebuild has read every customer page and waits at its calls page; the edit lands in
  // D1 and in the index being replaced, then the rebuild goes on with its older page.
  const hold = await w.holdD1('FROM calls WHERE id > ?1 ORDER BY id LIMIT');
  const rebuild = w.reindex();
  try {
    assert.match(await hold.reached(), /FROM calls/);
    await rename('山田 花子');
  } finally {
    await hold.release();
  }
  await rebuild;
  const ev = callEvent();
  assert.equal((await w.sendEvent(ev)).status, 200);
  const pop = await sock.waitFor((m) => m.callId === String(ev.call_id));
  assert.equal(pop.customer?.name, '山田 花子');
  await rename('山田 太郎');
});

test('a call whose events were copied to D1 while the index was being rebuilt keeps its state in the hub', async () => {
  const ev = callEvent();
  assert.equal((await w.sendEvent(ev)).status, 200);
  await w.flush();
  // The rebuild has read the calls page (this call ringing) and waits before its next read;
  // meanwhile the call is answered and the outbox copies that to D1.
  const hold = await w.holdD1('FROM call_events WHERE received_at > ?1');
  const rebuild = w.reindex();
  try {
    assert.match(await hold.reached(), /FROM call_events/);
    const now = Date.now();
    assert.equal(
      (await w.sendEvent({ ...ev, state: 'connected', date_connected: now, event_timestamp: now }))
        .status,
      200,
    );
    await w.flush();
  } finally {
    await hold.release();
  }
  await rebuild;
  // A late ringing delivery: the hub answers with the call's state, which never goes back.
  const late = await w.sendEvent({
    ...ev,
    state: 'ringing',
    event_timestamp: Date.now() - 1000,
    call_id: ev.call_id + 1,
    master_call_id: ev.call_id,
  });
  assert.equal(late.status, 200, JSON.stringify(late.body));
  const msg = await sock.waitFor(
    (m) => m.callId === String(ev.call_id) && m.legId === String(ev.call_id + 1),
  );
  assert.equal(msg.phase, 'connected', 'the rebuild did not put back the older D1 page');
});

test("health's events figure counts each event once: while it waits for D1 and after it is written", async () => {
  const health = async () =>
    (await w.json('/api/health', { headers: { authorization: `Bearer ${admin.token}` } })).body
      .hubStats;
  await until('an empty outbox', async () => (await health()).outbox.waiting === 0);
  const before = (await health()).index.events;
  await w.setD1('down');
  const sent = [callEvent(), callEvent(), callEvent()];
  for (const ev of sent) assert.equal((await w.sendEvent(ev)).status, 200);
  // A redelivery is not a second event.
  assert.equal((await w.sendEvent(sent[0])).body.status, 'duplicate');
  await w.setD1('up');
  const waiting = await health();
  assert.equal(waiting.index.events, before + 3, JSON.stringify(waiting));
  await until('the outbox written to D1', async () => (await health()).outbox.waiting === 0);
  assert.equal((await health()).index.events, before + 3);
});
