// @ts-check
// Browser: 操作履歴. An admin opens it from the header's nav (admins only: staff have no such
// link and the API refuses them), sees who opened which customer, filters by action and by
// customer name (the name never goes into the address), and writes the list out as CSV.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { startWithBrowser, docShot, WAIT } from './helpers/browser.mjs';
import { callEvent } from './helpers/worker.mjs';

let session;
let w;
let base;
let browser;
let context;
let pageErrors;
before(async () => {
  session = await startWithBrowser({ login: { role: 'admin', name: '監査 花子' } });
  ({ w, base, browser, context, pageErrors } = session);
});
after(() => session?.close());

test('an admin opens 操作履歴 from the nav, filters by action and customer, and exports the list', async () => {
  // A staff member opens 山田 太郎's popup and customer page: both are on record.
  const staff = await w.login({ role: 'staff', store: '西船橋', name: '受付 一郎' });
  /** @param {string} path @param {{ method?: string, body?: any }} [init] */
  const asStaff = (path, { method = 'GET', body } = {}) =>
    w.json(path, {
      method,
      headers: {
        authorization: `Bearer ${staff.token}`,
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
    });
  const ev = callEvent();
  await w.sendEvent(ev);
  const lookup = await asStaff('/api/customers/lookup', {
    method: 'POST',
    body: { callId: String(ev.call_id) },
  });
  assert.equal(lookup.status, 200);
  const id = lookup.body.customer.id;
  assert.equal((await asStaff(`/api/customers/${id}`)).status, 200);
  // Staff may not read it.
  assert.equal((await asStaff('/api/audit/search', { method: 'POST', body: {} })).status, 403);
  // Both rows are written after their answers: wait until they are there (as the admin).
  const recorded = async () => {
    const r = await w.json('/api/audit/search', {
      method: 'POST',
      headers: {
        authorization: `Bearer ${session.account.token}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ userId: staff.user.id }),
    });
    const actions = new Set(r.body.entries.map((e) => e.action));
    return actions.has('popup_open') && actions.has('customer_view');
  };
  for (let i = 0; i < 400 && !(await recorded()); i++) await new Promise((r) => setTimeout(r, 25));
  assert.ok(await recorded(), 'the popup and the customer page are on record');

  const page = await context.newPage();
  await page.goto(`${base}/admin/`);
  await page.getByRole('link', { name: '操作履歴' }).click();
  await page.getByRole('heading', { name: '操作履歴', exact: true }).waitFor();
  const rows = page.locator('#audit-body tr.audit-row');
  await rows.first().waitFor();

  // Rows are written after the answer: the page shows them once there (a search again).
  await page.getByLabel('操作').selectOption({ label: 'ポップアップ表示' });
  // The table answers the filter (not the list shown before it).
  const filtered = () =>
    page.waitForFunction(() => {
      const body = /** @type {HTMLElement} */ (document.querySelector('#audit-body'));
      return (
        body?.getAttribute('aria-busy') === 'false' &&
        (body.dataset.loaded ?? '').includes('"action":"popup_open"')
      );
    });
  await filtered();
  const popupRow = rows.filter({ hasText: '受付 一郎' }).filter({ hasText: '山田 太郎' });
  await popupRow.first().waitFor();
  assert.match(await popupRow.first().textContent(), /ポップアップ表示/);
  assert.match(await popupRow.first().textContent(), new RegExp(String(ev.call_id)));
  assert.equal(
    await rows.filter({ hasNotText: 'ポップアップ表示' }).count(),
    0,
    'only the chosen action',
  );
  assert.match(page.url(), /action=popup_open/);

  // By customer name: the rows of 山田 太郎 only; the name stays out of the address.
  await page.getByLabel('操作').selectOption({ label: 'すべての操作' });
  await page.getByLabel('顧客（ID または名前）').fill('やまだ');
  await page.getByRole('button', { name: '検索' }).click();
  await page.waitForFunction(() => {
    const body = /** @type {HTMLElement} */ (document.querySelector('#audit-body'));
    return (body?.dataset.loaded ?? '').includes('やまだ');
  });
  await rows.first().waitFor();
  const texts = await rows.allTextContents();
  assert.ok(texts.length > 0 && texts.every((t) => t.includes('山田 太郎')), texts.join('\n'));
  assert.ok(
    texts.some((t) => t.includes('顧客ページ表示')),
    'the customer page is on record',
  );
  assert.doesNotMatch(decodeURIComponent(page.url()), /やまだ|山田/);
  await docShot(page, 'docs/audit.png');

  // CSV of what is on screen.
  const download = page.waitForEvent('download');
  await page.getByRole('button', { name: 'CSV を書き出す' }).click();
  const file = await download;
  assert.equal(file.suggestedFilename(), 'audit-log.csv');
  const csv = await readFile(await file.path(), 'utf8');
  assert.ok(csv.startsWith('\ufeff日時,ユーザーID'));
  const lines = csv.trim().split(/\r?\n/).slice(1);
  assert.equal(lines.length, texts.length);
  assert.ok(lines.every((l) => l.includes('山田 太郎')));
  assert.deepEqual(pageErrors.splice(0), [], 'no page errors or CSP violations');
});

test('staff have no 操作履歴 link, and the page tells them it is for admins', async () => {
  const staff = await w.login({ role: 'staff', store: '西船橋', name: '受付 二郎' });
  const other = await browser.newContext({ viewport: null, locale: 'ja-JP' });
  other.setDefaultTimeout(WAIT);
  try {
    const res = await other.request.post(`${base}/api/auth/login`, {
      data: { loginId: staff.login, password: staff.password },
    });
    assert.equal(res.status(), 200);
    const page = await other.newPage();
    await page.goto(`${base}/admin/calls.html`);
    await page.getByRole('heading', { name: '着信履歴', exact: true }).waitFor();
    assert.equal(await page.getByRole('link', { name: '操作履歴' }).count(), 0);
    await page.goto(`${base}/admin/audit.html`);
    await page.getByText('操作履歴は管理者だけが見られます。').waitFor();
    assert.equal(await page.locator('#page-view').isHidden(), true);
  } finally {
    await other.close();
  }
});

test('アカウント shows who last changed each account and when (最終変更)', async () => {
  const admin = session.account;
  const target = await w.login({ role: 'staff', store: '西船橋', name: '受付 三郎' });
  const r = await w.json(`/api/users/${target.user.id}`, {
    method: 'PATCH',
    headers: { authorization: `Bearer ${admin.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: '受付 三郎（改）' }),
  });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const page = await context.newPage();
  await page.goto(`${base}/admin/accounts.html`);
  await page.getByRole('heading', { name: 'アカウント', exact: true }).waitFor();
  const row = page.locator(`tr.account-row[data-login="${target.login}"]`);
  await row.waitFor();
  assert.equal(await page.getByRole('columnheader', { name: '最終変更' }).count(), 1);
  const cell = row.locator('.account-updated');
  assert.equal(await cell.locator('.account-updated-by').textContent(), admin.login);
  assert.match(await cell.textContent(), /\d{4}\/\d\d\/\d\d \d\d:\d\d/);
  await page.close();
});
