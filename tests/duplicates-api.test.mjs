// @ts-check
// Integration: a number that another customer already has (issue 14). Before saving, the page
// asks `POST /api/customers/duplicates`; a create or an edit answers the same in `duplicates`.
// Admins are told who (and may save anyway); staff are told who only for the customers they may
// see — another store's customer stays nameless; saving goes through (a store is never locked
// out of recording its own caller: the number is then claimed in two stores). Merging:
// the customer_changed message names the customer merged away, so popups showing them follow.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorker } from './helpers/worker.mjs';

let w;
let admin;
let nishi;

before(async () => {
  w = await startWorker();
  admin = await w.login({ role: 'admin' });
  nishi = await w.login({ role: 'staff', store: '西船橋' });
});

after(async () => {
  await w?.close();
});

const auth = (u) => ({ authorization: `Bearer ${u.token}`, 'content-type': 'application/json' });
const post = (u, path, body) =>
  w.json(path, { method: 'POST', headers: auth(u), body: JSON.stringify(body) });
const patch = (u, path, body) =>
  w.json(path, { method: 'PATCH', headers: auth(u), body: JSON.stringify(body) });
const check = (u, body) => post(u, '/api/customers/duplicates', body);

test('admin: the check and the save both name the other customer; the save goes through', async () => {
  const other = await w.addCustomer({ name: '重複 一郎', phone: ['09061110001'], store: '葛西' });

  // Any format: the number is normalised before it is compared.
  const before = await check(admin, { phones: ['090-6111-0001'] });
  assert.equal(before.status, 200, JSON.stringify(before.body));
  assert.equal(before.body.allowed, true);
  assert.deepEqual(before.body.duplicates, [
    {
      phone: '09061110001',
      customer: {
        id: other,
        name: '重複 一郎',
        homeStore: { id: before.body.duplicates[0].customer.homeStore.id, name: '葛西' },
      },
    },
  ]);
  // A number nobody has: nothing to say.
  assert.deepEqual((await check(admin, { phones: ['09061119999'] })).body.duplicates, []);

  const created = await post(admin, '/api/customers', { name: '重複 二郎', phone: '09061110001' });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.deepEqual(
    created.body.duplicates.map((d) => [d.phone, d.customer.id, d.customer.name]),
    [['09061110001', other, '重複 一郎']],
  );
  const id = created.body.customer.id;
  assert.equal(
    await w.count('SELECT 1 FROM customer_phones WHERE phone = ?1', '09061110001'),
    2,
    'saved anyway',
  );

  // An edit is checked without the customer being edited: their own number is no warning.
  assert.deepEqual(
    (await check(admin, { phones: ['09061110001'], except: other })).body.duplicates.map(
      (d) => d.customer.id,
    ),
    [id],
  );
  const third = await w.addCustomer({ name: '重複 三郎', phone: ['09061110003'] });
  const edited = await patch(admin, `/api/customers/${other}`, {
    version: 1,
    phones: ['09061110001', '09061110003'],
  });
  assert.equal(edited.status, 200, JSON.stringify(edited.body));
  assert.deepEqual(
    edited.body.duplicates.map((d) => [d.phone, d.customer.name]),
    [
      ['09061110001', '重複 二郎'],
      ['09061110003', '重複 三郎'],
    ],
  );
  assert.deepEqual([...edited.body.customer.phones].sort(), ['09061110001', '09061110003']);
  // An edit that leaves the numbers alone says nothing about them.
  const renamed = await patch(admin, `/api/customers/${third}`, {
    version: 1,
    name: '重複 三郎（改）',
  });
  assert.equal(renamed.status, 200);
  assert.deepEqual(renamed.body.duplicates, []);
});

test("staff: the names of customers they may see, never another store's; their own store's customer may share the number", async () => {
  const kasai = await w.addCustomer({
    name: '葛西の 秘密子',
    phone: ['09062220001'],
    store: '葛西',
  });
  const mine = await w.addCustomer({
    name: '西船橋の 一子',
    phone: ['09062220002'],
    store: '西船橋',
  });
  const anyones = await w.addCustomer({ name: '店舗なし 二子', phone: ['09062220003'] });

  const r = await check(nishi, { phones: ['09062220001', '09062220002', '09062220003'] });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(
    r.body.allowed,
    true,
    "another store's customer has one of them: allowed, warned, nameless",
  );
  assert.deepEqual(
    r.body.duplicates.map((d) => [d.phone, d.customer?.id ?? null, d.customer?.name ?? null]),
    [
      ['09062220001', null, null],
      ['09062220002', mine, '西船橋の 一子'],
      ['09062220003', anyones, '店舗なし 二子'],
    ],
  );
  const text = JSON.stringify(r.body);
  assert.ok(
    !text.includes('秘密子') && !text.includes(String(kasai)) && !text.includes('葛西'),
    text,
  );

  // The save of another store's number: 西船橋's own customer (no name in the answer)...
  const claimed = await post(nishi, '/api/customers', {
    name: '西船橋 三子',
    phone: '09062220001',
  });
  assert.equal(claimed.status, 201, JSON.stringify(claimed.body));
  assert.deepEqual(claimed.body.duplicates, [{ phone: '09062220001', customer: null }]);
  assert.ok(!JSON.stringify(claimed.body).includes('秘密子'));
  // ...and, with the warning naming them, for a number of a customer they may see.
  const ok = await post(nishi, '/api/customers', { name: '西船橋 新子', phone: '09062220002' });
  assert.equal(ok.status, 201, JSON.stringify(ok.body));
  assert.deepEqual(
    ok.body.duplicates.map((d) => d.customer.name),
    ['西船橋の 一子'],
  );

  // Another store's and now 西船橋's own: the one they may see is named, the other nameless.
  const only = await check(nishi, { phones: ['09062220001'] });
  assert.deepEqual(only.body, {
    duplicates: [
      { phone: '09062220001', customer: null },
      {
        phone: '09062220001',
        customer: {
          id: claimed.body.customer.id,
          name: '西船橋 三子',
          homeStore: claimed.body.customer.homeStore,
        },
      },
    ],
    allowed: true,
  });
});

test('the check refuses what the save would refuse, and needs a session', async () => {
  assert.equal((await check(admin, { phones: [] })).body.error.code, 'missing_phone');
  const bad = await check(admin, { phones: ['12345'] });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.code, 'invalid_phone');
  assert.equal((await check(admin, { phone: '09011112222' })).status, 400);
  const anon = await w.json('/api/customers/duplicates', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ phones: ['09012345678'] }),
  });
  assert.equal(anon.status, 401);
});

test('merge: customer_changed names the customer merged away; self-merge and unknown ids are clear 4xx', async () => {
  const kept = await w.addCustomer({ name: '統合先 残子', phone: ['09063330001'] });
  const gone = await w.addCustomer({ name: '統合元 消子', phone: ['09063330002'] });
  const self = await post(admin, `/api/customers/${kept}/merge`, { from: kept });
  assert.equal(self.status, 400);
  assert.equal(self.body.error.code, 'same_customer');
  const unknown = await post(admin, `/api/customers/${kept}/merge`, { from: 987654 });
  assert.equal(unknown.status, 404);
  assert.equal(unknown.body.error.code, 'not_found');
  assert.equal((await post(admin, `/api/customers/987654/merge`, { from: gone })).status, 404);
  assert.equal((await post(admin, `/api/customers/${kept}/merge`, { from: 'x' })).status, 400);

  const socket = await w.openSocket(admin);
  const r = await post(admin, `/api/customers/${kept}/merge`, { from: gone });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const m = await socket.waitFor((m) => m.type === 'customer_changed' && m.customer?.id === kept);
  assert.equal(m.mergedFrom, gone);
  assert.deepEqual([...m.customer.phones].sort(), ['09063330001', '09063330002']);
  // The merged number now warns with the one kept.
  assert.deepEqual(
    (await check(admin, { phones: ['09063330002'] })).body.duplicates.map((d) => d.customer.id),
    [kept],
  );
});
