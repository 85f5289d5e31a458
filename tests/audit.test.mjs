// @ts-check
// 操作履歴 (issue 23's audit log): every access to personal data through the console is one row
// of `audit_log` — a popup's lookup and a customer page (who, which customer, from which call),
// an edit, merge, delete, note, wrap-up, export and import (with their row counts), account and
// settings changes, logins and failed logins (pseudonyms of the id and the network, never the
// values) — written after the answer; admins list, filter and export it; the daily cron prunes
// it after AUDIT_RETENTION_DAYS (default 3 years).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorker, callEvent } from './helpers/worker.mjs';

let w;
let admin;
let staff;
let logs = '';
before(async () => {
  w = await startWorker({ onLog: (t) => (logs += t) });
  admin = await w.login({ role: 'admin', login: 'audit-admin', name: '監査 管理者' });
  staff = await w.login({
    role: 'staff',
    store: '西船橋',
    login: 'audit-staff',
    name: '西船橋 スタッフ',
  });
});
after(() => w?.close());

/**
 * @param {{ token: string }} who
 * @param {string} path
 * @param {{ method?: string, body?: unknown, headers?: Record<string, string> }} [opts]
 */
async function api(who, path, { method = 'GET', body, headers = {} } = {}) {
  return w.json(path, {
    method,
    headers: {
      authorization: `Bearer ${who.token}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** The audit rows matching `filters`, as an admin sees them (newest first). */
async function entries(filters = {}) {
  const r = await api(admin, '/api/audit/search', {
    method: 'POST',
    body: { perPage: 100, ...filters },
  });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body;
}

/**
 * Waits until `pred` holds for the rows matching `filters`: rows are written after the answer
 * (ctx.waitUntil), so a test waits on the condition, never a fixed time.
 */
async function waitFor(filters, pred, what) {
  const deadline = Date.now() + 10_000;
  let last;
  while (Date.now() < deadline) {
    last = await entries(filters);
    const found = pred(last.entries);
    if (found) return found;
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.fail(`${what}: not in the audit log: ${JSON.stringify(last?.entries?.slice(0, 5))}`);
}

async function yamada() {
  const row = await w.db
    .prepare("SELECT customer_id AS id FROM customer_phones WHERE phone = '09012345678'")
    .first();
  return row.id;
}

test("the popup's lookup records who opened which customer from which call", async () => {
  const ev = callEvent();
  assert.equal((await w.sendEvent(ev)).status, 200);
  const callId = String(ev.call_id);
  const r = await api(staff, '/api/customers/lookup', { method: 'POST', body: { callId } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const id = r.body.customer.id;
  const row = await waitFor(
    { action: 'popup_open', userId: staff.user.id },
    (rows) => rows.find((e) => e.callId === callId),
    'popup_open',
  );
  assert.equal(row.customerId, id);
  assert.equal(row.customerName, '山田 太郎');
  assert.equal(row.loginId, 'audit-staff');
  assert.equal(row.userName, '西船橋 スタッフ');
  assert.equal(row.actionLabel, 'ポップアップ表示');
  assert.equal(row.storeName, '西船橋');
  assert.ok(Date.now() - Date.parse(row.at) < 60_000);
});

test('a customer page, an edit, a note, a wrap-up: each is on record with its customer', async () => {
  const id = await yamada();
  const ev = callEvent();
  await w.sendEvent(ev);
  const callId = String(ev.call_id);
  const page = await api(staff, `/api/customers/${id}?callId=${callId}`);
  assert.equal(page.status, 200);
  const edit = await api(staff, `/api/customers/${id}`, {
    method: 'PATCH',
    body: { version: page.body.customer.version, memo: 'audit test memo' },
  });
  assert.equal(edit.status, 200, JSON.stringify(edit.body));
  assert.equal(
    (
      await api(staff, `/api/customers/${id}/notes`, {
        method: 'POST',
        body: { type: '一般', body: 'メモ' },
      })
    ).status,
    201,
  );
  const wrap = await api(staff, '/api/calls/wrapup', {
    method: 'PUT',
    body: { callId, category: '予約', outcome: '対応済み', note: '', version: 0 },
  });
  assert.equal(wrap.status, 200, JSON.stringify(wrap.body));

  const rows = await waitFor(
    { customer: String(id), userId: staff.user.id },
    (rows) =>
      ['customer_view', 'customer_update', 'note_add', 'wrapup_save'].every((a) =>
        rows.some((e) => e.action === a),
      ) && rows,
    'customer page, edit, note, wrap-up',
  );
  const view = rows.find((e) => e.action === 'customer_view');
  assert.equal(view.callId, callId);
  const upd = rows.find((e) => e.action === 'customer_update');
  assert.deepEqual(upd.detail.changes, ['メモ']);
  assert.match(upd.detailText, /メモ/);
  // The wrap-up names its call, and the call's customer (written with the row).
  const wr = rows.find((e) => e.action === 'wrapup_save');
  assert.equal(wr.callId, callId);
  assert.equal(wr.customerId, id);
  // Filtering by the customer's name (any width/kana form) finds the same rows.
  const byName = await entries({ customer: 'やまだ', action: 'customer_update' });
  assert.ok(byName.entries.some((e) => e.customerId === id));
});

test('exports and imports record their row counts; a merge and a delete name the customer', async () => {
  const exp = await w.fetch('/api/customers/export', {
    headers: { authorization: `Bearer ${admin.token}` },
  });
  assert.equal(exp.status, 200);
  const csv = await exp.text();
  const rows = csv.trim().split(/\r?\n/).length - 1;
  assert.ok(rows > 0);
  const ex = await waitFor(
    { action: 'customer_export', userId: admin.user.id },
    (r) => r[0],
    'customer_export',
  );
  assert.equal(ex.count, rows);
  assert.equal(ex.actionLabel, '顧客エクスポート');

  const imp = await w.json('/api/customers/import', {
    method: 'POST',
    headers: { authorization: `Bearer ${admin.token}`, 'content-type': 'text/csv' },
    body: '氏名,電話番号\n監査 一郎,09055550001\n監査 二郎,09055550002\n',
  });
  assert.equal(imp.status, 200, JSON.stringify(imp.body));
  const im = await waitFor({ action: 'customer_import' }, (r) => r[0], 'customer_import');
  assert.equal(im.count, 2);
  assert.equal(im.detail.created, 2);

  // CSV import records who created the customers, as the API's create does.
  const created = await w.db
    .prepare(
      "SELECT c.id, c.created_by FROM customers c JOIN customer_phones p ON p.customer_id = c.id WHERE p.phone IN ('09055550001', '09055550002') ORDER BY c.id",
    )
    .all();
  assert.equal(created.results.length, 2);
  for (const c of created.results) assert.equal(c.created_by, admin.user.id);

  const [a, b] = created.results.map((c) => c.id);
  assert.equal(
    (await api(admin, `/api/customers/${a}/merge`, { method: 'POST', body: { from: b } })).status,
    200,
  );
  assert.equal((await api(admin, `/api/customers/${a}`, { method: 'DELETE' })).status, 200);
  const merged = await waitFor(
    { customer: String(a) },
    (r) => r.some((e) => e.action === 'customer_delete') && r,
    'merge and delete',
  );
  assert.equal(merged.find((e) => e.action === 'customer_merge').detail.from, b);
  // The deleted customer's rows stay (that is the point of a history), by id.
  assert.ok(merged.some((e) => e.action === 'customer_merge'));
});

test('logins and failed logins: the user, and pseudonyms of the id and network, never the values', async () => {
  const ip = '203.0.113.77';
  const attempt = (loginId, password) =>
    w.json('/api/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'cf-connecting-ip': ip },
      body: JSON.stringify({ loginId, password }),
    });
  const ghost = 'no-such-user-secret-ish';
  assert.equal((await attempt(ghost, 'wrong-password-123')).status, 401);
  const failed = await waitFor({ action: 'login_failed' }, (r) => r[0], 'login_failed');
  assert.equal(failed.userId, null);
  assert.equal(failed.loginId, null);
  assert.match(failed.detail.loginHash, /^[0-9a-f]{16}$/);
  assert.match(failed.detail.networkHash, /^[0-9a-f]{16}$/);
  assert.equal(failed.detail.reason, 'invalid_credentials');
  const stored = await w.db.prepare("SELECT * FROM audit_log WHERE action = 'login_failed'").all();
  const text = JSON.stringify(stored.results);
  assert.ok(!text.includes(ghost), 'the typed login id is not stored');
  assert.ok(!text.includes('203.0.113'), 'the client address is not stored');

  const who = await w.login({ role: 'staff', store: '西船橋', login: 'audit-login-check' });
  const ok = await waitFor({ action: 'login', userId: who.user.id }, (r) => r[0], 'login');
  assert.equal(ok.loginId, 'audit-login-check');
  assert.match(ok.detail.networkHash, /^[0-9a-f]{16}$/);
});

test('account and settings changes are recorded with what changed', async () => {
  const created = await api(admin, '/api/users', {
    method: 'POST',
    body: { loginId: 'audit-new', name: '新人', role: 'staff', storeId: staff.user.storeId },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const uid = created.body.user.id;
  assert.equal(
    (await api(admin, `/api/users/${uid}`, { method: 'PATCH', body: { disabled: true } })).status,
    200,
  );
  assert.equal(
    (await api(admin, `/api/users/${uid}/password`, { method: 'POST', body: {} })).status,
    200,
  );
  const rows = await waitFor(
    { userId: admin.user.id },
    (r) =>
      ['account_create', 'account_update', 'account_password'].every((a) =>
        r.some((e) => e.action === a && e.detail.id === uid),
      ) && r,
    'account changes',
  );
  assert.equal(rows.find((e) => e.action === 'account_create').detail.target, 'audit-new');
  assert.deepEqual(rows.find((e) => e.action === 'account_update').detail.changes, ['無効にする']);

  const store = await api(admin, '/api/stores', {
    method: 'POST',
    body: { name: '監査店', prefixes: ['0509999'] },
  });
  assert.equal(store.status, 201, JSON.stringify(store.body));
  const s = await waitFor(
    { action: 'settings_change' },
    (r) => r.find((e) => e.detail.area === 'store' && e.detail.id === store.body.store.id),
    'store create',
  );
  assert.equal(s.detail.op, 'create');
  assert.match(s.detailText, /店舗/);
});

test('staff get 403; bad filters are 400; the filters narrow by user, action and day', async () => {
  const r = await api(staff, '/api/audit/search', { method: 'POST', body: {} });
  assert.equal(r.status, 403);
  assert.equal(r.body.error.code, 'admin_only');
  const csv = await api(staff, '/api/audit/export', { method: 'POST', body: {} });
  assert.equal(csv.status, 403);
  assert.equal(
    (await api(admin, '/api/audit/search', { method: 'POST', body: { action: 'nope' } })).body.error
      .code,
    'invalid_action',
  );
  assert.equal(
    (await api(admin, '/api/audit/search', { method: 'POST', body: { from: '2026-13-01' } }))
      .status,
    400,
  );
  assert.equal(
    (await api(admin, '/api/audit/search', { method: 'POST', body: { customer: { id: 1 } } }))
      .status,
    400,
  );
  // The search is a POST (a customer's name is personal data: never in an address).
  assert.equal((await api(admin, '/api/audit/search')).status, 405);

  const all = await entries();
  assert.ok(all.total >= all.entries.length);
  // Newest first.
  const times = all.entries.map((e) => Date.parse(e.at));
  assert.deepEqual(
    [...times].sort((a, b) => b - a),
    times,
  );
  assert.ok(all.actions.some((a) => a.code === 'popup_open' && a.label === 'ポップアップ表示'));
  const mine = await entries({ userId: staff.user.id });
  assert.ok(mine.entries.length > 0 && mine.entries.every((e) => e.userId === staff.user.id));
  const pops = await entries({ action: 'popup_open' });
  assert.ok(pops.entries.length > 0 && pops.entries.every((e) => e.action === 'popup_open'));
  const today = new Date(Date.now() + 9 * 3600_000).toISOString().slice(0, 10);
  assert.ok((await entries({ from: today, to: today })).total > 0);
  assert.equal((await entries({ from: '2020-01-01', to: '2020-01-31' })).total, 0);
  const paged = await entries({ perPage: 2, page: 2 });
  assert.equal(paged.entries.length, 2);
  assert.equal(paged.entries[0].id, all.entries[2].id);
});

test('CSV: BOM, Japanese header, the filtered rows as Excel text, and the export itself recorded', async () => {
  const res = await w.fetch('/api/audit/export', {
    method: 'POST',
    headers: { authorization: `Bearer ${admin.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ action: 'popup_open' }),
  });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /text\/csv/);
  assert.match(res.headers.get('content-disposition'), /audit-log\.csv/);
  const buf = Buffer.from(await res.arrayBuffer());
  assert.deepEqual([...buf.subarray(0, 3)], [0xef, 0xbb, 0xbf]);
  const lines = buf.toString('utf8').slice(1).trim().split(/\r?\n/);
  assert.equal(lines[0], '日時,ユーザーID,ログインID,名前,操作,顧客ID,顧客,着信ID,店舗,件数,詳細');
  const body = lines.slice(1);
  const expected = await entries({ action: 'popup_open' });
  assert.equal(body.length, expected.total);
  assert.ok(body.every((l) => l.includes('ポップアップ表示')));
  // Times in Japan time as Excel text; call ids as text so Excel keeps every digit.
  // (a cell holding quotes is quoted, its quotes doubled: Excel reads `="…"` back).
  assert.match(body[0], /^"=""\d{4}-\d\d-\d\d \d\d:\d\d:\d\d""",/);
  assert.match(body[0], /"=""\d{10,}"""/);
  const rec = await waitFor({ action: 'audit_export' }, (r) => r[0], 'audit_export');
  assert.equal(rec.count, body.length);
  assert.match(rec.detail.filters, /action=popup_open/);
});

test('the daily cron prunes rows older than the retention (3 years by default), keeps the rest', async () => {
  const day = 24 * 3600 * 1000;
  const old = Date.now() - 3 * 365 * day - 2 * day;
  const recent = Date.now() - 3 * 365 * day + 2 * day;
  await w.db
    .prepare(
      "INSERT INTO audit_log (at, user_id, login_id, action) VALUES (?1, NULL, 'old-one', 'login'), (?2, NULL, 'recent-one', 'login')",
    )
    .bind(old, recent)
    .run();
  assert.equal(
    await w.count("SELECT 1 FROM audit_log WHERE login_id IN ('old-one', 'recent-one')"),
    2,
  );
  const r = await (await w.mf.getWorker()).scheduled({
    cron: '30 18 * * *',
    scheduledTime: new Date(),
  });
  assert.equal(r.outcome, 'ok');
  assert.equal(await w.count("SELECT 1 FROM audit_log WHERE login_id = 'old-one'"), 0);
  assert.equal(await w.count("SELECT 1 FROM audit_log WHERE login_id = 'recent-one'"), 1);
});

test('a failure to write the audit log never fails the request (it is logged)', async () => {
  const id = await yamada();
  await w.rawDb.prepare('ALTER TABLE audit_log RENAME TO audit_log_away').run();
  try {
    const from = logs.length;
    const page = await api(staff, `/api/customers/${id}`);
    assert.equal(page.status, 200, 'the customer page answers');
    const deadline = Date.now() + 10_000;
    while (!logs.slice(from).includes('audit_write_failed') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 25));
    assert.match(logs.slice(from), /"event":"audit_write_failed"/);
  } finally {
    await w.rawDb.prepare('ALTER TABLE audit_log_away RENAME TO audit_log').run();
  }
});
