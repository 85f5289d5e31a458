// @ts-check
// Integration (issue 25, 顧客の共有): under チェーン共通 another store's customer pops at 西船橋
// in their shared view (name, kana, flag, home store; the popup's lookup adds the pinned
// 注意/苦情 notes), read-only; under 店舗ごと (the default) nothing of them is shown anywhere.
// Switching the setting takes effect for the next call. The 受付センター's socket never hears
// another store's customer_changed (id, name, numbers), live or on replay.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorker, callEvent } from './helpers/worker.mjs';

const LINES = { 西船橋: '+815017481234', 葛西: '+815017501234' };

let w;
let admin;
let nishi; // staff of 西船橋
let desk; // 受付センター
const ids = {};
/** 葛西's customer, with a 注意 note and a flag. */
let kasaiCustomer;
let kasaiPhone;

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
  const d = String(72000000 + (process.pid % 1000) * 10000 + n++).slice(-8);
  return { e164: `+8180${d}`, domestic: `080${d}` };
}

/** Saves 顧客の共有 (`store` | `chain`) as an admin does on 設定. */
async function setSharing(value) {
  const current = (await api(admin, '/api/settings/front-desk')).body.settings;
  const r = await api(admin, '/api/settings/front-desk', {
    method: 'PUT',
    body: { ...current, customerSharing: value },
  });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.settings.customerSharing, value);
}

/** A call from 葛西's customer to 西船橋's line, as 西船橋's socket hears it pop. */
async function popAtNishi(socket) {
  const ev = callEvent({
    external_number: kasaiPhone.e164,
    internal_number: LINES['西船橋'],
    contact: null,
  });
  assert.equal((await w.sendEvent(ev)).status, 200);
  const callId = String(ev.call_id);
  const pop = await socket.waitFor((m) => m.type === 'incoming_call' && m.callId === callId);
  const t = ev.date_started + 15000;
  await w.sendEvent({ ...ev, state: 'hangup', event_timestamp: t, date_ended: t });
  return { callId, pop };
}

before(async () => {
  w = await startWorker();
  admin = await w.login({ role: 'admin' });
  for (const s of Object.keys(LINES))
    ids[s] = (await w.db.prepare('SELECT id FROM stores WHERE name = ?1').bind(s).first()).id;
  nishi = await w.login({ role: 'staff', store: '西船橋' });
  desk = await w.login({ role: 'reception' });
  kasaiPhone = number();
  const r = await api(admin, '/api/customers', {
    method: 'POST',
    body: {
      name: '共有 葛子',
      kana: 'キョウユウ クズコ',
      phone: kasaiPhone.domestic,
      homeStoreId: ids['葛西'],
      memo: '葛西だけのメモ',
    },
  });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  const flagged = await api(admin, `/api/customers/${r.body.customer.id}`, {
    method: 'PATCH',
    body: { version: r.body.customer.version, flag: '要注意' },
  });
  assert.equal(flagged.status, 200, JSON.stringify(flagged.body));
  kasaiCustomer = flagged.body.customer;
  const note = await api(admin, `/api/customers/${kasaiCustomer.id}/notes`, {
    method: 'POST',
    body: { type: '注意', body: '大声での対応に注意' },
  });
  assert.equal(note.status, 201, JSON.stringify(note.body));
  const general = await api(admin, `/api/customers/${kasaiCustomer.id}/notes`, {
    method: 'POST',
    body: { type: '一般', body: '一般の話' },
  });
  assert.equal(general.status, 201);
});

after(async () => {
  await w?.close();
});

/** Nothing of 葛西's customer in what a 西船橋 staff member is shown. */
function assertHidden(value, where) {
  const text = JSON.stringify(value);
  assert.ok(!text.includes('共有 葛子'), `${where}: the name is hidden`);
  assert.ok(!text.includes('葛西だけのメモ'), `${where}: the memo is hidden`);
  assert.ok(!text.includes('大声での対応に注意'), `${where}: the notes are hidden`);
}

test('the setting: 店舗ごと by default, saved by admins, checked, not writable by staff', async () => {
  const got = await api(nishi, '/api/settings/front-desk');
  assert.equal(got.status, 200);
  assert.equal(got.body.settings.customerSharing, 'store');
  const bad = await api(admin, '/api/settings/front-desk', {
    method: 'PUT',
    body: { ...got.body.settings, customerSharing: 'everyone' },
  });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error?.code ?? bad.body.code, 'invalid_customer_sharing');
  const staffPut = await api(nishi, '/api/settings/front-desk', {
    method: 'PUT',
    body: { ...got.body.settings, customerSharing: 'chain' },
  });
  assert.equal(staffPut.status, 403);
  assert.equal(
    (await api(admin, '/api/settings/front-desk')).body.settings.customerSharing,
    'store',
  );
});

test("店舗ごと: nothing of another store's customer in the pop, the lookup, the call log, search or callbacks", async () => {
  await setSharing('store');
  const s = await w.openSocket(nishi);
  const { callId, pop } = await popAtNishi(s);
  assert.equal(pop.customer ?? null, null);
  assert.deepEqual(pop.candidates ?? [], []);
  assertHidden(pop, 'pop');
  const lookup = await api(nishi, '/api/customers/lookup', { method: 'POST', body: { callId } });
  assert.equal(lookup.status, 200);
  assert.equal(lookup.body.otherStore, true);
  assert.deepEqual(lookup.body.shared, []);
  assertHidden(lookup.body, 'lookup');
  const recent = await api(nishi, '/api/calls/recent?limit=200');
  assert.ok(recent.body.calls.some((c) => c.id === callId));
  assertHidden(recent.body, 'calls/recent');
  const search = await api(nishi, '/api/calls/search', { method: 'POST', body: { perPage: 100 } });
  assert.ok(search.body.calls.some((c) => c.id === callId));
  assertHidden(search.body, 'calls/search');
  const customers = await api(nishi, '/api/customers/search', {
    method: 'POST',
    body: { q: '共有' },
  });
  assertHidden(customers.body, 'customers/search');
  const callbacks = await api(nishi, '/api/callbacks?status=all&perPage=100');
  assert.equal(callbacks.status, 200);
  assertHidden(callbacks.body, 'callbacks');
  s.close();
});

test("チェーン共通: another store's customer pops with name, flag and home store, read-only, and the lists name them; switching back hides them from the next call", async () => {
  await setSharing('chain');
  const s = await w.openSocket(nishi);
  const { callId, pop } = await popAtNishi(s);
  assert.equal(pop.customer?.name, '共有 葛子');
  assert.equal(pop.customer.kana, 'キョウユウ クズコ');
  assert.equal(pop.customer.flag, '要注意');
  assert.equal(pop.customer.homeStore?.name, '葛西');
  assert.equal(pop.customer.shared, true);
  // The full record stays with 葛西: no numbers, memo or edit version.
  assert.deepEqual(pop.customer.phones, []);
  assert.equal(pop.customer.memo, '');
  assert.ok(!JSON.stringify(pop).includes('葛西だけのメモ'));

  // The popup's lookup: the shared view and its pinned notes, nothing editable.
  const lookup = await api(nishi, '/api/customers/lookup', { method: 'POST', body: { callId } });
  assert.equal(lookup.status, 200);
  assert.equal(lookup.body.customer, null);
  assert.equal(lookup.body.canEdit, false);
  assert.equal(lookup.body.shared.length, 1);
  assert.equal(lookup.body.shared[0].name, '共有 葛子');
  assert.equal(lookup.body.shared[0].homeStore.name, '葛西');
  assert.deepEqual(
    lookup.body.sharedNotes.map((x) => [x.noteType, x.body]),
    [['注意', '大声での対応に注意']],
  );
  assert.ok(!JSON.stringify(lookup.body).includes('葛西だけのメモ'));
  assert.ok(!JSON.stringify(lookup.body).includes('一般の話'));
  // A shared view shows a customer's name: on record (操作履歴) like any card opened. Rows are
  // written after the answer, so this waits on the row, never a fixed time.
  const deadline = Date.now() + 10_000;
  let opened;
  while (!opened && Date.now() < deadline) {
    const r = await api(admin, '/api/audit/search', {
      method: 'POST',
      body: { action: 'popup_open', userId: nishi.user.id, perPage: 100 },
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    opened = r.body.entries.find((/** @type {any} */ e) => e.callId === callId);
    if (!opened) await new Promise((res) => setTimeout(res, 25));
  }
  assert.equal(opened?.customerId, kasaiCustomer.id, 'the shared view opened is on record');

  // The lists name them (never by id, which links to an editable page).
  const inHistory = lookup.body.history.find((h) => h.id === callId);
  assert.equal(inHistory?.customerName, '共有 葛子');
  assert.equal(inHistory.customerId ?? null, null);
  const recent = await api(nishi, '/api/calls/recent?limit=200');
  const row = recent.body.calls.find((c) => c.id === callId);
  assert.equal(row?.customerName, '共有 葛子');
  assert.equal(row.customerId ?? null, null);
  const search = await api(nishi, '/api/calls/search', { method: 'POST', body: { perPage: 100 } });
  const found = search.body.calls.find((c) => c.id === callId);
  assert.equal(found?.customerName, '共有 葛子');
  assert.equal(found.customerId ?? null, null);
  const callbacks = await api(nishi, '/api/callbacks?status=all&perPage=100');
  assert.equal(callbacks.status, 200);
  const item = callbacks.body.callbacks.find((c) => c.callId === callId);
  assert.equal(item?.customerName, '共有 葛子', JSON.stringify(callbacks.body.callbacks));
  assert.equal(item.customerId ?? null, null);
  for (const body of [lookup.body, recent.body, search.body, callbacks.body])
    assert.ok(!JSON.stringify(body).includes('葛西だけのメモ'));

  // Edits and the full record stay with the home store and admins.
  const patch = await api(nishi, `/api/customers/${kasaiCustomer.id}`, {
    method: 'PATCH',
    body: { version: kasaiCustomer.version, name: '書き換え' },
  });
  assert.ok([403, 404].includes(patch.status), String(patch.status));
  assert.ok([403, 404].includes((await api(nishi, `/api/customers/${kasaiCustomer.id}`)).status));
  const note = await api(nishi, `/api/customers/${kasaiCustomer.id}/notes`, {
    method: 'POST',
    body: { type: '一般', body: 'x' },
  });
  assert.ok([403, 404].includes(note.status), String(note.status));
  assert.equal(
    (await api(admin, `/api/customers/${kasaiCustomer.id}`)).body.customer.name,
    '共有 葛子',
  );

  // Back to 店舗ごと: the next call shows nothing of them.
  await setSharing('store');
  const next = await popAtNishi(s);
  assert.equal(next.pop.customer ?? null, null);
  assertHidden(next.pop, 'pop after switching back');
  const again = await api(nishi, '/api/customers/lookup', {
    method: 'POST',
    body: { callId: next.callId },
  });
  assert.deepEqual(again.body.shared, []);
  assertHidden(again.body, 'lookup after switching back');
  assertHidden(
    (await api(nishi, '/api/calls/recent?limit=200')).body,
    'calls/recent after switching back',
  );
  assertHidden(
    (await api(nishi, '/api/calls/search', { method: 'POST', body: { perPage: 100 } })).body,
    'calls/search after switching back',
  );
  assertHidden(
    (await api(nishi, '/api/callbacks?status=all&perPage=100')).body,
    'callbacks after switching back',
  );
  s.close();
});

test("the 受付センター's socket never hears another store's customer_changed, live or on replay", async () => {
  const watcher = await w.openSocket(admin);
  const hello = watcher.of('hello')[0];
  const live = await w.openSocket(desk);
  const kasai = await w.openSocket(await w.login({ role: 'staff', store: '葛西' }));
  const fresh = await api(admin, `/api/customers/${kasaiCustomer.id}`);
  const r = await api(admin, `/api/customers/${kasaiCustomer.id}`, {
    method: 'PATCH',
    body: { version: fresh.body.customer.version, memo: '変更' },
  });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  // Admins and the home store hear it …
  await watcher.waitFor((m) => m.type === 'customer_changed' && m.customer.id === kasaiCustomer.id);
  await kasai.waitFor((m) => m.type === 'customer_changed' && m.customer.id === kasaiCustomer.id);
  // … the desk does not, live …
  await live.settle();
  assert.deepEqual(live.of('customer_changed'), []);
  // … nor on replay of everything since before the change.
  const replayed = await w.openSocket(desk, { since: hello.seq });
  await replayed.settle();
  assert.deepEqual(replayed.of('customer_changed'), []);
  // The same replay gives an admin the change: the log holds it.
  const adminReplay = await w.openSocket(admin, { since: hello.seq });
  await adminReplay.waitFor(
    (m) => m.type === 'customer_changed' && m.customer.id === kasaiCustomer.id,
  );
  for (const s of [watcher, live, kasai, replayed, adminReplay]) s.close();
});
