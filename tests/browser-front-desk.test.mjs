// @ts-check
// Browser: the front desk in Chromium against the built Worker — next-step links and the
// admin's action buttons (設定), the call's wrap-up, 折り返し with its live count on another
// console, click-to-call, and who answered / which line / pinned notes. Screenshots for the
// README's "A day at the front desk" are written to docs/.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { WAIT, startWithBrowser, apiAs, tracePage, docShot } from './helpers/browser.mjs';
import { callEvent } from './helpers/worker.mjs';

let w;
let base;
let browser;
let context;
let pageErrors;
let admin;
let consolePage;

const YAMADA = '+819012345678'; // the seed's 山田 太郎 (西船橋)

let session;
before(async () => {
  session = await startWithBrowser({ login: { role: 'admin', name: '管理 花子' } });
  ({ w, base, account: admin, browser, context, pageErrors } = session);
});

after(() => session?.close());

afterEach(() => {
  assert.deepEqual(pageErrors.splice(0), []);
});

const api = (path, options) => apiAs(w, admin)(path, options);

async function openConsole() {
  if (consolePage) return consolePage;
  const page = await context.newPage();
  await page.goto(`${base}/admin/`);
  await page.locator('#console-view').waitFor();
  await page.locator('#conn-status', { hasText: /^接続中$/ }).waitFor();
  consolePage = page;
  return page;
}

/** Sends a signed webhook while the admin's console is open; resolves with the popup. */
async function callAndPopup(ev) {
  await openConsole();
  const popupP = context.waitForEvent('page');
  const res = await w.sendEvent(ev);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const popup = await popupP;
  await popup.waitForLoadState('domcontentloaded');
  return popup;
}

/** A second person: their own browser context, logged in. */
async function otherPerson(user) {
  const ctx = await browser.newContext({
    viewport: { width: 1280, height: 800 },
    locale: 'ja-JP',
    timezoneId: 'Asia/Tokyo',
  });
  ctx.setDefaultTimeout(WAIT);
  ctx.on('page', (p) => p.on('pageerror', (e) => pageErrors.push(`${p.url()}: ${e.message}`)));
  const res = await ctx.request.post(`${base}/api/auth/login`, {
    data: { loginId: user.login, password: user.password },
  });
  assert.equal(res.status(), 200);
  return ctx;
}

const shot = (page, name) => docShot(page, `docs/${name}.png`);

test('a. 設定: an admin adds 新規受注; the popup offers 詳細を見る, 全履歴 and 新規受注 for a known and an unknown caller', async () => {
  const page = await context.newPage();
  await page.goto(`${base}/admin/`);
  await page.getByRole('link', { name: '設定' }).click();
  await page.getByRole('heading', { name: 'ポップアップのボタン' }).waitFor();
  await page.getByRole('button', { name: 'ボタンを追加' }).click();
  await page.getByLabel('ボタン名').fill('新規受注');
  // A script URL is refused by the server with a clear message.
  await page.getByLabel('URL', { exact: true }).fill('javascript:alert(1)');
  await page.getByRole('button', { name: '設定を保存' }).click();
  await page.locator('#settings-error', { hasText: 'https:// で始めてください' }).waitFor();
  await page
    .getByLabel('URL', { exact: true })
    .fill('https://shop.example/orders/new?tel={phone}&c={customerId}&n={customerName}&s={store}');
  await page.getByLabel('用件の一覧（1行に1つ）').fill('予約\n問い合わせ\n苦情');
  await page.getByRole('button', { name: '設定を保存' }).click();
  await page.locator('#settings-status', { hasText: '保存しました' }).waitFor();
  await shot(page, 'front-desk-settings');
  await page.close();

  // A known caller.
  const popup = await callAndPopup(callEvent({ external_number: YAMADA }));
  await popup.locator('#customer-name', { hasText: '山田 太郎' }).waitFor();
  const order = popup.getByRole('link', { name: '新規受注' });
  await order.waitFor();
  const href = new URL(await order.getAttribute('href'));
  assert.equal(href.origin, 'https://shop.example');
  assert.equal(href.searchParams.get('tel'), '09012345678');
  assert.equal(href.searchParams.get('n'), '山田 太郎');
  assert.equal(href.searchParams.get('s'), '西船橋');
  const customerId = href.searchParams.get('c');
  assert.match(customerId, /^\d+$/);

  // 詳細を見る opens the customer's page with the record open.
  const detailP = context.waitForEvent('page');
  await popup.getByRole('link', { name: '詳細を見る' }).click();
  const detail = await detailP;
  await detail.locator('#editor-title', { hasText: '山田 太郎' }).waitFor();
  await detail.close();

  // 全履歴 opens the call log narrowed to this customer.
  const allP = context.waitForEvent('page');
  await popup.getByRole('link', { name: '全履歴' }).click();
  const all = await allP;
  await all.locator('#filter-customer', { hasText: '山田 太郎' }).waitFor();
  await all.locator('#calls-body tr').first().waitFor();
  for (const cell of await all.locator('#calls-body tr td:nth-child(3)').allTextContents())
    assert.match(cell, /山田 太郎/);
  await all.close();
  await shot(popup, 'front-desk-popup');
  await popup.close();

  // An unknown caller: the same button, with the number alone.
  const unknown = await callAndPopup(callEvent({ external_number: '+81312340001', contact: null }));
  await unknown.locator('#unknown-banner').waitFor();
  const href2 = new URL(await unknown.getByRole('link', { name: '新規受注' }).getAttribute('href'));
  assert.equal(href2.searchParams.get('tel'), '0312340001');
  assert.equal(href2.searchParams.get('c'), '');
  assert.equal(await unknown.getByRole('link', { name: '詳細を見る' }).count(), 0);
  // 全履歴 of an unknown number: the call log searched by it, with no number in any address.
  const href3 = await unknown.getByRole('link', { name: '全履歴' }).getAttribute('href');
  assert.doesNotMatch(href3, /0312340001|312340001/);
  const logP = context.waitForEvent('page');
  await unknown.getByRole('link', { name: '全履歴' }).click();
  const log = await logP;
  await log.waitForLoadState('domcontentloaded');
  assert.doesNotMatch(log.url(), /312340001/);
  await log.locator('#calls-body tr', { hasText: '03-1234-0001' }).first().waitFor();
  assert.equal(
    await log.getByRole('searchbox').or(log.locator('#filter-q')).first().inputValue(),
    '0312340001',
  );
  await log.close();
  await unknown.close();
});

test('b. wrap-up: typed during the call, kept over a reload, saved after hang-up; the call log shows and filters it', async () => {
  const ev = callEvent({ external_number: YAMADA });
  const popup = await callAndPopup(ev);
  await popup.locator('#customer-name', { hasText: '山田 太郎' }).waitFor();
  await popup.getByLabel('用件').selectOption('予約');
  await popup.getByLabel('対応メモ').fill('来週火曜の予約を希望');
  await popup.reload();
  await popup.locator('#customer-name', { hasText: '山田 太郎' }).waitFor();
  await popup.locator('#wrapup-status', { hasText: '未保存の入力があります' }).waitFor();
  assert.equal(await popup.getByLabel('用件').inputValue(), '予約');
  assert.equal(await popup.getByLabel('対応メモ').inputValue(), '来週火曜の予約を希望');

  const t0 = ev.date_started;
  await w.sendEvent({
    ...ev,
    state: 'connected',
    date_connected: t0 + 1000,
    event_timestamp: t0 + 1000,
    target: { id: 1, name: '佐藤 花子', type: 'user' },
  });
  await w.sendEvent({
    ...ev,
    state: 'hangup',
    date_connected: t0 + 1000,
    date_ended: t0 + 61000,
    duration: 60000,
    event_timestamp: t0 + 61000,
  });
  await popup.locator('#call-state', { hasText: '終了' }).waitFor();
  await popup.getByLabel('対応結果').selectOption('対応済み');
  await popup.getByRole('button', { name: '対応記録を保存' }).click();
  await popup.locator('#wrapup-status', { hasText: '保存しました' }).waitFor();
  await shot(popup, 'front-desk-wrapup');
  // Saved: a reload shows the stored wrap-up, not a draft.
  await popup.reload();
  await popup.locator('#wrapup-status', { hasText: '保存済み' }).waitFor();
  assert.equal(await popup.getByLabel('対応結果').inputValue(), '対応済み');
  await popup.close();

  // The call log: another person sees the wrap-up and filters by it.
  const page = await context.newPage();
  await page.goto(`${base}/admin/calls.html`);
  const row = page.locator(`#calls-body tr[data-call-id="${ev.call_id}"]`);
  await row.waitFor();
  assert.match(await row.textContent(), /予約 · 対応済み/);
  assert.match(await row.textContent(), /来週火曜の予約を希望/);
  await page.getByLabel('用件').selectOption('問い合わせ');
  await page.locator('#calls-empty').waitFor({ state: 'visible' });
  await page.getByLabel('用件').selectOption('予約');
  await page.getByLabel('対応結果').selectOption('対応済み');
  await row.waitFor();
  assert.equal(await page.locator('#calls-body tr').count(), 1);
  await page.close();

  // A category that is not on the list is refused with a clear 400.
  const bad = await api('/api/calls/wrapup', {
    method: 'PUT',
    body: { callId: String(ev.call_id), category: '存在しない' },
  });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.code, 'invalid_category');
});

test('c. 折り返し: a missed call lands on the list, the count moves live on another console, and a later answered call resolves it', async () => {
  const staffA = await w.login({ role: 'staff', store: '西船橋', name: '受付 A' });
  const staffB = await w.login({ role: 'staff', store: '西船橋', name: '受付 B' });
  const ctxA = await otherPerson(staffA);
  const ctxB = await otherPerson(staffB);
  const consoleA = await ctxA.newPage();
  await consoleA.goto(`${base}/admin/`);
  await consoleA.locator('#conn-status', { hasText: /^接続中$/ }).waitFor();
  const countA = consoleA.locator('.topnav a[href="/admin/callbacks.html"]');
  // The count arrives after the page (its own request): wait for it, do not race it.
  await consoleA.locator('.topnav a[href="/admin/callbacks.html"][data-open]').waitFor();
  assert.equal(await countA.getAttribute('data-open'), '0');

  // Two missed calls from two numbers to 西船橋.
  const missed1 = callEvent({ external_number: '+818011110001', contact: null });
  const missed2 = callEvent({
    external_number: '+818011110002',
    contact: null,
    state: 'voicemail',
  });
  await w.sendEvent(missed1);
  await w.sendEvent({ ...missed1, state: 'missed', event_timestamp: missed1.date_started + 20000 });
  await w.sendEvent(missed2);
  await consoleA.locator('#callback-count', { hasText: /^2$/ }).waitFor();

  // B opens 折り返し and takes the first one.
  const listB = await ctxB.newPage();
  // Seen to time out twice in many full runs, never alone: on a timeout, say what B's page showed.
  const traced = tracePage(listB);
  await listB.goto(`${base}/admin/`);
  // The nav's count arrives after the page and widens its link: click once it is there (a
  // click during that layout shift could land beside the link).
  await listB.locator('.topnav a[href="/admin/callbacks.html"][data-open]').waitFor();
  await listB.getByRole('link', { name: /折り返し/ }).click();
  const row1 = listB.locator(`#cb-body tr[data-call-id="${missed1.call_id}"]`);
  await traced(() => row1.waitFor());
  assert.match(await row1.textContent(), /080-1111-0001/);
  assert.match(await row1.textContent(), /未対応/);
  await shot(listB, 'front-desk-callbacks');
  await row1.getByRole('button', { name: '対応中にする' }).click();
  await listB
    .locator(`#cb-body tr[data-call-id="${missed1.call_id}"][data-status="in_progress"]`)
    .waitFor();
  assert.match(await row1.textContent(), /受付 B/);
  // 対応中 is still a promise to keep: A's count stays at 2.
  assert.equal(await consoleA.locator('#callback-count').textContent(), '2');

  // The second number calls again and is answered at the same store: its callback closes by itself.
  const again = callEvent({ external_number: '+818011110002', contact: null });
  await w.sendEvent(again);
  await w.sendEvent({
    ...again,
    state: 'connected',
    date_connected: again.date_started + 1000,
    event_timestamp: again.date_started + 1000,
  });
  // A's console count drops to 1, live.
  await consoleA.locator('#callback-count', { hasText: /^1$/ }).waitFor();
  await listB.getByLabel('状態').selectOption('done');
  const row2 = listB.locator(`#cb-body tr[data-call-id="${missed2.call_id}"]`);
  // The list re-renders for the new filter: wait for the done row, not the one still shown.
  await row2.filter({ hasText: '後の着信（応答済み）で自動的に完了' }).waitFor();

  // B finishes the first by hand: who and when are shown.
  await listB.getByLabel('状態').selectOption('in_progress');
  await row1.getByRole('button', { name: '対応済にする' }).click();
  await listB.locator('#cb-empty').waitFor({ state: 'visible' });
  await consoleA.locator('#callback-count').waitFor({ state: 'hidden' });
  assert.equal(await countA.getAttribute('data-open'), '0');
  await ctxA.close();
  await ctxB.close();
});

test('d. click-to-call: tel: by default; dialpad:// with the store number as caller ID when the setting says so', async () => {
  const popup = await callAndPopup(callEvent({ external_number: YAMADA }));
  await popup.locator('#customer-name', { hasText: '山田 太郎' }).waitFor();
  assert.equal(
    await popup.getByRole('link', { name: '発信' }).getAttribute('href'),
    'tel:+819012345678',
  );
  await popup.close();

  const page = await context.newPage();
  await page.goto(`${base}/admin/settings.html`);
  await page.getByLabel('発信方法').selectOption('dialpad');
  await page.getByLabel('発信者番号（西船橋）').fill('050-1748-0000');
  await page.getByRole('button', { name: '設定を保存' }).click();
  await page.locator('#settings-status', { hasText: '保存しました' }).waitFor();

  // The customer page.
  const { body } = await api('/api/customers/search', {
    method: 'POST',
    body: { q: '09012345678' },
  });
  await page.goto(`${base}/admin/customers.html?id=${body.customers[0].id}`);
  await page.locator('#editor-title', { hasText: '山田 太郎' }).waitFor();
  const dial = page.locator('#editor-dial a').first();
  await dial.waitFor();
  assert.equal(
    await dial.getAttribute('href'),
    'dialpad://+819012345678?fromNumber=%2B815017480000',
  );

  // The popup.
  const popup2 = await callAndPopup(callEvent({ external_number: YAMADA }));
  await popup2.locator('#customer-name', { hasText: '山田 太郎' }).waitFor();
  // The name shows from the pop at once; the buttons follow the settings as soon as they load.
  await popup2
    .locator('a[href="dialpad://+819012345678?fromNumber=%2B815017480000"]', { hasText: '発信' })
    .waitFor();
  await popup2.close();

  // The callback list.
  const missed = callEvent({ external_number: '+818022220003', contact: null, state: 'missed' });
  await w.sendEvent(missed);
  await page.goto(`${base}/admin/callbacks.html`);
  const row = page.locator(`#cb-body tr[data-call-id="${missed.call_id}"]`);
  await row.waitFor();
  assert.equal(
    await row.getByRole('link', { name: '発信' }).getAttribute('href'),
    'dialpad://+818022220003?fromNumber=%2B815017480000',
  );
  await page.close();
  await api('/api/settings/front-desk', {
    method: 'PUT',
    body: { ...(await api('/api/settings/front-desk')).body.settings, dialMode: 'tel' },
  });
});

test('e. who and where: the answering staff member and the line in the popup and the log; 注意 and 苦情 notes stay pinned however old', async () => {
  const { body } = await api('/api/customers/search', {
    method: 'POST',
    body: { q: '09012345678' },
  });
  const id = body.customers[0].id;
  await api(`/api/customers/${id}/notes`, {
    method: 'POST',
    body: { type: '注意', body: '大声での対応に注意' },
  });
  for (let n = 0; n < 4; n++)
    await api(`/api/customers/${id}/notes`, {
      method: 'POST',
      body: { type: '一般', body: `一般ノート ${n}` },
    });

  const ev = callEvent({ external_number: YAMADA });
  const popup = await callAndPopup(ev);
  await popup.locator('#customer-name', { hasText: '山田 太郎' }).waitFor();
  const pinned = popup.locator('#pinned-notes');
  await pinned.waitFor();
  assert.match(await pinned.textContent(), /大声での対応に注意/);
  assert.doesNotMatch(
    await popup.textContent('#notes'),
    /大声での対応に注意/,
    'older than the 3 latest notes',
  );
  // The line comes with the popup's lookup (the name may show first, from the pop).
  await popup.locator('#call-line', { hasText: '050-1748-1234' }).waitFor();

  await w.sendEvent({
    ...ev,
    state: 'connected',
    date_connected: ev.date_started + 1000,
    event_timestamp: ev.date_started + 1000,
    target: { id: 7, name: '鈴木 一郎', type: 'user' },
  });
  await popup.locator('#answered-by', { hasText: '鈴木 一郎' }).waitFor();
  await popup.close();

  const page = await context.newPage();
  await page.goto(`${base}/admin/calls.html`);
  const row = page.locator(`#calls-body tr[data-call-id="${ev.call_id}"]`);
  await row.waitFor();
  assert.match(await row.locator('td.answered-by').textContent(), /鈴木 一郎/);
  assert.match(await row.locator('td.call-line').textContent(), /050-1748-1234/);
  await page.close();
});
