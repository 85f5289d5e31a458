// @ts-check
// Every realistic Dialpad delivery (tests/corpus/deliveries.mjs) against the built Worker:
// signed as Dialpad signs it, each must get a 2xx, be recorded once (one call-log row per
// customer call, as the API lists it, and one event-log row per leg and state), and open at most
// one popup per customer call (counted as `incoming_call` messages on an admin console socket).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorker, signHS256, WEBHOOK_SECRET } from './helpers/worker.mjs';
import { deliveries, claimsJson } from './corpus/deliveries.mjs';

let w;
let admin;
let socket;
before(async () => {
  w = await startWorker();
  admin = await w.login({ role: 'admin' });
  socket = await w.openSocket(admin);
});
after(() => w?.close());

/** The whole call log, through the API the console uses. */
async function callLog() {
  const rows = [];
  for (let page = 1; ; page++) {
    const r = await w.json('/api/calls/search', {
      method: 'POST',
      headers: { authorization: `Bearer ${admin.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ perPage: 100, page }),
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    rows.push(...r.body.calls);
    if (rows.length >= r.body.total || r.body.calls.length === 0) return rows;
  }
}

const pops = (callId) => socket.of('incoming_call').filter((m) => m.callId === callId).length;

test(`the corpus has at least 30 deliveries covering the published shapes`, () => {
  assert.ok(deliveries.length >= 30, `${deliveries.length}`);
  const all = deliveries.map((d) => d.claims);
  const states = new Set(all.map((c) => c.state));
  for (const s of [
    'calling',
    'ringing',
    'preanswer',
    'queued',
    'connected',
    'hold',
    'hangup',
    'missed',
    'voicemail',
    'voicemail_uploaded',
    'transcription',
    'recording',
    'recap_summary',
    'csat',
  ]) {
    assert.ok(states.has(s), `a ${s} delivery`);
  }
  assert.ok(all.some((c) => c.external_number === 'blocked'));
  assert.ok(all.some((c) => c.internal_number === 'blocked'));
  assert.ok(all.some((c) => /^\+(?!81)/.test(c.external_number ?? '')));
  assert.ok(all.some((c) => c.operator_call_id !== null && c.entry_point_call_id !== null));
  assert.ok(all.some((c) => c.direction === 'outbound'));
  assert.ok(all.some((c) => typeof c.call_id === 'bigint' && c.call_id > 2n ** 53n));
});

test('each delivery: 2xx, recorded once, pops at most once per customer call', async (t) => {
  for (const d of deliveries) {
    await t.test(d.name, async () => {
      const { callId } = d.expect;
      const popsBefore = pops(callId);
      const res = await w.postWebhook(signHS256(claimsJson(d.claims), WEBHOOK_SECRET));
      assert.ok(
        res.status >= 200 && res.status < 300,
        `status ${res.status}: ${JSON.stringify(res.body)}`,
      );
      await socket.settle();
      assert.equal(
        pops(callId) - popsBefore,
        d.expect.pops,
        `popups opened by this delivery (${JSON.stringify(
          socket
            .of('incoming_call')
            .filter((m) => m.callId === callId)
            .map((m) => m.legId),
        )})`,
      );
      assert.ok(pops(callId) <= 1, 'at most one popup per customer call');
      const events = await w.count(
        'SELECT 1 FROM call_events WHERE call_id = ?1 AND state = ?2',
        String(d.claims.call_id),
        d.claims.state,
      );
      assert.equal(events, 1, 'one event-log row for this leg and state');
      const rows = (await callLog()).filter((r) => r.id === callId);
      assert.equal(rows.length, 1, `one call-log row for call ${callId}`);
      assert.equal(rows[0].caller, d.expect.caller, 'the customer number in the log');
      if (d.expect.phase)
        assert.equal(
          rows[0].phase,
          d.expect.phase,
          `phase after this delivery (state ${rows[0].state})`,
        );
    });
  }
});

test('the whole corpus again (Dialpad retries): nothing pops again, nothing is recorded twice', async () => {
  const popsBefore = socket.of('incoming_call').length;
  const logBefore = await callLog();
  for (const d of deliveries) {
    const res = await w.postWebhook(signHS256(claimsJson(d.claims), WEBHOOK_SECRET));
    assert.ok(
      res.status >= 200 && res.status < 300,
      `${d.name}: ${res.status} ${JSON.stringify(res.body)}`,
    );
  }
  await socket.settle();
  assert.equal(socket.of('incoming_call').length, popsBefore);
  const logAfter = await callLog();
  assert.equal(logAfter.length, logBefore.length);
});
