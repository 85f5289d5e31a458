// @ts-check
// Customer records, stores and the call log: every endpoint's happy path, validation errors,
// role boundaries, CSV import (bad rows, Shift_JIS) and the memo-conflict 409.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import iconv from 'iconv-lite';
import { startWorker, callEvent } from './helpers/worker.mjs';

let w;
let admin;
let nishi; // staff of 西船橋
let kinshi; // staff of 錦糸町
let ids;
before(async () => {
  w = await startWorker();
  admin = await w.login({ role: 'admin', name: '管理 太郎' });
  nishi = await w.login({ role: 'staff', store: '西船橋', name: '西船橋 花子' });
  kinshi = await w.login({ role: 'staff', store: '錦糸町' });
  const id = async (phone) =>
    (
      await w.db
        .prepare('SELECT customer_id FROM customer_phones WHERE phone = ?1')
        .bind(phone)
        .first()
    ).customer_id;
  ids = { yamada: await id('09012345678'), sato: await id('08011112222') }; // 西船橋, 錦糸町
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
    body:
      body === undefined
        ? undefined
        : typeof body === 'string' || body instanceof Uint8Array
          ? body
          : JSON.stringify(body),
  });

test('search by any number format, part of a number, name or kana; paging', async () => {
  for (const q of ['090-1234-5678', '+81 90 1234 5678', '5678', '山田', 'ヤマダ']) {
    const r = await api(admin, '/api/customers/search', { method: 'POST', body: { q } });
    assert.equal(r.status, 200, q);
    assert.ok(
      r.body.customers.some((c) => c.name === '山田 太郎'),
      q,
    );
  }
  const none = await api(admin, '/api/customers/search', { method: 'POST', body: { q: '%' } });
  assert.equal(none.body.total, 0, 'LIKE wildcards match literally');
  const p1 = await api(admin, '/api/customers/search', {
    method: 'POST',
    body: { perPage: 2, page: 1 },
  });
  const p2 = await api(admin, '/api/customers/search', {
    method: 'POST',
    body: { perPage: 2, page: 2 },
  });
  assert.equal(p1.body.customers.length, 2);
  assert.ok(p1.body.total >= 4);
  assert.notDeepEqual(
    p1.body.customers.map((c) => c.id),
    p2.body.customers.map((c) => c.id),
  );
  const staff = await api(nishi, '/api/customers/search', { method: 'POST', body: {} });
  assert.ok(
    staff.body.customers.every((c) => c.homeStore === null || c.homeStore.name === '西船橋'),
  );
  assert.ok(!staff.body.customers.some((c) => c.name === '佐藤 花子'));
});

test('detail: card, notes, history; staff of another store are refused', async () => {
  const r = await api(nishi, `/api/customers/${ids.yamada}`);
  assert.equal(r.status, 200);
  assert.equal(r.body.customer.name, '山田 太郎');
  assert.equal(r.body.canEdit, true);
  assert.ok(Array.isArray(r.body.notes) && Array.isArray(r.body.history));
  assert.equal((await api(kinshi, `/api/customers/${ids.yamada}`)).status, 403);
  assert.equal(
    (
      await api(kinshi, `/api/customers/${ids.yamada}`, {
        method: 'PATCH',
        body: { version: 1, memo: 'x' },
      })
    ).status,
    403,
  );
  const hidden = await api(kinshi, '/api/customers/lookup', {
    method: 'POST',
    body: { phone: '09012345678' },
  });
  assert.equal(
    hidden.body.customer,
    null,
    "another store's customer who never called here stays hidden",
  );
  assert.equal((await api(admin, '/api/customers/999999')).status, 404);
  assert.equal((await api(admin, '/api/customers/abc')).status, 404);
  // One access policy: a customer of another store stays another store's, even after calling
  // this store. The customer page and the popup lookup agree (they used to disagree).
  await w.sendEvent(
    callEvent({ external_number: '+818011112222', internal_number: '+815017481111' }),
  );
  assert.equal((await api(nishi, `/api/customers/${ids.sato}`)).status, 403);
  const pop = await api(nishi, '/api/customers/lookup', {
    method: 'POST',
    body: { phone: '08011112222' },
  });
  assert.equal(pop.body.customer, null);
  assert.equal(pop.body.canEdit, false);
  assert.ok(
    pop.body.history.length > 0 && pop.body.history.every((c) => c.storeName === '西船橋'),
    "the number's calls to this store are listed",
  );
  const search = await api(nishi, '/api/customers/search', {
    method: 'POST',
    body: { q: '08011112222' },
  });
  assert.equal(search.body.total, 0, 'search agrees');
  const admin_view = await api(admin, `/api/customers/${ids.sato}`);
  assert.ok(admin_view.body.history.some((c) => c.storeName === '西船橋'));
  assert.equal(
    (await api(nishi, '/api/customers/lookup', { method: 'POST', body: { phone: '09012345678' } }))
      .body.canEdit,
    true,
  );
  assert.equal(
    (
      await api(nishi, `/api/customers/${ids.sato}`, {
        method: 'PATCH',
        body: { version: 1, memo: 'x' },
      })
    ).status,
    403,
  );
});

test('memo edit with version; a stale version is 409 with the current text, nothing lost', async () => {
  const cur = (await api(nishi, `/api/customers/${ids.yamada}`)).body.customer;
  const a = await api(nishi, `/api/customers/${ids.yamada}`, {
    method: 'PATCH',
    body: { version: cur.version, memo: 'Aさんの追記' },
  });
  assert.equal(a.status, 200);
  assert.equal(a.body.customer.memo, 'Aさんの追記');
  assert.equal(a.body.customer.version, cur.version + 1);
  // B edited from the same old version: refused, told what is there now.
  const b = await api(admin, `/api/customers/${ids.yamada}`, {
    method: 'PATCH',
    body: { version: cur.version, memo: 'Bさんの上書き', phones: ['0399990000'] },
  });
  assert.equal(b.status, 409);
  assert.equal(b.body.error.code, 'version_conflict');
  assert.equal(b.body.error.current.memo, 'Aさんの追記');
  const after = (await api(admin, `/api/customers/${ids.yamada}`)).body.customer;
  assert.equal(after.memo, 'Aさんの追記');
  assert.deepEqual(after.phones, ['09012345678'], 'the refused edit changed no phone either');
  const missing = await api(admin, `/api/customers/${ids.yamada}`, {
    method: 'PATCH',
    body: { memo: 'no version' },
  });
  assert.equal(missing.status, 400);
  assert.equal(missing.body.error.field, 'version');
});

test('field validation on edit names the field', async () => {
  const v = (await api(admin, `/api/customers/${ids.yamada}`)).body.customer.version;
  /** @type {[Record<string, any>, string][]} */
  const cases = [
    [{ name: ' ' }, 'name'],
    [{ name: 'x'.repeat(101) }, 'name'],
    [{ customerType: 'ゴールド' }, 'customerType'],
    [{ flag: '危険' }, 'flag'],
    [{ phones: ['abc'] }, 'phones'],
    [{ phones: [] }, 'phones'],
    [{ visits: -1 }, 'visits'],
    [{ memo: 'x'.repeat(2001) }, 'memo'],
    [{ lastVisit: 'last tuesday' }, 'lastVisit'],
  ];
  for (const [patch, field] of cases) {
    const r = await api(admin, `/api/customers/${ids.yamada}`, {
      method: 'PATCH',
      body: { version: v, ...patch },
    });
    assert.equal(r.status, 400, JSON.stringify(patch));
    assert.equal(r.body.error.field, field, JSON.stringify(patch));
  }
  assert.equal(
    (
      await api(admin, `/api/customers/${ids.yamada}`, {
        method: 'PATCH',
        body: { version: v, bogus: 1 },
      })
    ).status,
    400,
  );
  const ok = await api(admin, `/api/customers/${ids.yamada}`, {
    method: 'PATCH',
    body: {
      version: v,
      customerType: 'VIP',
      flag: '要注意',
      phones: ['090-1234-5678', '03-1111-2222'],
    },
  });
  assert.equal(ok.status, 200);
  assert.deepEqual([ok.body.customer.customerType, ok.body.customer.flag], ['VIP', '要注意']);
  assert.deepEqual(ok.body.customer.phones.sort(), ['0311112222', '09012345678']);
  const cleared = await api(admin, `/api/customers/${ids.yamada}`, {
    method: 'PATCH',
    body: { version: ok.body.customer.version, flag: null },
  });
  assert.equal(cleared.body.customer.flag, null);
});

test('notes: typed, newest first, validated, scoped', async () => {
  const add = (who, body) =>
    api(who, `/api/customers/${ids.yamada}/notes`, { method: 'POST', body });
  const n1 = await add(nishi, { type: '好み', body: '窓側の席' });
  assert.equal(n1.status, 201);
  assert.equal(n1.body.note.authorName, '西船橋 花子');
  await add(nishi, { type: '苦情', body: '待ち時間が長い' });
  const list = await api(nishi, `/api/customers/${ids.yamada}/notes`);
  assert.deepEqual(
    list.body.notes.slice(0, 2).map((n) => n.noteType),
    ['苦情', '好み'],
  );
  assert.equal((await add(nishi, { type: '雑談', body: 'x' })).body.error.field, 'type');
  assert.equal((await add(nishi, { type: '一般', body: '  ' })).body.error.field, 'body');
  assert.equal((await add(kinshi, { type: '一般', body: 'x' })).status, 403);
  const lookup = await api(nishi, '/api/customers/lookup', {
    method: 'POST',
    body: { phone: '09012345678' },
  });
  assert.equal(lookup.body.notes[0].noteType, '苦情', 'the popup gets the latest notes');
});

test('CSV import: bad rows are all reported and nothing is written', async () => {
  const before = await w.count('SELECT * FROM customers');
  const csv =
    '氏名,フリガナ,電話番号,店舗,区分,来店回数\n正しい 行,タダシイ,09033330000,西船橋,会員,3\n,ナシ,09033330001,西船橋,,\n番号 不正,,abc,西船橋,,\n店 不明,,09033330003,大阪,,\n区分 不正,,09033330004,,ゴールド,x\n';
  const r = await api(admin, '/api/customers/import', {
    method: 'POST',
    body: csv,
    headers: { 'content-type': 'text/csv' },
  });
  assert.equal(r.status, 400);
  assert.equal(r.body.error.code, 'invalid_rows');
  const got = r.body.error.rows.map((e) => `${e.line}:${e.field}`);
  // Every problem of every row in one pass, store names included.
  assert.deepEqual(got, ['3:name', '4:phones', '5:homeStore', '6:customerType', '6:visits']);
  assert.equal(await w.count('SELECT * FROM customers'), before, 'all or nothing');
  const store = await api(admin, '/api/customers/import', {
    method: 'POST',
    body: '氏名,電話番号,店舗\n店 不明,09033330003,大阪\n',
  });
  assert.deepEqual(
    store.body.error.rows.map((e) => `${e.line}:${e.field}`),
    ['2:homeStore'],
  );
  assert.equal(await w.count('SELECT * FROM customers'), before);
  assert.equal(
    (await api(nishi, '/api/customers/import', { method: 'POST', body: csv })).status,
    403,
  );
});

test('CSV import: Shift_JIS file creates and updates customers; export round-trips', async () => {
  const csv =
    '氏名,フリガナ,電話番号,店舗,区分,フラグ,来店回数,累計利用額,最終来店日,メモ\r\n' +
    '鈴木 一郎,スズキ イチロウ,090-4444-0001 / 03-4444-0001,葛西,会員,,5,"12,000",2026/10/01,"初回は紹介, 友人経由"\r\n' +
    '山田 太郎,ヤマダ タロウ,09012345678,西船橋,VIP,,13,90000,2026-11-20,既存顧客の更新\r\n';
  const sjis = iconv.encode(csv, 'Shift_JIS');
  assert.throws(
    () => new TextDecoder('utf-8', { fatal: true }).decode(sjis),
    'the file really is not UTF-8',
  );
  const r = await api(admin, '/api/customers/import', {
    method: 'POST',
    body: sjis,
    headers: { 'content-type': 'text/csv' },
  });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.deepEqual([r.body.created, r.body.updated], [1, 1]);
  const suzuki = (
    await api(admin, '/api/customers/search', { method: 'POST', body: { q: 'スズキ' } })
  ).body.customers[0];
  assert.equal(suzuki.name, '鈴木 一郎');
  assert.deepEqual(suzuki.phones.sort(), ['0344440001', '09044440001']);
  assert.equal(suzuki.homeStore.name, '葛西');
  assert.equal(suzuki.usage.totalSpend, 12000);
  assert.equal(suzuki.memo, '初回は紹介, 友人経由');
  const yamada = (await api(admin, `/api/customers/${ids.yamada}`)).body.customer;
  assert.equal(yamada.usage.visits, 13);
  assert.equal(yamada.memo, '既存顧客の更新');

  const exp = await w.fetch('/api/customers/export', {
    headers: { authorization: `Bearer ${admin.token}` },
  });
  assert.equal(exp.status, 200);
  assert.match(exp.headers.get('content-type'), /text\/csv/);
  const bytes = new Uint8Array(await exp.arrayBuffer());
  assert.deepEqual(
    [...bytes.subarray(0, 3)],
    [0xef, 0xbb, 0xbf],
    'UTF-8 BOM so Excel reads Japanese',
  );
  const text = new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes);
  assert.ok(text.startsWith('\ufeffID,氏名,フリガナ,電話番号'));
  assert.match(text, /鈴木 一郎/);
  // Re-importing the export changes nothing but versions.
  const again = await api(admin, '/api/customers/import', { method: 'POST', body: text });
  assert.equal(again.status, 200, JSON.stringify(again.body));
  assert.equal(again.body.created, 0);
  const staffExport = await (
    await w.fetch('/api/customers/export', { headers: { authorization: `Bearer ${kinshi.token}` } })
  ).text();
  assert.ok(!staffExport.includes('鈴木 一郎'), 'staff export their store only');
});

test('stores: create, conflicting prefix refused, edit, resolve, delete; admin only', async () => {
  const c = await api(admin, '/api/stores', {
    method: 'POST',
    body: { name: '船橋北口', prefixes: ['050-1760', '+81 50 1761'] },
  });
  assert.equal(c.status, 201, JSON.stringify(c.body));
  assert.deepEqual(c.body.store.prefixes, ['0501760', '0501761']);
  const conflict = await api(admin, '/api/stores', {
    method: 'POST',
    body: { name: '別店', prefixes: ['0501748'] },
  });
  assert.equal(conflict.status, 409);
  assert.equal(conflict.body.error.code, 'prefix_conflict');
  assert.match(conflict.body.error.message, /西船橋/);
  assert.equal(
    (await api(admin, '/api/stores', { method: 'POST', body: { name: '西船橋', prefixes: [] } }))
      .body.error.code,
    'store_name_taken',
  );
  assert.equal(
    (await api(admin, '/api/stores', { method: 'POST', body: { name: 'x', prefixes: ['abc'] } }))
      .body.error.field,
    'prefixes',
  );
  assert.equal(
    (await api(nishi, '/api/stores', { method: 'POST', body: { name: 'y', prefixes: [] } })).status,
    403,
  );
  const id = c.body.store.id;
  const moved = await api(admin, `/api/stores/${id}`, {
    method: 'PATCH',
    body: { prefixes: ['05017605'] },
  });
  assert.deepEqual(moved.body.store.prefixes, ['05017605']);
  const steal = await api(admin, `/api/stores/${id}`, {
    method: 'PATCH',
    body: { prefixes: ['0501749'] },
  });
  assert.equal(steal.status, 409);
  const hit = await api(nishi, '/api/stores/resolve?number=050-1760-5123');
  assert.deepEqual([hit.body.store.name, hit.body.prefix], ['船橋北口', '05017605']);
  const miss = await api(nishi, '/api/stores/resolve?number=0312345678');
  assert.deepEqual([miss.body.store.name, miss.body.prefix], ['不明', null]);
  // A call to the new store's number is attributed to it.
  const a = await w.openSocket(admin);
  const ev = callEvent({ internal_number: '+81501760 5999'.replace(' ', '') });
  await w.sendEvent(ev);
  assert.equal((await a.waitFor((m) => m.legId === String(ev.call_id))).store.name, '船橋北口');
  a.close();
  assert.equal((await api(admin, `/api/stores/${id}`, { method: 'DELETE' })).status, 200);
  assert.equal((await api(admin, `/api/stores/${id}`, { method: 'DELETE' })).status, 404);
  assert.equal(await w.count('SELECT * FROM store_prefixes WHERE store_id = ?1', id), 0);
});

test('call log: filters by store, day (Japan time), missed; staff see their store only', async () => {
  const day = 24 * 3600 * 1000;
  const old = Date.parse('2026-01-15T10:00:00+09:00');
  await w.sendEvent(
    callEvent({ date_started: old, date_rang: old, internal_number: '+815017491234' }),
  );
  const missedCall = callEvent({ internal_number: '+815017491234' });
  await w.sendEvent(missedCall);
  await w.sendEvent({ ...missedCall, state: 'hangup', date_ended: Date.now() });
  const kinshiId = (await w.db.prepare("SELECT id FROM stores WHERE name = '錦糸町'").first()).id;
  const log = (who, body) => api(who, '/api/calls/search', { method: 'POST', body });
  const all = await log(admin, { store: kinshiId, perPage: 100 });
  assert.ok(all.body.calls.length >= 2 && all.body.calls.every((c) => c.storeName === '錦糸町'));
  const jan = await log(admin, { from: '2026-01-15', to: '2026-01-15' });
  assert.equal(jan.body.total, 1);
  assert.equal(jan.body.calls[0].startedAt, old);
  const missed = await log(admin, { missed: true, perPage: 100 });
  assert.ok(missed.body.calls.some((c) => c.id === String(missedCall.call_id)));
  assert.ok(missed.body.calls.every((c) => ['missed', 'voicemail'].includes(c.phase)));
  const staff = await log(nishi, { store: kinshiId, perPage: 100 });
  assert.ok(
    staff.body.calls.every((c) => c.storeName === '西船橋'),
    'staff cannot widen to another store',
  );
  assert.equal((await log(admin, { from: '2026-13-40' })).body.error.field, 'from');
  assert.ok(Date.now() - old > day);
});

test('customer delete is admin only', async () => {
  const id = await w.addCustomer({ name: '削除 予定', phone: '09077770000', store: '西船橋' });
  assert.equal((await api(nishi, `/api/customers/${id}`, { method: 'DELETE' })).status, 403);
  assert.equal((await api(admin, `/api/customers/${id}`, { method: 'DELETE' })).status, 200);
  assert.equal(await w.count('SELECT * FROM customer_phones WHERE customer_id = ?1', id), 0);
});

test('CSV import of 5,000 rows lands in one transaction of a few statements', async () => {
  const before = await w.count('SELECT * FROM customers');
  const lines = ['氏名,フリガナ,電話番号,店舗,来店回数,累計利用額,メモ'];
  for (let n = 0; n < 5000; n++) {
    const num = String(n).padStart(4, '0');
    // Two numbers on every tenth row, and long memos, so chunks split on size as well as count.
    const phones = n % 10 === 0 ? `070-5${num}-000 / 03-5${num}-000` : `070-5${num}-000`;
    lines.push(
      `一括 ${num},イッカツ,${phones},西船橋,${n},${n * 100},${'メモ'.repeat(n % 7 === 0 ? 400 : 5)}`,
    );
  }
  const r = await api(admin, '/api/customers/import', {
    method: 'POST',
    body: lines.join('\n') + '\n',
  });
  assert.equal(r.status, 200, JSON.stringify(r.body).slice(0, 500));
  assert.deepEqual([r.body.imported, r.body.created, r.body.updated], [5000, 5000, 0]);
  assert.equal(await w.count('SELECT * FROM customers'), before + 5000);
  // Every row kept its own numbers (ids were derived inside the transaction).
  const row = await w.db
    .prepare(
      "SELECT c.name, c.visit_count, group_concat(p.phone) AS phones FROM customers c JOIN customer_phones p ON p.customer_id = c.id WHERE c.name = '一括 4990' GROUP BY c.id",
    )
    .first();
  assert.deepEqual([row.name, row.visit_count], ['一括 4990', 4990]);
  assert.deepEqual(row.phones.split(',').sort(), ['0354990000', '07054990000']);
  assert.equal(
    await w.count(
      "SELECT * FROM customer_phones p JOIN customers c ON c.id = p.customer_id WHERE c.name LIKE '一括 %'",
    ),
    5500,
  );
  // 5,001 rows is over the limit: refused whole, with a clear message.
  const tooMany = await api(admin, '/api/customers/import', {
    method: 'POST',
    body: lines.join('\n') + '\n余分,,09000000000,,,,\n',
  });
  assert.equal(tooMany.status, 400);
  assert.match(tooMany.body.error.rows[0].message, /5000行まで/);
  // Re-importing the same file updates every row by its number, nothing new.
  const again = await api(admin, '/api/customers/import', {
    method: 'POST',
    body: lines.join('\n') + '\n',
  });
  assert.deepEqual([again.body.created, again.body.updated], [0, 5000]);
  await w.db.prepare("DELETE FROM customers WHERE name LIKE '一括 %'").run();
});

test('routes: 404 and 405 come from one table; stored-data conflicts are 409, never 503', async () => {
  for (const [method, path] of [
    ['GET', '/api/calls/search'],
    ['GET', '/api/customers/lookup'],
    ['DELETE', '/api/calls/recent'],
    ['PUT', '/api/customers/1'],
    ['POST', '/api/customers/export'],
    ['GET', '/api/dialpad/webhook'],
  ]) {
    const r = await api(admin, path, { method });
    assert.equal(r.status, 405, `${method} ${path}`);
    assert.equal(r.body.error.code, 'method_not_allowed');
  }
  assert.equal((await api(admin, '/api/customers/12abc')).status, 404);
  assert.equal((await api(admin, '/api/nothing-here')).status, 404);
  // Two admins creating the same store at once: the database's unique rule answers 409.
  const racers = await Promise.all(
    [1, 2, 3].map(() =>
      api(admin, '/api/stores', { method: 'POST', body: { name: '同時作成', prefixes: [] } }),
    ),
  );
  assert.deepEqual(racers.map((r) => r.status).sort(), [201, 409, 409]);
  assert.ok(racers.every((r) => r.status !== 503));
  // An unknown home store is the client's mistake, not ours.
  const bad = await api(admin, '/api/customers', {
    method: 'POST',
    body: { name: '店なし', phone: '09077770000', homeStoreId: 999999 },
  });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.field, 'homeStoreId');
});

test('search finds what people type: hiragana, half-width kana, no space, full-width digits; long queries are fine', async () => {
  for (const q of [
    'やまだ',
    'ヤマダ',
    'ﾔﾏﾀﾞ',
    '山田太郎',
    '山田　太郎',
    'やまだ たろう',
    '０９０－１２３４',
    '5678',
  ]) {
    const r = await api(admin, '/api/customers/search', { method: 'POST', body: { q: q } });
    assert.equal(r.status, 200, q);
    assert.ok(
      r.body.customers.some((c) => c.name === '山田 太郎'),
      `${q} finds 山田 太郎`,
    );
  }
  // Longer than D1's 50-byte LIKE pattern (about 16 kanji): an answer, not a 5xx.
  const long = await api(admin, '/api/customers/search', {
    method: 'POST',
    body: { q: '山'.repeat(40) },
  });
  assert.equal(long.status, 200);
  assert.equal(long.body.total, 0);
  // フリガナ typed in hiragana (or half-width) is stored in katakana, and found either way.
  const c = await api(admin, '/api/customers', {
    method: 'POST',
    body: { name: '高橋 一', kana: 'たかはし はじめ', phone: '090-7000-1111' },
  });
  assert.equal(c.status, 201, JSON.stringify(c.body));
  assert.equal(c.body.customer.kana, 'タカハシ ハジメ');
  const found = await api(admin, '/api/customers/search', { method: 'POST', body: { q: 'ﾀｶﾊｼ' } });
  assert.ok(found.body.customers.some((x) => x.id === c.body.customer.id));
  const edit = await api(admin, `/api/customers/${c.body.customer.id}`, {
    method: 'PATCH',
    body: { version: c.body.customer.version, kana: 'ﾀｶﾊｼ ﾊｼﾞﾒ', name: '髙橋 一' },
  });
  assert.equal(edit.body.customer.kana, 'タカハシ ハジメ');
  assert.ok(
    (
      await api(admin, '/api/customers/search', { method: 'POST', body: { q: '髙橋一' } })
    ).body.customers.some((x) => x.id === c.body.customer.id),
    'the key follows an edit',
  );
  // A customer written straight into D1 (no keys yet) is found too: keys are filled in.
  await w.db
    .prepare("INSERT INTO customers (name, kana) VALUES ('直接 登録', 'チョクセツ トウロク')")
    .run();
  assert.ok(
    (
      await api(admin, '/api/customers/search', { method: 'POST', body: { q: 'ちょくせつ' } })
    ).body.customers.some((x) => x.name === '直接 登録'),
  );
});

test('phone numbers are Japanese numbers (10–11 digits) or E.164 on every write path', async () => {
  const create = await api(admin, '/api/customers', {
    method: 'POST',
    body: { name: '短い 番号', phone: '12345' },
  });
  assert.equal(create.status, 400);
  assert.equal(create.body.error.field, 'phone');
  assert.match(create.body.error.message, /10〜11桁/);
  const v = (await api(admin, `/api/customers/${ids.yamada}`)).body.customer.version;
  const edit = await api(admin, `/api/customers/${ids.yamada}`, {
    method: 'PATCH',
    body: { version: v, phones: ['09012345678', '12345'] },
  });
  assert.equal(edit.status, 400);
  assert.equal(edit.body.error.field, 'phones');
  const csv = await api(admin, '/api/customers/import', {
    method: 'POST',
    body: '氏名,電話番号\n短い 番号,12345\n',
  });
  assert.equal(csv.status, 400);
  assert.deepEqual(
    csv.body.error.rows.map((e) => `${e.line}:${e.field}`),
    ['2:phones'],
  );
  assert.equal(
    (
      await api(admin, '/api/customers', {
        method: 'POST',
        body: { name: '海外 顧客', phone: '+1 415 555 0100' },
      })
    ).status,
    201,
  );
});
