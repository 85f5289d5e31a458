// @ts-check
// Custom fields (フリー項目): definitions on 設定, values through create, edit, CSV import and
// export, the customer search, and the popup's card (the lookup and the pop message alike).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorker, callEvent } from './helpers/worker.mjs';

let w;
let admin;
let nishi; // staff of 西船橋
let yamada; // 西船橋's customer, 09012345678
const f = {}; // field ids by label
before(async () => {
  w = await startWorker();
  admin = await w.login({ role: 'admin', name: '管理 太郎' });
  nishi = await w.login({ role: 'staff', store: '西船橋', name: '西船橋 花子' });
  yamada = (
    await w.db
      .prepare('SELECT customer_id FROM customer_phones WHERE phone = ?1')
      .bind('09012345678')
      .first()
  ).customer_id;
});
after(() => w?.close());

/**
 * @param {import('./helpers/worker.mjs').Auth} who
 * @param {string} path
 * @param {import('./helpers/worker.mjs').ApiOptions} [opts]
 * @returns {Promise<import('./helpers/worker.mjs').JsonResponse>}
 */
const api = (who, path, { method = 'GET', body, headers = {} } = {}) =>
  w.json(path, {
    method,
    headers: {
      authorization: `Bearer ${who.token}`,
      ...(body !== undefined && typeof body !== 'string'
        ? { 'content-type': 'application/json' }
        : {}),
      ...headers,
    },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
const detail = async (id) => (await api(admin, `/api/customers/${id}`)).body;

test('admins define fields; bad definitions are a 400 naming the field; staff may not define', async () => {
  const defs = [
    {
      label: '指名',
      kind: 'choice',
      options: ['佐藤', '鈴木'],
      onCard: true,
      position: 2,
      staffEdit: true,
    },
    { label: '会員ランク', kind: 'text', onCard: true, position: 1, staffEdit: false },
    { label: '誕生日', kind: 'date', onCard: false, position: 3 },
    { label: '来店回数目標', kind: 'number', onCard: true, position: 4 },
    { label: 'DM可', kind: 'yesno', onCard: false, position: 5 },
  ];
  for (const d of defs) {
    const r = await api(admin, '/api/custom-fields', { method: 'POST', body: d });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    f[d.label] = r.body.field.id;
  }
  const list = await api(nishi, '/api/custom-fields');
  assert.deepEqual(
    list.body.fields.map((d) => d.label),
    ['会員ランク', '指名', '誕生日', '来店回数目標', 'DM可'],
  );
  for (const [body, field] of [
    [{ label: 'x', kind: 'color' }, 'kind'],
    [{ label: 'x', kind: 'choice', options: [] }, 'options'],
    [{ label: '氏名', kind: 'text' }, 'label'],
    [{ label: ' ', kind: 'text' }, 'label'],
    [{ label: '指名', kind: 'text' }, 'label'],
    [{ label: 'x', kind: 'text', storeId: 99999 }, 'storeId'],
  ]) {
    const r = await api(admin, '/api/custom-fields', { method: 'POST', body });
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.equal(r.body.error.field, field, JSON.stringify(body));
  }
  assert.equal(
    (await api(nishi, '/api/custom-fields', { method: 'POST', body: { label: 'y', kind: 'text' } }))
      .status,
    403,
  );
  assert.equal(
    (
      await api(nishi, `/api/custom-fields/${f['指名']}`, {
        method: 'PATCH',
        body: { onCard: false },
      })
    ).status,
    403,
  );
  assert.equal(
    (
      await api(admin, `/api/custom-fields/${f['指名']}`, {
        method: 'PATCH',
        body: { kind: 'text' },
      })
    ).status,
    400,
  );
});

test('create and edit with values; bad values are a 400; staff may not edit an admin-only field', async () => {
  const bad = await api(admin, '/api/customers', {
    method: 'POST',
    body: { name: '新規 一郎', phone: '09055550001', fields: { [f['指名']]: '田中' } },
  });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.field, 'fields');
  const unknown = await api(admin, '/api/customers', {
    method: 'POST',
    body: { name: '新規 一郎', phone: '09055550001', fields: { 99999: 'x' } },
  });
  assert.equal(unknown.status, 400);
  const r = await api(admin, '/api/customers', {
    method: 'POST',
    body: {
      name: '新規 一郎',
      phone: '09055550001',
      fields: { [f['指名']]: '鈴木', [f['誕生日']]: '1990/4/1', [f['DM可']]: true },
    },
  });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  const d = await detail(r.body.customer.id);
  const value = (label) => d.customFields.find((x) => x.label === label).value;
  assert.deepEqual(
    [value('指名'), value('誕生日'), value('DM可'), value('会員ランク')],
    ['鈴木', '1990-04-01', 'はい', null],
  );

  const v = (await detail(yamada)).customer.version;
  for (const [fields, code] of [
    [{ [f['誕生日']]: '2026-02-30' }, 'invalid_field_value'],
    [{ [f['来店回数目標']]: 'たくさん' }, 'invalid_field_value'],
    [{ [f['DM可']]: 'maybe' }, 'invalid_field_value'],
    [{ [f['会員ランク']]: ['x'] }, 'invalid_field_value'],
    [{ abc: 'x' }, 'unknown_field'],
  ]) {
    const e = await api(admin, `/api/customers/${yamada}`, {
      method: 'PATCH',
      body: { version: v, fields },
    });
    assert.equal(e.status, 400, JSON.stringify(fields));
    assert.equal(e.body.error.code, code, JSON.stringify(fields));
  }
  const ok = await api(admin, `/api/customers/${yamada}`, {
    method: 'PATCH',
    body: {
      version: v,
      fields: {
        [f['会員ランク']]: 'ゴールド',
        [f['指名']]: '佐藤',
        [f['来店回数目標']]: '1,200',
        [f['誕生日']]: '1980-01-02',
      },
    },
  });
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  // Staff: a staff field yes, the admin-only one no (sending it unchanged is no change).
  const staffDetail = (await api(nishi, `/api/customers/${yamada}`)).body;
  assert.equal(staffDetail.customFields.find((x) => x.label === '会員ランク').canEdit, false);
  assert.equal(staffDetail.customFields.find((x) => x.label === '指名').canEdit, true);
  const denied = await api(nishi, `/api/customers/${yamada}`, {
    method: 'PATCH',
    body: { version: ok.body.customer.version, fields: { [f['会員ランク']]: 'ブロンズ' } },
  });
  assert.equal(denied.status, 403);
  const allowed = await api(nishi, `/api/customers/${yamada}`, {
    method: 'PATCH',
    body: {
      version: ok.body.customer.version,
      fields: { [f['指名']]: '鈴木', [f['会員ランク']]: 'ゴールド' },
    },
  });
  assert.equal(allowed.status, 200, JSON.stringify(allowed.body));
  const after = await detail(yamada);
  assert.equal(after.customFields.find((x) => x.label === '会員ランク').value, 'ゴールド');
  assert.equal(after.customFields.find((x) => x.label === '指名').value, '鈴木');
});

test('the search matches text and list values', async () => {
  const r = await api(nishi, '/api/customers/search', { method: 'POST', body: { q: 'ゴールド' } });
  assert.deepEqual(
    r.body.customers.map((c) => c.id),
    [yamada],
  );
  const byChoice = await api(admin, '/api/customers/search', {
    method: 'POST',
    body: { q: '鈴木' },
  });
  assert.ok(byChoice.body.customers.some((c) => c.id === yamada));
});

test("the lookup and the pop message carry the card's fields, only those marked, in order", async () => {
  const expected = [
    { label: '会員ランク', value: 'ゴールド' },
    { label: '指名', value: '鈴木' },
    { label: '来店回数目標', value: '1200' },
  ];
  const strip = (fields) => fields.map(({ label, value }) => ({ label, value }));
  const look = await api(nishi, '/api/customers/lookup', {
    method: 'POST',
    body: { phone: '09012345678' },
  });
  assert.deepEqual(strip(look.body.customer.fields), expected);
  const s = await w.openSocket(admin);
  const ev = callEvent({ external_number: '+819012345678', internal_number: '+815017481111' });
  await w.sendEvent(ev);
  const m = await s.waitFor((m) => m.type === 'incoming_call' && m.legId === String(ev.call_id));
  assert.deepEqual(strip(m.customer.fields), expected);
  // The card's choice changes with 設定: the next pop follows.
  await api(admin, `/api/custom-fields/${f['指名']}`, { method: 'PATCH', body: { position: 0 } });
  await api(admin, `/api/custom-fields/${f['来店回数目標']}`, {
    method: 'PATCH',
    body: { onCard: false },
  });
  const ev2 = callEvent({ external_number: '+819012345678', internal_number: '+815017481111' });
  await w.sendEvent(ev2);
  const m2 = await s.waitFor((m) => m.type === 'incoming_call' && m.legId === String(ev2.call_id));
  assert.deepEqual(
    m2.customer.fields.map((x) => x.label),
    ['指名', '会員ランク'],
  );
  s.close();
});

test('CSV: export has the columns, import reads them by name, a bad value is an invalid row', async () => {
  const exp = await w.fetch('/api/customers/export', {
    headers: { authorization: `Bearer ${admin.token}` },
  });
  const text = (await exp.text()).replace(/^\uFEFF/, '');
  const [header, ...lines] = text.trim().split(/\r?\n/);
  const cols = header.split(',');
  for (const label of ['指名', '会員ランク', '誕生日', '来店回数目標', 'DM可'])
    assert.ok(cols.includes(label), label);
  const row = lines.find((l) => l.startsWith(`${yamada},`)).split(',');
  assert.equal(row[cols.indexOf('会員ランク')], 'ゴールド');
  assert.equal(row[cols.indexOf('誕生日')], '1980-01-02');

  const bad = await api(admin, '/api/customers/import', {
    method: 'POST',
    body: '氏名,電話番号,指名\n山田 太郎,09012345678,田中\n',
    headers: { 'content-type': 'text/csv' },
  });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.code, 'invalid_rows');
  assert.equal(bad.body.error.rows[0].line, 2);
  const good = await api(admin, '/api/customers/import', {
    method: 'POST',
    body: '氏名,電話番号,指名,会員ランク\n山田 太郎,09012345678,佐藤,\nCSV 花子,09055550002,鈴木,シルバー\n',
    headers: { 'content-type': 'text/csv' },
  });
  assert.equal(good.status, 200, JSON.stringify(good.body));
  const y = await detail(yamada);
  const value = (d, label) => d.customFields.find((x) => x.label === label).value;
  assert.equal(value(y, '指名'), '佐藤');
  assert.equal(value(y, '会員ランク'), null, 'an empty cell clears');
  assert.equal(value(y, '誕生日'), '1980-01-02', 'a column not in the file keeps its value');
  const hanako = (
    await api(admin, '/api/customers/search', { method: 'POST', body: { q: 'シルバー' } })
  ).body.customers;
  assert.deepEqual(
    hanako.map((c) => c.name),
    ['CSV 花子'],
  );
});

test("a field of one store: only that store's staff and customers have it", async () => {
  const stores = (await api(admin, '/api/stores')).body.stores;
  const kinshi = stores.find((s) => s.name === '錦糸町');
  const r = await api(admin, '/api/custom-fields', {
    method: 'POST',
    body: { label: '錦糸町メモ', kind: 'text', storeId: kinshi.id, onCard: true },
  });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  const id = r.body.field.id;
  assert.ok(
    !(await api(nishi, '/api/custom-fields')).body.fields.some((d) => d.id === id),
    "another store's field is not listed",
  );
  assert.ok(
    !(await detail(yamada)).customFields.some((d) => d.id === id),
    'nor shown on a 西船橋 customer',
  );
  const v = (await detail(yamada)).customer.version;
  const e = await api(admin, `/api/customers/${yamada}`, {
    method: 'PATCH',
    body: { version: v, fields: { [id]: 'x' } },
  });
  assert.equal(e.status, 400);
  assert.equal(e.body.error.code, 'unknown_field');
  // Another store's staff may not edit that customer's fields (the access policy first).
  const sato = (
    await w.db
      .prepare('SELECT customer_id FROM customer_phones WHERE phone = ?1')
      .bind('08011112222')
      .first()
  ).customer_id; // 錦糸町
  const satoVersion = (await detail(sato)).customer.version;
  const other = await api(nishi, `/api/customers/${sato}`, {
    method: 'PATCH',
    body: { version: satoVersion, fields: { [f['指名']]: '佐藤' } },
  });
  assert.equal(other.status, 403);
  assert.equal(other.body.error.code, 'other_store');
  const deleted = await api(admin, `/api/custom-fields/${id}`, { method: 'DELETE' });
  assert.equal(deleted.status, 200);
  assert.equal((await api(admin, `/api/custom-fields/${id}`, { method: 'DELETE' })).status, 404);
});

test("a merge keeps the kept customer's values and takes the merged one's for the fields it lacked", async () => {
  const make = async (name, phone, fields) =>
    (await api(admin, '/api/customers', { method: 'POST', body: { name, phone, fields } })).body
      .customer.id;
  const kept = await make('統合 先', '09077770001', { [f['指名']]: '佐藤' });
  const from = await make('統合 元', '09077770002', {
    [f['指名']]: '鈴木',
    [f['誕生日']]: '2000-05-05',
  });
  const r = await api(admin, `/api/customers/${kept}/merge`, { method: 'POST', body: { from } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const d = await detail(kept);
  const value = (label) => d.customFields.find((x) => x.label === label).value;
  assert.deepEqual([value('指名'), value('誕生日')], ['佐藤', '2000-05-05']);
});
