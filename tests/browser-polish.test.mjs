// @ts-check
// Browser: everyday front-desk polish (issue 14): screens that keep up, the popup at 700 px,
// editing by keyboard, small texts, creating and deleting customers, live renames. Chromium
// against the built Worker in workerd; every wait is on the DOM or on an event, never a sleep.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { startWithBrowser, docShot } from './helpers/browser.mjs';
import { callEvent } from './helpers/worker.mjs';

const CTI_PATH = '/admin/popup/cti';
const SHOTS = new URL('../docs/', import.meta.url);

let w;
let base;
let browser;
let context;
let pageErrors;
let dialogs;
let account;
/** The console tab (logged in once). */
let consolePage;
/** Every popup window of the context: { page, callId }. */
const popups = [];
const popupWaiters = [];

let session;
before(async () => {
  session = await startWithBrowser({
    login: { role: 'admin', name: '受付 花子' },
    loggedIn: false,
  });
  ({ w, base, account, browser, context, pageErrors, dialogs } = session);
  context.on('page', async (p) => {
    await p.waitForLoadState('domcontentloaded').catch(() => {});
    let url;
    try {
      url = new URL(p.url());
    } catch {
      return;
    }
    if (url.pathname !== CTI_PATH) return;
    popups.push({ page: p, callId: url.searchParams.get('callId') });
    for (const wake of popupWaiters.splice(0)) wake();
  });
});

after(() => session?.close());

afterEach(() => {
  assert.deepEqual(pageErrors, [], 'no page errors or CSP violations');
  assert.deepEqual(dialogs, [], 'no alert/confirm dialogs');
});

// ---------------------------------------------------------------------------------------------
// Helpers

async function loginConsole(page, login = account.login, password = account.password) {
  await page.goto(`${base}/admin/`);
  await page.locator('#login-form').waitFor();
  await page.fill('#login-id', login);
  await page.fill('#login-password', password);
  await page.click('#login-submit');
}

async function openConsole() {
  if (consolePage) return consolePage;
  consolePage = await context.newPage();
  await loginConsole(consolePage);
  await consolePage.locator('#console-view').waitFor();
  await consolePage.locator('#conn-status', { hasText: /^接続中$/ }).waitFor();
  return consolePage;
}

async function popupFor(callId) {
  const find = () => popups.find((p) => p.callId === String(callId));
  while (!find()) {
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no popup for call ${callId}`)), 15_000);
      popupWaiters.push(() => {
        clearTimeout(timer);
        resolve(undefined);
      });
    });
  }
  return find().page;
}

async function send(ev) {
  const res = await w.sendEvent(ev);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body;
}

const ended = (ev, state = 'hangup') => ({
  ...ev,
  state,
  date_ended: Date.now(),
  event_timestamp: Date.now(),
});
const rowState = (page, callId, text) =>
  page.locator(`tr[data-call-id="${callId}"] .state`, { hasText: text }).waitFor();
const opensFor = async (page, callId) =>
  (await page.evaluate(() => window.__opened)).filter((o) => o.name === `cti-${callId}`);

// ---------------------------------------------------------------------------------------------

test('a fresh console pops only calls that started ringing in the last minute; older live calls are listed', async () => {
  const old = Date.now() - 3 * 60_000;
  const stale = callEvent({
    external_number: '+818055501111',
    contact: null,
    date_started: old,
    date_rang: old,
    event_timestamp: old,
  });
  const recent = callEvent({ external_number: '+818055502222', contact: null });
  await send(stale);
  await send(recent);

  const page = await openConsole();
  await rowState(page, stale.call_id, '着信中');
  await rowState(page, recent.call_id, '着信中');
  await popupFor(recent.call_id);
  // A call after the catch-up pops as usual; by then the old one would have popped too.
  const next = callEvent({ external_number: '+818055503333', contact: null });
  await send(next);
  await popupFor(next.call_id);
  assert.deepEqual(
    await opensFor(page, stale.call_id),
    [],
    'the 3-minute-old call is listed, not popped',
  );

  for (const ev of [stale, recent, next]) await send(ended(ev, 'missed'));
  for (const ev of [stale, recent, next]) await rowState(page, ev.call_id, '不在着信');
});

test('a ringing call shows in the tab title and favicon; the blocked banner goes with its call; 応答時 notes a missed call', async () => {
  const page = await openConsole();
  const svg = await page.request.get(`${base}/favicon.svg`);
  assert.equal(svg.status(), 200);
  assert.match(svg.headers()['content-type'], /svg/);
  // The popup links it in its HTML; every console page (and /, which opens the console) gets it
  // from lib/header.js.
  const html = await (await page.request.get(`${base}${CTI_PATH}`)).text();
  assert.match(html, /<link rel="icon" href="\/favicon.svg"/, `${CTI_PATH} links the favicon`);
  const other = await page.context().newPage();
  for (const path of [
    '/',
    '/admin/customers.html',
    '/admin/stores.html',
    '/admin/calls.html',
    '/admin/callbacks.html',
    '/admin/settings.html',
    '/admin/accounts.html',
  ]) {
    await other.goto(`${base}${path}`);
    await other.locator('header.topbar').waitFor({ state: 'attached' });
    assert.equal(
      await other.locator('link[rel="icon"]').getAttribute('href'),
      '/favicon.svg',
      `${path} shows the favicon`,
    );
  }
  await other.close();
  assert.equal(await page.locator('link[rel="icon"]').getAttribute('href'), '/favicon.svg');

  await page.evaluate(() => {
    window.__blockPopups = 1;
  });
  const ev = callEvent({ external_number: '+818055504444', contact: null });
  await send(ev);
  await page.locator('#popup-blocked').waitFor();
  await page.waitForFunction(() => /着信中/.test(document.title));
  assert.equal(await page.locator('link[rel="icon"]').getAttribute('href'), '/favicon-ringing.svg');
  await docShot(page, new URL('console-ringing.png', SHOTS).pathname);

  await send(ended(ev, 'missed'));
  await page.locator('#popup-blocked').waitFor({ state: 'hidden' });
  await page.waitForFunction(() => document.title === 'CTI コンソール');
  assert.equal(await page.locator('link[rel="icon"]').getAttribute('href'), '/favicon.svg');

  // 応答時: a call missed before anyone answered never pops, and the console says so.
  await page.check('#set-pop-answer');
  const missed = callEvent({ external_number: '+818055505555', contact: null });
  await send(missed);
  await rowState(page, missed.call_id, '着信中');
  await send(ended(missed, 'missed'));
  await page.locator('#missed-notice', { hasText: '080-5550-5555' }).waitFor();
  assert.deepEqual(await opensFor(page, missed.call_id), []);
  await docShot(page, new URL('console-missed-notice.png', SHOTS).pathname);
  await page.click('#missed-notice-dismiss');
  await page.locator('#missed-notice').waitFor({ state: 'hidden' });
  await page.check('#set-pop-ring');
});

test('the popup: 最終着信 is the previous call, 着信履歴 within reach at 700 px, store names whole, memo by keyboard', async () => {
  const page = await openConsole();
  const storeName = '西船橋駅前ロータリー北口本店';
  await w.upsertStore(storeName, ['0501760']);
  const id = await w.addCustomer({
    name: '長谷川 一郎',
    phone: '09077701111',
    memo: 'ご来店時は窓際の席を希望。'.repeat(60),
    store: storeName,
  });
  for (let n = 0; n < 3; n++) {
    await w.db
      .prepare(
        "INSERT INTO customer_notes (customer_id, note_type, body, author_name) VALUES (?1, '一般', ?2, '受付')",
      )
      .bind(id, `ノート${n}: ${'お好みのコースと担当者の希望あり。'.repeat(12)}`)
      .run();
  }
  const earlier = Date.now() - 10 * 60_000;
  const first = callEvent({
    external_number: '+819077701111',
    internal_number: '+815017601234',
    contact: null,
    date_started: earlier,
    date_rang: earlier,
    event_timestamp: earlier,
  });
  await send(first);
  await send({
    ...first,
    state: 'hangup',
    date_connected: earlier + 2000,
    date_ended: earlier + 60_000,
    event_timestamp: earlier + 60_000,
  });
  const now = callEvent({
    external_number: '+819077701111',
    internal_number: '+815017601234',
    contact: null,
  });
  await send(now);
  const popup = await popupFor(now.call_id);
  await popup.locator('#customer-name', { hasText: '長谷川 一郎' }).waitFor();
  await popup.locator(`#history li[data-call-id="${first.call_id}"]`).waitFor();

  // 最終着信 is the call before this one, as its history row says.
  const previous = await popup
    .locator(`#history li[data-call-id="${first.call_id}"] .h-date`)
    .textContent();
  const last = popup.locator('.usage-item', { hasText: '最終着信' }).locator('dd');
  assert.equal(await last.textContent(), previous);

  // 700 px: the long memo and notes scroll inside their cards; 着信履歴へ jumps to the history.
  assert.equal(await popup.evaluate(() => window.innerHeight <= 700), true);
  const memoHeight = (await popup.locator('#memo').boundingBox()).height;
  assert.ok(memoHeight < 200, `the memo is collapsed (${memoHeight} px)`);
  await popup.getByRole('link', { name: '着信履歴へ' }).click();
  const box = await popup.locator('#history-view h2').boundingBox();
  const inner = await popup.evaluate(() => window.innerHeight);
  assert.ok(
    box.y >= 0 && box.y + box.height <= inner,
    `着信履歴 is on screen (${box.y} of ${inner})`,
  );

  // A long store name never breaks mid-word in the history.
  const lines = await popup.evaluate((name) => {
    const cell = [...document.querySelectorAll('#history .h-store')].find(
      (n) => n.firstChild?.textContent === name,
    );
    const range = document.createRange();
    range.selectNodeContents(cell.firstChild);
    return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size;
  }, storeName);
  assert.equal(lines, 1, 'the store name stays on one line');
  await popup.evaluate(() => window.scrollTo(0, 0));
  await docShot(popup, new URL('popup-previous-call.png', SHOTS).pathname);

  // The memo by keyboard: Esc cancels, Ctrl+Enter saves, focus returns to 編集.
  await popup.click('#memo-edit');
  await popup.fill('#memo-input', '取り消す下書き');
  await popup.press('#memo-input', 'Escape');
  await popup.locator('#memo-form').waitFor({ state: 'hidden' });
  assert.equal(await popup.evaluate(() => document.activeElement?.id), 'memo-edit');
  assert.doesNotMatch(await popup.locator('#memo').textContent(), /取り消す下書き/);
  await popup.click('#memo-edit');
  await popup.fill('#memo-input', '窓際の席を希望');
  await popup.press('#memo-input', 'Control+Enter');
  await popup.locator('#memo-status', { hasText: '保存しました' }).waitFor();
  assert.equal(await popup.locator('#memo').textContent(), '窓際の席を希望');
  assert.equal(await popup.evaluate(() => document.activeElement?.id), 'memo-edit');

  await send(ended(now));
  await rowState(page, now.call_id, /終了|不在/);
});

test('the popup offers 編集 only where the user may edit, and says why the memo is read-only', async () => {
  const page = await openConsole();
  await w.addCustomer({ name: '読取 専用', phone: '09077702222', memo: '閲覧のみのメモ' });
  const ev = callEvent({ external_number: '+819077702222', contact: null });
  const isLookup = (url) => url.pathname === '/api/customers/lookup';
  await context.route(isLookup, async (route) => {
    const req = route.request();
    // The popup looks up its call (by call id, or by number on older pages).
    const asked = `${req.url()} ${req.postData() ?? ''}`;
    if (!asked.includes(String(ev.call_id)) && !asked.includes('09077702222'))
      return route.continue();
    try {
      const res = await route.fetch();
      const body = await res.json();
      await route.fulfill({ response: res, json: { ...body, canEdit: false } });
    } catch {
      // The popup asked again as its call ended and closed meanwhile: nothing left to answer.
    }
  });
  await send(ev);
  const popup = await popupFor(ev.call_id);
  await popup.locator('#customer-name', { hasText: '読取 専用' }).waitFor();
  await popup.locator('#memo-readonly', { hasText: '閲覧のみ' }).waitFor();
  assert.equal(await popup.locator('#memo-edit').isHidden(), true, 'no 編集');
  await popup.click('#memo');
  assert.equal(
    await popup.locator('#memo-form').isHidden(),
    true,
    'a click on the memo does not edit it',
  );
  // Waits for a lookup still in the handler (the popup may look up again meanwhile): removed
  // under it, its fulfill would fail as 'Route is already handled' after the test.
  await context.unrouteAll({ behavior: 'wait' });
  await send(ended(ev));
  await rowState(page, ev.call_id, /終了|不在/);
});

test('registering a caller renames their rows in the console and the popup of their other call, live', async () => {
  const page = await openConsole();
  const a = callEvent({ external_number: '+818066607777', contact: null });
  const b = callEvent({ external_number: '+818066607777', contact: null });
  await send(a);
  const popupA = await popupFor(a.call_id);
  await send(b);
  const popupB = await popupFor(b.call_id);
  await popupA.locator('#unknown-view').waitFor();
  await popupB.locator('#unknown-view').waitFor();
  await page
    .locator(`tr[data-call-id="${b.call_id}"] .col-customer`, { hasText: '未登録' })
    .waitFor();

  await popupA.fill('#reg-name', '新規 登録子');
  await popupA.click('#register-submit');
  await popupA.locator('#customer-name', { hasText: '新規 登録子' }).waitFor();
  // No further call event: the customer_changed message does it.
  for (const ev of [a, b])
    await page
      .locator(`tr[data-call-id="${ev.call_id}"] .col-customer`, { hasText: '新規 登録子' })
      .waitFor();
  await popupB.locator('#customer-name', { hasText: '新規 登録子' }).waitFor();

  for (const ev of [a, b]) await send(ended(ev));
  for (const ev of [a, b]) await rowState(page, ev.call_id, /終了|不在/);
});

test('顧客: Ctrl+Enter saves and focus returns to the field, Esc cancels; 新規登録 and 削除 with a confirmation', async () => {
  const page = await context.newPage();
  await page.goto(`${base}/admin/customers.html`);
  await page.locator('#page-view').waitFor();

  // 新規登録 in a dialog.
  await page.getByRole('button', { name: '新規登録' }).click();
  await page.locator('#create-dialog').waitFor();
  await page.fill('#create-name', '削除 予定子');
  await page.fill('#create-kana', 'サクジョ ヨテイコ');
  await page.fill('#create-phone', '090-8888-1234');
  await docShot(page, new URL('customers-create.png', SHOTS).pathname);
  await page.getByRole('button', { name: '登録する' }).click();
  await page.locator('#create-dialog').waitFor({ state: 'hidden' });
  await page.locator('#editor-title', { hasText: '削除 予定子' }).waitFor();
  await page.locator('#customer-body tr', { hasText: '削除 予定子' }).waitFor();

  // Keyboard: Esc puts the record back, Ctrl+Enter saves, focus stays on what was edited.
  await page.fill('#edit-name', '書きかけ');
  await page.press('#edit-name', 'Escape');
  assert.equal(await page.inputValue('#edit-name'), '削除 予定子');
  await page.fill('#edit-kana', 'サクジョ ヨテイ');
  await page.press('#edit-kana', 'Control+Enter');
  await page.locator('#edit-status', { hasText: '保存しました' }).waitFor();
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'edit-kana');

  // 削除 asks first (a dialog of the page, not window.confirm); キャンセル keeps the customer.
  await page.getByRole('button', { name: '削除', exact: true }).click();
  await page.locator('#delete-dialog', { hasText: '「削除 予定子」を削除しますか？' }).waitFor();
  await docShot(page, new URL('customers-delete.png', SHOTS).pathname);
  await page.click('#delete-cancel');
  await page.locator('#delete-dialog').waitFor({ state: 'hidden' });
  assert.equal(await w.count("SELECT 1 FROM customers WHERE name = '削除 予定子'"), 1);
  await page.getByRole('button', { name: '削除', exact: true }).click();
  await page.getByRole('button', { name: '削除する' }).click();
  await page.locator('#delete-dialog').waitFor({ state: 'hidden' });
  await page.locator('#editor').waitFor({ state: 'hidden' });
  await page
    .locator('#customer-body tr', { hasText: '削除 予定子' })
    .waitFor({ state: 'detached' });
  assert.equal(await w.count("SELECT 1 FROM customers WHERE name = '削除 予定子'"), 0);
  await page.close();
});

test('small texts: the lockout in minutes, a disabled account says so, the role shown once', async () => {
  const fresh = await browser.newContext({ locale: 'ja-JP', timezoneId: 'Asia/Tokyo' });
  try {
    const page = await fresh.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));

    // A user named 管理者 (the demo admin): the header says 管理者 once.
    const named = await w.login({ role: 'admin', name: '管理者' });
    await loginConsole(page, named.login, named.password);
    await page.locator('#console-view').waitFor();
    const bar = await page.locator('#session-bar .user').innerText();
    assert.equal(bar.split('管理者').length - 1, 1, `role once: ${bar}`);
    await page.click('#logout');
    await page.locator('#login-form').waitFor();

    // A disabled account with the right password.
    const off = await w.login({ role: 'staff', store: '西船橋' });
    await w.db.prepare('UPDATE users SET disabled = 1 WHERE login_id = ?1').bind(off.login).run();
    await page.fill('#login-id', off.login);
    await page.fill('#login-password', off.password);
    await page.click('#login-submit');
    await page.locator('#login-error', { hasText: 'このアカウントは無効になっています' }).waitFor();

    // Five wrong passwords, then the lockout, said in minutes.
    const locked = await w.login({ role: 'staff', store: '西船橋' });
    for (let n = 0; n < 6; n++) {
      await page.fill('#login-id', locked.login);
      await page.fill('#login-password', `wrong-${n}`);
      await page.click('#login-submit');
      await page.locator('#login-submit:not([disabled])').waitFor();
    }
    await page.locator('#login-error', { hasText: /約1[45]分後/ }).waitFor();
    await docShot(page, new URL('login-lockout.png', SHOTS).pathname);
  } finally {
    await fresh.close();
  }
});
