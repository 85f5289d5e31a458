// @ts-check
// The route table's cross-cutting steps (src/platform/router.rs, run by console.rs's
// dispatcher, never by a handler): a route that reads the call log gets what waits in the
// hub's outbox into D1 first; a route whose write changes what the hub's pop index holds tells
// the hub before it answers. Each test fails when its step is dropped from the table.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorker, callEvent } from './helpers/worker.mjs';

let w;
let admin;
let sock;
before(async () => {
  w = await startWorker({ d1Fault: true });
  admin = await w.login({ role: 'admin' });
  sock = await w.openSocket(admin);
  await popOf('+819012340000'); // the hub's index is built while D1 is up
});
after(() => w?.close());

/**
 * @param {string} path
 * @param {import('./helpers/worker.mjs').ApiOptions} [opts]
 * @returns {Promise<import('./helpers/worker.mjs').JsonResponse>}
 */
async function api(path, { method = 'GET', body } = {}) {
  const headers = { authorization: `Bearer ${admin.token}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  return w.json(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/** D1 as it is, without settling the hub's outbox first (the test's oracle). */
const inD1 = async (id) =>
  (await w.rawDb.prepare('SELECT count(*) AS n FROM calls WHERE id = ?1').bind(id).first()).n;

/** Sends a call from `phone` (E.164) and answers its pop as the admin's console got it. */
async function popOf(phone, overrides = {}) {
  const ev = callEvent({ external_number: phone, contact: null, ...overrides });
  assert.equal((await w.sendEvent(ev)).status, 200);
  return sock.waitFor((m) => m.type === 'incoming_call' && m.callId === String(ev.call_id));
}

test('a route that reads the call log flushes the outbox first: a call that just popped is in GET /api/calls/recent', async () => {
  await w.setD1('down');
  const ev = callEvent({ external_number: '+819012340001' });
  const id = String(ev.call_id);
  try {
    assert.equal((await w.sendEvent(ev)).status, 200);
    await sock.waitFor((m) => m.type === 'incoming_call' && m.callId === id);
    // The hub's own drain failed; five more tries put its next attempt a minute away
    // (the backoff doubles), so nothing but the route's own flush brings the call to D1.
    for (let n = 0; n < 5; n++) await w.hub('/flush', {});
  } finally {
    await w.setD1('up');
  }
  assert.equal(await inD1(id), 0, 'the call still waits in the hub');
  // A route that does not read the call log leaves the outbox alone.
  assert.equal((await api('/api/stores')).status, 200);
  assert.equal(await inD1(id), 0, 'GET /api/stores did not flush');
  const recent = await api('/api/calls/recent?limit=50');
  assert.equal(recent.status, 200, JSON.stringify(recent.body));
  assert.ok(
    recent.body.calls.some((c) => c.id === id),
    'the call just popped is listed',
  );
  assert.equal(await inD1(id), 1);
});

test('a customer created is popped by the next call; an edit, a merge and a delete too', async () => {
  const created = await api('/api/customers', {
    method: 'POST',
    body: { name: '経路 表一', kana: 'ケイロ ヒョウイチ', phone: '09012340002' },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const a = created.body.customer;
  assert.equal((await popOf('+819012340002')).customer?.name, '経路 表一', 'create told the index');

  const edited = await api(`/api/customers/${a.id}`, {
    method: 'PATCH',
    body: { version: a.version, name: '経路 表二' },
  });
  assert.equal(edited.status, 200, JSON.stringify(edited.body));
  assert.equal(
    (await popOf('+819012340002')).customer?.name,
    '経路 表二',
    'the edit told the index',
  );

  const other = await api('/api/customers', {
    method: 'POST',
    body: { name: '統合 元子', phone: '09012340003' },
  });
  assert.equal(other.status, 201, JSON.stringify(other.body));
  assert.equal((await popOf('+819012340003')).customer?.name, '統合 元子');
  const merged = await api(`/api/customers/${a.id}/merge`, {
    method: 'POST',
    body: { from: other.body.customer.id },
  });
  assert.equal(merged.status, 200, JSON.stringify(merged.body));
  assert.equal(
    (await popOf('+819012340003')).customer?.name,
    '経路 表二',
    'the merge told the index of both customers',
  );

  assert.equal((await api(`/api/customers/${a.id}`, { method: 'DELETE' })).status, 200);
  assert.equal((await popOf('+819012340002')).customer, null, 'the delete told the index');
});

test('a store created and its prefixes edited route the next call there', async () => {
  const made = await api('/api/stores', {
    method: 'POST',
    body: { name: '経路北口', prefixes: ['0501770'] },
  });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  const pop = await popOf('+819012340004', { internal_number: '+815017701234' });
  assert.equal(pop.store.name, '経路北口');
  const id = made.body.store.id;
  const moved = await api(`/api/stores/${id}`, {
    method: 'PATCH',
    body: { prefixes: ['0501771'] },
  });
  assert.equal(moved.status, 200, JSON.stringify(moved.body));
  assert.equal(
    (await popOf('+819012340005', { internal_number: '+815017711234' })).store.name,
    '経路北口',
  );
  assert.equal(
    (await popOf('+819012340006', { internal_number: '+815017701234' })).store.name,
    '不明',
  );
});

test('a failed write tells the hub nothing it did not change: a refused merge leaves both customers popping', async () => {
  const one = await api('/api/customers', {
    method: 'POST',
    body: { name: '拒否 一郎', phone: '09012340007' },
  });
  assert.equal(one.status, 201, JSON.stringify(one.body));
  const refused = await api(`/api/customers/${one.body.customer.id}/merge`, {
    method: 'POST',
    body: { from: 999999 },
  });
  assert.equal(refused.status, 404);
  assert.equal((await popOf('+819012340007')).customer?.name, '拒否 一郎');
});
