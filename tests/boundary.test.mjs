// @ts-check
// Integration (issue 23): the store boundary holds on every read path, numbers are never
// squatted across stores, and no anonymous request reaches the hub. Each test of issue 23 failed
// on the code before it (see the README's "Security" section, which names them); later ones
// guard the staff card's figures as the pop reads them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorker, callEvent } from './helpers/worker.mjs';

let w;
let admin;
let nishi; // staff of 西船橋 (lines 0501748…)
let kinshi; // staff of 錦糸町 (lines 0501749…)

before(async () => {
  w = await startWorker();
  admin = await w.login({ role: 'admin' });
  nishi = await w.login({ role: 'staff', store: '西船橋' });
  kinshi = await w.login({ role: 'staff', store: '錦糸町' });
});

after(async () => {
  await w?.close();
});

/**
 * @param {import('./helpers/worker.mjs').Auth} user
 * @param {string} path
 * @param {import('./helpers/worker.mjs').ApiOptions} [opts]
 * @returns {Promise<import('./helpers/worker.mjs').JsonResponse>}
 */
async function api(user, path, { method = 'GET', body } = {}) {
  const headers = user ? { authorization: `Bearer ${user.token}` } : {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  return w.json(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

const NISHI_LINE = '+815017481234';
const KINSHI_LINE = '+815017491234';
const e164 = (n) => `+81${n.slice(1)}`;
const storeId = async (name) =>
  (await w.db.prepare('SELECT id FROM stores WHERE name = ?1').bind(name).first()).id;
const userId = async (u) =>
  (await w.db.prepare('SELECT id FROM users WHERE login_id = ?1').bind(u.login).first()).id;
const linkOf = async (callId) =>
  (await w.db.prepare('SELECT customer_id FROM calls WHERE id = ?1').bind(String(callId)).first())
    ?.customer_id ?? null;

test('a call stays visible to the store it came to, without the customer its staff may not see', async () => {
  // Registered at 西船橋 and called 西船橋 (the call links), then moved to 錦糸町 by an admin.
  const created = await api(admin, '/api/customers', {
    method: 'POST',
    body: {
      name: '移籍 秘匿子',
      kana: 'イセキ ヒトクコ',
      phone: '09040400001',
      homeStoreId: await storeId('西船橋'),
    },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const moved = created.body.customer;
  const call = callEvent({
    external_number: e164('09040400001'),
    internal_number: NISHI_LINE,
    contact: null,
  });
  assert.equal((await w.sendEvent(call)).status, 200);
  assert.equal(await linkOf(call.call_id), moved.id, 'linked while 西船橋 could see the customer');
  const patched = await api(admin, `/api/customers/${moved.id}`, {
    method: 'PATCH',
    body: { version: moved.version, homeStoreId: await storeId('錦糸町') },
  });
  assert.equal(patched.status, 200, JSON.stringify(patched.body));

  const id = String(call.call_id);
  const hidden = (c) => c.customerId === null && c.customerName === null;
  const recent = await api(nishi, '/api/calls/recent?limit=100');
  const row = recent.body.calls.find((c) => c.id === id);
  assert.ok(row, "the call is still in 西船橋's list");
  assert.ok(hidden(row), JSON.stringify(row));
  const byNumber = await api(nishi, '/api/calls/search', {
    method: 'POST',
    body: { q: '09040400001' },
  });
  assert.deepEqual(
    byNumber.body.calls.map((c) => [c.id, hidden(c)]),
    [[id, true]],
  );
  // Neither the customer's id nor their name finds the call for staff who may not see them.
  for (const body of [{ customer: moved.id }, { q: '秘匿子' }, { q: 'イセキ' }]) {
    const r = await api(nishi, '/api/calls/search', { method: 'POST', body });
    assert.equal(r.status, 200);
    assert.deepEqual([r.body.total, r.body.calls], [0, []], JSON.stringify(body));
  }
  const wrapup = await api(nishi, `/api/calls/wrapup?callId=${id}`);
  assert.equal(wrapup.status, 200);
  assert.ok(hidden(wrapup.body.call), JSON.stringify(wrapup.body.call));
  const lookup = await api(nishi, '/api/customers/lookup', {
    method: 'POST',
    body: { callId: id },
  });
  assert.equal(lookup.status, 200);
  assert.equal(lookup.body.customer, null);
  assert.ok(
    lookup.body.history.length > 0 && lookup.body.history.every(hidden),
    JSON.stringify(lookup.body.history),
  );
  const exported = await (
    await w.fetch('/api/customers/export', { headers: { authorization: `Bearer ${nishi.token}` } })
  ).text();
  assert.ok(!exported.includes('秘匿子'));
  // An admin sees the customer on the same call; so do the staff of the customer's store on
  // the customer's page (the call itself is 西船橋's, so not in their history).
  const adminRow = (
    await api(admin, '/api/calls/search', { method: 'POST', body: { customer: moved.id } })
  ).body.calls;
  assert.deepEqual(
    adminRow.map((c) => [c.id, c.customerName]),
    [[id, '移籍 秘匿子']],
  );
  assert.equal((await api(kinshi, `/api/customers/${moved.id}`)).status, 200);
});

test('socket: a staff member never hears the name or id of a customer their store may not see', async () => {
  // 佐藤 花子 is 錦糸町's; she calls 西船橋.
  const sato = (
    await w.db
      .prepare("SELECT customer_id AS id FROM customer_phones WHERE phone = '08011112222'")
      .first()
  ).id;
  const s = await w.openSocket(nishi);
  const a = await w.openSocket(admin);
  const ring = callEvent({
    external_number: '+818011112222',
    internal_number: NISHI_LINE,
    contact: null,
  });
  await w.sendEvent(ring);
  await w.sendEvent({
    ...ring,
    state: 'connected',
    date_connected: Date.now(),
    event_timestamp: Date.now() + 1,
  });
  const leg = String(ring.call_id);
  await a.waitFor((m) => m.type === 'call_state' && m.legId === leg);
  assert.equal(
    (await a.waitFor((m) => m.type === 'incoming_call' && m.legId === leg)).customer.name,
    '佐藤 花子',
  );
  // A rename of her reaches 錦糸町 and the admins only.
  const card = (await api(admin, `/api/customers/${sato}`)).body.customer;
  assert.equal(
    (
      await api(admin, `/api/customers/${sato}`, {
        method: 'PATCH',
        body: { version: card.version, memo: 'x' },
      })
    ).status,
    200,
  );
  await a.waitFor((m) => m.type === 'customer_changed' && m.customer.id === sato);
  await s.waitFor((m) => m.type === 'call_state' && m.legId === leg);
  await s.settle();
  const text = JSON.stringify(s.messages);
  assert.ok(!text.includes('佐藤'), text);
  assert.ok(
    !s.messages.some((m) => m.customer?.id === sato || m.candidates?.some((c) => c.id === sato)),
  );
  assert.equal(s.of('customer_changed').length, 0);
  // Nor is the call linked to her: 西船橋's record of it names no one.
  assert.equal(await linkOf(ring.call_id), null);
  s.close();
  a.close();
});

test("staff cards count only their store's calls: the pop and the customer page agree", async () => {
  const created = await api(nishi, '/api/customers', {
    method: 'POST',
    body: { name: '数え 太郎', phone: '09040400002' },
  });
  assert.equal(created.status, 201);
  const id = created.body.customer.id;
  // A call to 錦糸町 (not 西船橋's to count), then one to 西船橋 that pops.
  const elsewhere = callEvent({
    external_number: e164('09040400002'),
    internal_number: KINSHI_LINE,
    contact: null,
  });
  await w.sendEvent(elsewhere);
  await w.sendEvent({
    ...elsewhere,
    state: 'hangup',
    date_ended: Date.now(),
    event_timestamp: Date.now() + 1,
  });
  const s = await w.openSocket(nishi);
  const ring = callEvent({
    external_number: e164('09040400002'),
    internal_number: NISHI_LINE,
    contact: null,
  });
  await w.sendEvent(ring);
  const pop = await s.waitFor(
    (m) => m.type === 'incoming_call' && m.legId === String(ring.call_id),
  );
  const page = await api(nishi, `/api/customers/${id}`);
  assert.equal(pop.customer.id, id);
  assert.equal(page.body.customer.usage.calls, 1, JSON.stringify(page.body.customer.usage));
  assert.equal(
    pop.customer.usage.calls,
    page.body.customer.usage.calls,
    JSON.stringify(pop.customer.usage),
  );
  assert.equal(pop.customer.usage.missed30d, page.body.customer.usage.missed30d);
  s.close();
});

test("staff cards of a customer whose every call is at their store count them all, as the admins' card does", async () => {
  // The hub reads the store's count only when some of the customer's calls are elsewhere
  // (db/cards.rs STORE_FIGURES); otherwise the staff card takes the admins' count.
  const created = await api(nishi, '/api/customers', {
    method: 'POST',
    body: { name: '常連 一郎', phone: '09040400007' },
  });
  assert.equal(created.status, 201);
  const id = created.body.customer.id;
  const earlier = callEvent({
    external_number: e164('09040400007'),
    internal_number: NISHI_LINE,
    contact: null,
  });
  await w.sendEvent(earlier);
  await w.sendEvent({
    ...earlier,
    state: 'hangup',
    date_ended: Date.now(),
    event_timestamp: Date.now() + 1,
  });
  const s = await w.openSocket(nishi);
  const a = await w.openSocket(admin);
  const ring = callEvent({
    external_number: e164('09040400007'),
    internal_number: NISHI_LINE,
    contact: null,
  });
  await w.sendEvent(ring);
  const popped = (m) => m.type === 'incoming_call' && m.legId === String(ring.call_id);
  const staffPop = await s.waitFor(popped);
  const adminPop = await a.waitFor(popped);
  const page = await api(nishi, `/api/customers/${id}`);
  assert.equal(staffPop.customer.id, id);
  // Both calls, this one included, for the staff as for the admins and the customer page.
  assert.equal(adminPop.customer.usage.calls, 2, JSON.stringify(adminPop.customer.usage));
  assert.deepEqual(staffPop.customer.usage, adminPop.customer.usage);
  assert.equal(page.body.customer.usage.calls, 2, JSON.stringify(page.body.customer.usage));
  s.close();
  a.close();
});

test("number squatting: a staff create links only its own store's calls; each store records its own caller", async () => {
  const number = '09040400003';
  // An unregistered regular of 錦糸町 calls there.
  const regular = callEvent({
    external_number: e164(number),
    internal_number: KINSHI_LINE,
    contact: null,
  });
  await w.sendEvent(regular);
  const mine = callEvent({
    external_number: e164(number),
    internal_number: NISHI_LINE,
    contact: null,
  });
  await w.sendEvent(mine);
  // 西船橋's staff register the number as theirs: only 西船橋's call is linked.
  const squat = await api(nishi, '/api/customers', {
    method: 'POST',
    body: { name: '西船橋 登録者', phone: number },
  });
  assert.equal(squat.status, 201, JSON.stringify(squat.body));
  assert.equal(await linkOf(mine.call_id), squat.body.customer.id);
  assert.equal(
    await linkOf(regular.call_id),
    null,
    "錦糸町's call is not linked to 西船橋's record",
  );
  const created = await w.db
    .prepare('SELECT created_by FROM customers WHERE id = ?1')
    .bind(squat.body.customer.id)
    .first();
  assert.equal(created.created_by, await userId(nishi), 'who created the customer is recorded');

  // 錦糸町 is not locked out of registering its own caller (was 409 number_of_other_store);
  // the warning names no one of the other store.
  const own = await api(kinshi, '/api/customers', {
    method: 'POST',
    body: { name: '錦糸町 常連', phone: number },
  });
  assert.equal(own.status, 201, JSON.stringify(own.body));
  assert.deepEqual(own.body.duplicates, [{ phone: number, customer: null }]);
  assert.equal(await linkOf(regular.call_id), own.body.customer.id);

  // The hub links each store's next call to that store's customer, and pops it to that
  // store's staff by that name only.
  const ks = await w.openSocket(kinshi);
  const ns = await w.openSocket(nishi);
  const toKinshi = callEvent({
    external_number: e164(number),
    internal_number: KINSHI_LINE,
    contact: null,
  });
  const toNishi = callEvent({
    external_number: e164(number),
    internal_number: NISHI_LINE,
    contact: null,
  });
  await w.sendEvent(toKinshi);
  await w.sendEvent(toNishi);
  const kPop = await ks.waitFor(
    (m) => m.type === 'incoming_call' && m.legId === String(toKinshi.call_id),
  );
  const nPop = await ns.waitFor(
    (m) => m.type === 'incoming_call' && m.legId === String(toNishi.call_id),
  );
  assert.equal(kPop.customer?.name, '錦糸町 常連');
  assert.equal(nPop.customer?.name, '西船橋 登録者');
  assert.equal(await linkOf(toKinshi.call_id), own.body.customer.id);
  assert.equal(await linkOf(toNishi.call_id), squat.body.customer.id);
  await ks.settle();
  await ns.settle();
  assert.ok(!JSON.stringify(ks.messages).includes('西船橋 登録者'));
  assert.ok(!JSON.stringify(ns.messages).includes('錦糸町 常連'));
  ks.close();
  ns.close();

  // Admins get the list of numbers claimed in two stores; staff do not.
  const shared = await api(admin, '/api/customers/shared-numbers');
  assert.equal(shared.status, 200, JSON.stringify(shared.body));
  const entry = shared.body.numbers.find((n) => n.phone === number);
  assert.deepEqual(
    entry.customers.map((c) => [c.id, c.name, c.homeStore.name]),
    [
      [squat.body.customer.id, '西船橋 登録者', '西船橋'],
      [own.body.customer.id, '錦糸町 常連', '錦糸町'],
    ],
  );
  assert.equal((await api(nishi, '/api/customers/shared-numbers')).status, 403);
});

test('customer creates are rate-limited per user (429 rate_limited with Retry-After)', async () => {
  const busy = await w.login({ role: 'staff', store: '葛西' });
  for (let n = 0; n < 60; n++) {
    const r = await api(busy, '/api/customers', {
      method: 'POST',
      body: { name: `連続 ${n}`, phone: `0904041${String(n).padStart(4, '0')}` },
    });
    assert.equal(r.status, 201, `${n}: ${JSON.stringify(r.body)}`);
  }
  const refused = await api(busy, '/api/customers', {
    method: 'POST',
    body: { name: '連続 60', phone: '09040419999' },
  });
  assert.equal(refused.status, 429);
  assert.equal(refused.body.error.code, 'rate_limited');
  assert.ok(Number(refused.headers.get('retry-after')) > 0);
  assert.equal(await w.count("SELECT 1 FROM customers WHERE name = '連続 60'"), 0);
  // Another user is not slowed by it.
  assert.equal(
    (
      await api(nishi, '/api/customers', {
        method: 'POST',
        body: { name: '別の人', phone: '09040418888' },
      })
    ).status,
    201,
  );
});

test('health: the public gets {ok, version} from the Worker alone; a flood never reaches the hub', async () => {
  const statsRequests = async () => {
    const h = await api(admin, '/api/health');
    assert.equal(h.status, 200);
    assert.equal(h.body.hub, true);
    return h.body.hubStats.statsRequests;
  };
  const before = await statsRequests();
  // Webhooks run meanwhile.
  const calls = Array.from({ length: 10 }, () => callEvent({ internal_number: NISHI_LINE }));
  const hooks = Promise.all(calls.map((c) => w.sendEvent(c)));
  const FLOOD = 300;
  let next = 0;
  const bodies = [];
  await Promise.all(
    Array.from({ length: 20 }, async () => {
      while (next < FLOOD) {
        next++;
        const h = await w.json('/api/health');
        bodies.push([h.status, Object.keys(h.body).sort().join()]);
      }
    }),
  );
  for (const r of await hooks) assert.equal(r.status, 200);
  assert.equal(bodies.length, FLOOD);
  assert.ok(
    bodies.every(([status, keys]) => status === 200 && keys === 'ok,version'),
    JSON.stringify(bodies[0]),
  );
  // Staff, and a token that is not an admin's, get the public answer too.
  assert.deepEqual(Object.keys((await api(nishi, '/api/health')).body).sort(), ['ok', 'version']);
  assert.deepEqual(
    Object.keys(
      (await w.json('/api/health', { headers: { authorization: 'Bearer x.y.z' } })).body,
    ).sort(),
    ['ok', 'version'],
  );
  // The admin's two checks are the only requests the hub got for its figures.
  assert.equal(await statsRequests(), before + 1);
  const { index } = (await api(admin, '/api/health')).body.hubStats;
  assert.ok(
    index.customers > 0 && index.phones > 0 && index.stores >= 4 && index.events >= 10,
    JSON.stringify(index),
  );
});

test("the hub's index counters follow the changes (kept as writes happen, not counted)", async () => {
  const index = async () => (await api(admin, '/api/health')).body.hubStats.index;
  const count = async (sql) => (await w.db.prepare(sql).first()).n;
  const created = await api(admin, '/api/customers', {
    method: 'POST',
    body: { name: '計数 花子', phone: '09040400004' },
  });
  assert.equal(created.status, 201);
  const patched = await api(admin, `/api/customers/${created.body.customer.id}`, {
    method: 'PATCH',
    body: { version: created.body.customer.version, phones: ['09040400004', '09040400005'] },
  });
  assert.equal(patched.status, 200);
  const after = await index();
  assert.equal(after.customers, await count('SELECT count(*) AS n FROM customers'));
  assert.equal(after.phones, await count('SELECT count(*) AS n FROM customer_phones'));
  assert.equal(after.stores, await count('SELECT count(*) AS n FROM stores'));
  assert.equal(
    (await api(admin, `/api/customers/${created.body.customer.id}`, { method: 'DELETE' })).status,
    200,
  );
  const gone = await index();
  assert.equal(gone.customers, after.customers - 1);
  assert.equal(gone.phones, after.phones - 2);
});

test('a store with customers or accounts cannot be deleted until they are moved (409 store_in_use)', async () => {
  const store = await api(admin, '/api/stores', {
    method: 'POST',
    body: { name: '閉店候補', prefixes: ['0509980'] },
  });
  assert.equal(store.status, 201, JSON.stringify(store.body));
  const sid = store.body.store.id;
  const c = await api(admin, '/api/customers', {
    method: 'POST',
    body: { name: '閉店 客', phone: '09040400006', homeStoreId: sid },
  });
  const clerk = await w.login({ role: 'staff', store: '閉店候補' });
  const refused = await api(admin, `/api/stores/${sid}`, { method: 'DELETE' });
  assert.equal(refused.status, 409, JSON.stringify(refused.body));
  assert.equal(refused.body.error.code, 'store_in_use');
  assert.match(refused.body.error.message, /顧客が1人、アカウントが1件/);
  assert.equal(await w.count('SELECT 1 FROM stores WHERE id = ?1', sid), 1);
  assert.equal(
    await w.count('SELECT 1 FROM store_prefixes WHERE store_id = ?1', sid),
    1,
    'nothing was deleted',
  );
  assert.equal(await w.count('SELECT 1 FROM customers WHERE home_store_id = ?1', sid), 1);
  // Moved: the customer to 西船橋, the account to 葛西. Then it goes.
  const card = c.body.customer;
  await api(admin, `/api/customers/${card.id}`, {
    method: 'PATCH',
    body: { version: card.version, homeStoreId: await storeId('西船橋') },
  });
  const uid = await userId(clerk);
  assert.equal(
    (
      await api(admin, `/api/users/${uid}`, {
        method: 'PATCH',
        body: { storeId: await storeId('葛西') },
      })
    ).status,
    200,
  );
  assert.equal((await api(admin, `/api/stores/${sid}`, { method: 'DELETE' })).status, 200);
});

test("front-desk settings: staff get their store's and the global buttons and their own caller id; https only", async () => {
  const n = await storeId('西船橋');
  const k = await storeId('錦糸町');
  const settings = {
    actions: [
      { label: '共通', url: 'https://shop.example/all?t={phone}', storeId: null },
      { label: '西船橋の', url: 'https://partner.example/n?token=nishi&t={phone}', storeId: n },
      { label: '錦糸町の', url: 'https://partner.example/k?token=kinshi&t={phone}', storeId: k },
    ],
    categories: ['予約'],
    dialMode: 'dialpad',
    callerIds: [
      { storeId: n, number: '05017480000' },
      { storeId: k, number: '05017490000' },
    ],
  };
  const put = await api(admin, '/api/settings/front-desk', { method: 'PUT', body: settings });
  assert.equal(put.status, 200, JSON.stringify(put.body));
  const staff = (await api(nishi, '/api/settings/front-desk')).body.settings;
  assert.deepEqual(
    staff.actions.map((a) => a.label),
    ['共通', '西船橋の'],
  );
  assert.deepEqual(staff.callerIds, [{ storeId: n, number: '05017480000' }]);
  assert.ok(!JSON.stringify(staff).includes('kinshi'));
  const all = (await api(admin, '/api/settings/front-desk')).body.settings;
  assert.equal(all.actions.length, 3);
  assert.equal(all.callerIds.length, 2);
  const plain = await api(admin, '/api/settings/front-desk', {
    method: 'PUT',
    body: {
      ...settings,
      actions: [{ label: '平文', url: 'http://shop.example/?n={customerName}' }],
    },
  });
  assert.equal(plain.status, 400);
  assert.equal(plain.body.error.code, 'invalid_action_url');
  await api(admin, '/api/settings/front-desk', {
    method: 'PUT',
    body: { actions: [], categories: ['予約'] },
  });
});
