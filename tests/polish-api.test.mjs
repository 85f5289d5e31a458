// @ts-check
// Integration: the Worker side of issue 14's screens — customer_changed on the live socket after
// a customer is created or edited (to the rooms that may see the customer), and a disabled
// account told apart from a wrong password at login.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorker, callEvent } from './helpers/worker.mjs';

let w;
let admin;

before(async () => {
  w = await startWorker();
  admin = await w.login({ role: 'admin' });
});

after(async () => {
  await w?.close();
});

const auth = (u) => ({ authorization: `Bearer ${u.token}`, 'content-type': 'application/json' });

test('customer_changed: create and edit reach admins and the home store, not another store', async () => {
  const nishi = await w.login({ role: 'staff', store: '西船橋' });
  const kasai = await w.login({ role: 'staff', store: '葛西' });
  const [a, n, k] = await Promise.all([
    w.openSocket(admin),
    w.openSocket(nishi),
    w.openSocket(kasai),
  ]);

  // Staff register for their own store: 西船橋.
  const created = await w.json('/api/customers', {
    method: 'POST',
    headers: auth(nishi),
    body: JSON.stringify({ name: '通知 太郎', phone: '090-4444-1212' }),
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const id = created.body.customer.id;
  const isCreated = (m) =>
    m.type === 'customer_changed' && m.customer?.id === id && m.customer.name === '通知 太郎';
  for (const s of [a, n]) {
    const m = await s.waitFor(isCreated);
    assert.deepEqual(m.customer.phones, ['09044441212']);
    assert.equal(typeof m.seq, 'number');
    assert.equal(m.storeId, created.body.customer.homeStore.id);
  }

  const renamed = await w.json(`/api/customers/${id}`, {
    method: 'PATCH',
    headers: auth(admin),
    body: JSON.stringify({ version: created.body.customer.version, name: '通知 次郎' }),
  });
  assert.equal(renamed.status, 200, JSON.stringify(renamed.body));
  for (const s of [a, n])
    await s.waitFor((m) => m.type === 'customer_changed' && m.customer?.name === '通知 次郎');

  // A refused edit (stale version) announces nothing.
  const stale = await w.json(`/api/customers/${id}`, {
    method: 'PATCH',
    headers: auth(admin),
    body: JSON.stringify({ version: created.body.customer.version, name: '古い版' }),
  });
  assert.equal(stale.status, 409);

  // A later change that 葛西 may see: the hub sends in order, so once it arrived, anything
  // sent before it has arrived too.
  const marker = await w.json('/api/customers', {
    method: 'POST',
    headers: auth(kasai),
    body: JSON.stringify({ name: '葛西 花子', phone: '090-4444-3434' }),
  });
  assert.equal(marker.status, 201);
  const isMarker = (m) =>
    m.type === 'customer_changed' && m.customer?.id === marker.body.customer.id;
  await k.waitFor(isMarker);
  await a.waitFor(isMarker);
  // 葛西's staff may not see a 西船橋 customer: nothing of it reached them.
  assert.deepEqual(
    k.messages.filter((m) => m.type === 'customer_changed' && m.customer.id === id),
    [],
  );
  assert.deepEqual(
    a.messages.filter((m) => m.customer?.name === '古い版'),
    [],
  );
});

test('login: a disabled account with the right password is told so (403 account_disabled)', async () => {
  const u = await w.login({ role: 'staff', store: '葛西' });
  await w.db.prepare('UPDATE users SET disabled = 1 WHERE login_id = ?1').bind(u.login).run();
  const post = (password) =>
    w.json('/api/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ loginId: u.login, password }),
    });
  const right = await post(u.password);
  assert.equal(right.status, 403);
  assert.equal(right.body.error.code, 'account_disabled');
  // A wrong password says nothing about the account.
  const wrong = await post('not-the-password');
  assert.equal(wrong.status, 401);
  assert.equal(wrong.body.error.code, 'invalid_credentials');
});

test('merge two duplicate customers (admin): numbers, notes, calls and usage move to the one kept, in one batch', async () => {
  const kept = await w.addCustomer({
    name: '統合 残る',
    phone: ['09055550001'],
    memo: '残る方のメモ',
    visits: 2,
    spend: 1000,
    lastVisit: '2026-01-10',
  });
  const gone = await w.addCustomer({
    name: '統合 消える',
    phone: ['09055550002', '09055550001'],
    memo: '消える方のメモ',
    visits: 3,
    spend: 500,
    lastVisit: '2026-03-01',
  });
  await w.db
    .prepare(
      "INSERT INTO customer_notes (customer_id, note_type, body, author_name) VALUES (?1, '好み', '窓際の席', '受付')",
    )
    .bind(gone)
    .run();
  const call = await w.sendEvent(callEvent({ external_number: '+819055550002', contact: null }));
  assert.equal(call.status, 200);
  assert.equal(await w.count('SELECT 1 FROM calls WHERE customer_id = ?1', gone), 1);

  const post = (u, id, body) =>
    w.json(`/api/customers/${id}/merge`, {
      method: 'POST',
      headers: auth(u),
      body: JSON.stringify(body),
    });
  const staff = await w.login({ role: 'staff', store: '西船橋' });
  assert.equal((await post(staff, kept, { from: gone })).status, 403);
  assert.equal((await post(admin, kept, { from: kept })).status, 400);
  assert.equal((await post(admin, kept, { from: 999999 })).status, 404);
  assert.equal(
    await w.count('SELECT 1 FROM customers WHERE id IN (?1, ?2)', kept, gone),
    2,
    'a refused merge changes nothing',
  );

  const socket = await w.openSocket(admin);
  const r = await post(admin, kept, { from: gone });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const c = r.body.customer;
  assert.equal(c.id, kept);
  assert.equal(c.name, '統合 残る');
  assert.deepEqual([...c.phones].sort(), ['09055550001', '09055550002']);
  assert.equal(c.usage.visits, 5);
  assert.equal(c.usage.totalSpend, 1500);
  assert.match(c.usage.lastVisit, /^2026-03-01/);
  assert.equal(c.memo, '残る方のメモ\n消える方のメモ');
  assert.equal(await w.count('SELECT 1 FROM customers WHERE id = ?1', gone), 0);
  assert.equal(await w.count('SELECT 1 FROM customer_phones WHERE customer_id = ?1', kept), 2);
  assert.equal(
    await w.count(
      "SELECT 1 FROM customer_notes WHERE customer_id = ?1 AND body = '窓際の席'",
      kept,
    ),
    1,
  );
  assert.equal(await w.count('SELECT 1 FROM calls WHERE customer_id = ?1', kept), 1);
  await socket.waitFor(
    (m) =>
      m.type === 'customer_changed' && m.customer?.id === kept && m.customer.phones.length === 2,
  );
  // The one merged away is gone for good: merging it again is a 404.
  assert.equal((await post(admin, kept, { from: gone })).status, 404);
});
