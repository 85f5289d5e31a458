// @ts-check
// Integration (issue 25, the organisation): a person may belong to several stores. A member of
// 西船橋 and 錦糸町 gets the pops, lists, searches, callbacks, exports and reports of both stores
// and nothing of a third (葛西); their socket is in both store rooms and hears each call once.
// Accounts get their stores from the API and the CLI, with the API's guards; migration 0019
// keeps every existing account as it was.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Miniflare } from 'miniflare';
import { startWorker, callEvent } from './helpers/worker.mjs';
import { applyMigrations } from '../scripts/lib/sql.mjs';

const LINES = { 西船橋: '+815017481234', 錦糸町: '+815017491234', 葛西: '+815017501234' };

let w;
let admin;
let both; // staff of 西船橋 and 錦糸町
let kasai; // staff of 葛西
const ids = {};
const customers = {};

/**
 * @param {import('./helpers/worker.mjs').Auth} who
 * @param {string} path
 * @param {import('./helpers/worker.mjs').ApiOptions} [opts]
 */
const api = (who, path, { method = 'GET', body } = {}) =>
  w.json(path, {
    method,
    headers: { authorization: `Bearer ${who.token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

let n = 0;
function number() {
  const d = String(71000000 + (process.pid % 1000) * 10000 + n++).slice(-8);
  return { e164: `+8180${d}`, domestic: `080${d}` };
}

async function missedCall(caller, line) {
  const ev = callEvent({ external_number: caller, internal_number: line, contact: null });
  await w.sendEvent(ev);
  const t = ev.date_started + 15000;
  await w.sendEvent({ ...ev, state: 'hangup', event_timestamp: t, date_ended: t });
  return String(ev.call_id);
}

before(async () => {
  w = await startWorker();
  admin = await w.login({ role: 'admin' });
  for (const s of Object.keys(LINES))
    ids[s] = (await w.db.prepare('SELECT id FROM stores WHERE name = ?1').bind(s).first()).id;
  both = await w.login({ role: 'staff', stores: ['錦糸町', '西船橋'] });
  kasai = await w.login({ role: 'staff', store: '葛西' });
  for (const [store, name] of [
    ['西船橋', '二店 西子'],
    ['錦糸町', '二店 錦子'],
    ['葛西', '二店 葛子'],
  ]) {
    const phone = number();
    const r = await api(admin, '/api/customers', {
      method: 'POST',
      body: { name, kana: 'ニテン', phone: phone.domestic, homeStoreId: ids[store] },
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    customers[store] = { ...r.body.customer, phone };
  }
});

after(async () => {
  await w?.close();
});

test('the session of a two-store member carries both stores; its first store is the one named first', async () => {
  const me = await api(both, '/api/auth/me');
  assert.equal(me.status, 200);
  assert.deepEqual(
    me.body.user.storeIds,
    [ids['西船橋'], ids['錦糸町']].sort((a, b) => a - b),
  );
  assert.equal(me.body.user.storeId, ids['錦糸町']);
});

test('a two-store member hears the calls of both stores once each, and nothing of a third', async () => {
  const s = await w.openSocket(both);
  const k = await w.openSocket(kasai);
  const calls = {};
  for (const store of Object.keys(LINES)) {
    const ev = callEvent({
      external_number: customers[store].phone.e164,
      internal_number: LINES[store],
      contact: null,
    });
    assert.equal((await w.sendEvent(ev)).status, 200);
    calls[store] = String(ev.call_id);
  }
  for (const store of ['西船橋', '錦糸町']) {
    const pop = await s.waitFor((m) => m.type === 'incoming_call' && m.callId === calls[store]);
    assert.equal(pop.customer?.name, customers[store].name, `${store}: the caller's card`);
    assert.equal(pop.store.name, store, 'the pop says which of their stores was called');
  }
  await k.waitFor((m) => m.type === 'incoming_call' && m.callId === calls['葛西']);
  const heard = [...s.messages, ...(await s.settle())];
  for (const store of ['西船橋', '錦糸町']) {
    assert.equal(
      heard.filter((m) => m.type === 'incoming_call' && m.callId === calls[store]).length,
      1,
      `${store} once`,
    );
  }
  assert.deepEqual(
    heard.filter((m) => m.callId === calls['葛西'] || JSON.stringify(m).includes('二店 葛子')),
    [],
  );
  const kasaiHeard = [...k.messages, ...(await k.settle())];
  assert.deepEqual(
    kasaiHeard.filter((m) => m.callId === calls['西船橋'] || m.callId === calls['錦糸町']),
    [],
  );
  s.close();
  k.close();
});

test('lists, searches, callbacks, exports and reports cover both stores and nothing of a third', async () => {
  const missed = {};
  for (const store of Object.keys(LINES))
    missed[store] = await missedCall(customers[store].phone.e164, LINES[store]);
  const recent = await api(both, '/api/calls/recent?limit=200');
  assert.equal(recent.status, 200);
  const recentIds = recent.body.calls.map((c) => c.id);
  assert.ok(recentIds.includes(missed['西船橋']) && recentIds.includes(missed['錦糸町']));
  assert.ok(!recentIds.includes(missed['葛西']));
  assert.ok(
    recent.body.calls.every(
      (c) =>
        c.storeId === ids['西船橋'] || c.storeId === ids['錦糸町'] || c.store?.id !== ids['葛西'],
    ),
  );

  const log = await api(both, '/api/calls/search', { method: 'POST', body: { perPage: 100 } });
  assert.equal(log.status, 200);
  const logIds = log.body.calls.map((c) => c.id);
  assert.ok(
    logIds.includes(missed['西船橋']) &&
      logIds.includes(missed['錦糸町']) &&
      !logIds.includes(missed['葛西']),
  );
  // A call's customer is named for either store.
  for (const store of ['西船橋', '錦糸町']) {
    const row = log.body.calls.find((c) => c.id === missed[store]);
    assert.equal(row.customerName, customers[store].name);
  }
  // Filtering by the third store finds nothing.
  const third = await api(both, '/api/calls/search', {
    method: 'POST',
    body: { store: ids['葛西'] },
  });
  assert.deepEqual(third.body.calls ?? [], []);

  const found = await api(both, '/api/customers/search', { method: 'POST', body: { q: '二店' } });
  assert.equal(found.status, 200);
  assert.deepEqual(
    found.body.customers.map((c) => c.name).sort(),
    ['二店 西子', '二店 錦子'].sort(),
  );

  const callbacks = await api(both, '/api/callbacks?status=all&perPage=100');
  assert.equal(callbacks.status, 200, JSON.stringify(callbacks.body));
  const cbStores = new Set(callbacks.body.callbacks.map((c) => c.storeId ?? c.store?.id));
  assert.ok(
    cbStores.has(ids['西船橋']) && cbStores.has(ids['錦糸町']),
    JSON.stringify([...cbStores]),
  );
  assert.ok(!cbStores.has(ids['葛西']));
  const assignees = await api(admin, `/api/callbacks/assignees?store=${ids['錦糸町']}`);
  assert.ok(
    assignees.body.users.some((u) => u.name === both.login),
    'a second-store member may be assigned',
  );
  assert.equal((await api(both, `/api/callbacks/assignees?store=${ids['葛西']}`)).status, 403);

  const csv = await (
    await w.fetch('/api/customers/export', { headers: { authorization: `Bearer ${both.token}` } })
  ).text();
  assert.ok(csv.includes('二店 西子') && csv.includes('二店 錦子') && !csv.includes('二店 葛子'));

  for (const store of ['西船橋', '錦糸町']) {
    const page = await api(both, `/api/customers/${customers[store].id}`);
    assert.equal(page.status, 200);
    assert.equal(page.body.canEdit, true);
  }
  assert.equal((await api(both, `/api/customers/${customers['葛西'].id}`)).status, 403);

  const today = new Date(Date.now() + 9 * 3600 * 1000).toISOString().slice(0, 10);
  const report = await api(both, '/api/reports/calls', {
    method: 'POST',
    body: { from: today, to: today },
  });
  assert.equal(report.status, 200, JSON.stringify(report.body));
  const asked = await api(both, '/api/reports/calls', {
    method: 'POST',
    body: { from: today, to: today, stores: [ids['錦糸町']] },
  });
  assert.equal(asked.status, 200, 'one of their stores may be picked');
  const other = await api(both, '/api/reports/calls', {
    method: 'POST',
    body: { from: today, to: today, stores: [ids['葛西']] },
  });
  assert.equal(other.status, 403);
});

test('a two-store member registers a customer in either of their stores, never in a third', async () => {
  const phone = number();
  const r = await api(both, '/api/customers', {
    method: 'POST',
    body: { name: '二店 登録', phone: phone.domestic, homeStoreId: ids['西船橋'] },
  });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  assert.equal(r.body.customer.homeStore.id, ids['西船橋']);
  const third = await api(both, '/api/customers', {
    method: 'POST',
    body: { name: '二店 登録2', phone: number().domestic, homeStoreId: ids['葛西'] },
  });
  assert.equal(third.status, 201);
  assert.equal(
    third.body.customer.homeStore.id,
    ids['錦糸町'],
    'a store not theirs: their first store',
  );
});

test('アカウント API: an account gets, changes and loses stores with the same guards', async () => {
  const made = await api(admin, '/api/users', {
    method: 'POST',
    body: {
      loginId: `multi-${process.pid}`,
      role: 'staff',
      storeIds: [ids['葛西'], ids['西船橋']],
    },
  });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  assert.deepEqual(
    made.body.user.storeIds,
    [ids['西船橋'], ids['葛西']].sort((a, b) => a - b),
  );
  assert.equal(made.body.user.storeId, Math.min(ids['西船橋'], ids['葛西']));
  const uid = made.body.user.id;
  const listed = (await api(admin, '/api/users')).body.users.find((u) => u.id === uid);
  assert.deepEqual(listed.storeIds, made.body.user.storeIds);

  const bad = [
    [{ storeIds: [] }, 'store_required'],
    [{ storeIds: [999999] }, 'unknown_store'],
    [{ storeIds: [0] }, 'invalid_stores'],
    [{ storeIds: 'x' }, 'invalid_json'],
    [{ storeIds: [ids['西船橋']], storeId: ids['葛西'] }, 'invalid_stores'],
  ];
  for (const [body, code] of bad) {
    const r = await api(admin, `/api/users/${uid}`, { method: 'PATCH', body });
    assert.equal(r.status, 400, JSON.stringify([body, r.body]));
    assert.equal(r.body.error?.code ?? r.body.code, code, JSON.stringify(r.body));
  }

  // A change of stores ends the member's sessions (their socket closes) and takes effect.
  const u = await w.login({ role: 'staff', stores: ['西船橋'] });
  const uid2 = (
    await w.db.prepare('SELECT id FROM users WHERE login_id = ?1').bind(u.login).first()
  ).id;
  const s = await w.openSocket(u);
  const changed = await api(admin, `/api/users/${uid2}`, {
    method: 'PATCH',
    body: { storeIds: [ids['西船橋'], ids['松戸'] ?? ids['錦糸町']] },
  });
  assert.equal(changed.status, 200, JSON.stringify(changed.body));
  assert.equal(changed.body.socketsClosed, 1);
  assert.equal(await s.closedWith(), 4001);
  assert.equal(changed.body.user.storeIds.length, 2);
  // The older one-store form still moves an account to one store.
  const moved = await api(admin, `/api/users/${uid2}`, {
    method: 'PATCH',
    body: { storeId: ids['葛西'] },
  });
  assert.equal(moved.status, 200);
  assert.deepEqual(moved.body.user.storeIds, [ids['葛西']]);
  assert.equal(moved.body.user.storeId, ids['葛西']);
  const again = await w.json('/api/auth/login', {
    method: 'POST',
    body: JSON.stringify({ loginId: u.login, password: u.password }),
  });
  assert.deepEqual(again.body.user.storeIds, [ids['葛西']]);
});

test('migration 0019 keeps every existing account as it was: a staff member with one store, an admin with none', async () => {
  const mf = new Miniflare({
    modules: true,
    script: 'export default { fetch() { return new Response("") } }',
    d1Databases: { DB: 'm19' },
  });
  try {
    const db = await mf.getD1Database('DB');
    const before = mkdtempSync(join(tmpdir(), 'm19-'));
    for (const f of readdirSync('migrations'))
      if (f < '0019') copyFileSync(join('migrations', f), join(before, f));
    await applyMigrations(db, before);
    await db.batch([
      db.prepare("INSERT INTO stores (id, name) VALUES (1, 'A'), (2, 'B')"),
      db.prepare(
        "INSERT INTO users (id, login_id, display_name, role, store_id, password_hash) VALUES (1, 'boss', 'b', 'admin', NULL, 'x'), (2, 'clerk', 'c', 'staff', 2, 'x'), (3, 'hq', 'h', 'admin', 1, 'x')",
      ),
    ]);
    await applyMigrations(db);
    const all = async (sql) => (await db.prepare(sql).all()).results;
    assert.deepEqual(await all('SELECT user_id, store_id FROM user_stores ORDER BY user_id'), [
      { user_id: 2, store_id: 2 },
      { user_id: 3, store_id: 1 },
    ]);
    assert.deepEqual(await all('SELECT id, role, store_id FROM users ORDER BY id'), [
      { id: 1, role: 'admin', store_id: null },
      { id: 2, role: 'staff', store_id: 2 },
      { id: 3, role: 'admin', store_id: 1 },
    ]);
  } finally {
    await mf.dispose();
  }
});

test('an account written the old way (store_id only, no user_stores row) still has its store', async () => {
  const u = await w.login({ role: 'staff', store: '葛西' });
  await w.db
    .prepare('DELETE FROM user_stores WHERE user_id = (SELECT id FROM users WHERE login_id = ?1)')
    .bind(u.login)
    .run();
  const me = await api(u, '/api/auth/me');
  assert.deepEqual(me.body.user.storeIds, [ids['葛西']]);
  const page = await api(u, `/api/customers/${customers['葛西'].id}`);
  assert.equal(page.status, 200);
});
