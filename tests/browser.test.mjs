// @ts-check
// Browser: the real console and popup pages in Chromium, against the built Worker in workerd.
// Signed webhooks go in at one end; the test watches what a member of staff would see.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWithBrowser } from './helpers/browser.mjs';
import { callEvent } from './helpers/worker.mjs';

let w;
let base;
let browser;
let context;
let consolePage;
let account;
let dialogs;
let pageErrors;

let session;
before(async () => {
  session = await startWithBrowser({
    login: { role: 'admin', name: '受付 花子' },
    loggedIn: false,
  });
  ({ w, base, account, browser, context, pageErrors, dialogs } = session);
});

after(() => session?.close());

/** The console, logged in through its form (once). */
async function openConsole() {
  if (consolePage) return consolePage;
  const page = await context.newPage();
  const res = await page.goto(`${base}/admin/`);
  assert.equal(res.status(), 200);
  assert.match(res.headers()['content-security-policy'], /script-src 'self'/);
  await page.locator('#login-form').waitFor();
  await page.fill('#login-id', account.login);
  await page.fill('#login-password', 'wrong-password');
  await page.click('#login-submit');
  await page
    .locator('#login-error', { hasText: 'ログインIDまたはパスワードが正しくありません' })
    .waitFor();
  await page.fill('#login-password', account.password);
  await page.click('#login-submit');
  await page.locator('#console-view').waitFor();
  await page.locator('#conn-status', { hasText: /^接続中$/ }).waitFor();
  assert.equal(await page.textContent('#user-name'), '受付 花子');
  consolePage = page;
  return page;
}

/** Sends a signed webhook and resolves with the popup window it opened. */
async function callAndPopup(ev) {
  const popupP = context.waitForEvent('page');
  const res = await w.sendEvent(ev);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const popup = await popupP;
  await popup.waitForLoadState('domcontentloaded');
  return popup;
}

async function textOf(page, sel) {
  return (await page.textContent(sel))?.trim();
}

test('known caller: login, live socket, popup with the customer and the store', async () => {
  const page = await openConsole();
  const ev = callEvent(); // +819012345678 -> 山田 太郎, dialled 050-1748-1234 -> 西船橋
  const popup = await callAndPopup(ev);

  assert.equal(new URL(popup.url()).pathname, '/admin/popup/cti');
  const q = new URL(popup.url()).searchParams;
  assert.equal(q.get('callId'), String(ev.call_id));
  assert.deepEqual([...q.keys()], ['callId'], 'no phone number in the popup address');

  await popup.locator('#customer-name', { hasText: /^山田 太郎$/ }).waitFor();
  await popup.locator('#store-name', { hasText: /^西船橋$/ }).waitFor();
  assert.equal(await textOf(popup, '#memo'), '平日夕方の来店が多い。駐車場利用。');
  assert.match(await textOf(popup, '#usage'), /来店回数12回/);
  assert.match(await textOf(popup, '#call-state'), /着信中/);
  assert.equal(await popup.title(), '着信 - 山田 太郎');

  // The window the console asked for, and (where the browser honours it) the one it got.
  const opened = await page.evaluate(() => window.__opened);
  const mine = opened.find((o) => o.name === `cti-${ev.call_id}`);
  assert.ok(mine, JSON.stringify(opened));
  assert.equal(mine.features, 'width=500,height=700');
  // window.open's width/height size the content area.
  const [iw, ih] = await popup.evaluate(() => [innerWidth, innerHeight]);
  assert.ok(
    Math.abs(iw - 500) <= 20 && Math.abs(ih - 700) <= 40,
    `popup content area is ${iw}x${ih}`,
  );

  // The console's list shows the call live.
  const row = page.locator(`tr[data-call-id="${ev.call_id}"]`);
  await row.waitFor();
  assert.match(await row.textContent(), /山田 太郎/);
  assert.match(await row.textContent(), /着信中/);

  // The popup follows the call: answered -> running timer, then hung up -> 終了 (duration).
  const t0 = ev.date_started;
  await w.sendEvent({
    ...ev,
    state: 'connected',
    date_connected: t0 + 3000,
    event_timestamp: t0 + 3000,
  });
  await popup.locator('#call-state', { hasText: /通話中\s+\d+:\d\d/ }).waitFor();
  await row.locator('.state', { hasText: '通話中' }).waitFor();
  await w.sendEvent({
    ...ev,
    state: 'hangup',
    date_connected: t0 + 3000,
    date_ended: t0 + 68000,
    duration: 65000,
    event_timestamp: t0 + 68000,
  });
  await popup.locator('#call-state', { hasText: /終了/ }).waitFor();
  await row.locator('.state', { hasText: '終了' }).waitFor();

  // No second popup for the same call.
  const opens = (await page.evaluate(() => window.__opened)).filter(
    (o) => o.name === `cti-${ev.call_id}`,
  );
  assert.equal(opens.length, 1);
  await popup.close();
  assert.deepEqual(pageErrors, []);
});

test('customer data is shown as text, never as markup', async () => {
  await openConsole();
  const evil = '<img src=x onerror=alert(1)>';
  await w.addCustomer({
    name: evil,
    kana: '<b>カナ</b>',
    memo: '<script>alert(2)</script>',
    phone: '09099990000',
    store: '西船橋',
  });
  const ev = callEvent({
    external_number: '+819099990000',
    contact: { id: 1, name: evil, phone: '+819099990000', type: 'local' },
  });
  const popup = await callAndPopup(ev);
  await popup.locator('#customer-name').waitFor();
  await popup.locator('#customer-name', { hasText: evil }).waitFor();
  assert.equal(await popup.textContent('#customer-name'), evil);
  assert.equal(await popup.textContent('#memo'), '<script>alert(2)</script>');
  assert.equal(await popup.locator('img').count(), 0);
  assert.equal(await popup.locator('b').count(), 0);
  assert.equal(await popup.locator('body script').count(), 0);
  assert.equal(await popup.title(), `着信 - ${evil}`);
  // The console's list renders the same name as text too.
  const row = consolePage.locator(`tr[data-call-id="${ev.call_id}"]`);
  await row.waitFor();
  assert.match(await row.textContent(), /<img src=x onerror=alert\(1\)>/);
  assert.equal(await consolePage.locator('img').count(), 0);
  assert.deepEqual(dialogs, []);
  await popup.close();
});

test('unknown caller: register from the popup without a reload', async () => {
  await openConsole();
  const ev = callEvent({ external_number: '+818011112233', contact: null });
  const popup = await callAndPopup(ev);
  await popup.locator('#unknown-banner').waitFor({ state: 'visible' });
  assert.match(await textOf(popup, '#unknown-banner'), /未登録/);
  assert.match(await textOf(popup, '#unknown-banner'), /080-1111-2233/);
  assert.match(await textOf(popup, '#unknown-banner'), /西船橋/);
  assert.equal(await popup.title(), '着信 - 080-1111-2233');

  // The name is required.
  await popup.click('#register-submit');
  await popup.locator('[data-error-for="name"]', { hasText: '氏名を入力してください' }).waitFor();

  await popup.fill('#reg-name', '鈴木 一郎');
  await popup.fill('#reg-kana', 'スズキ イチロウ');
  await popup.fill('#reg-memo', '初回の問い合わせ');
  const loads = [];
  popup.on('load', () => loads.push(popup.url()));
  await popup.click('#register-submit');
  await popup.locator('#customer-name', { hasText: /^鈴木 一郎$/ }).waitFor();
  assert.equal(await popup.isVisible('#unknown-banner'), false);
  assert.equal(await textOf(popup, '#memo'), '初回の問い合わせ');
  assert.equal(await textOf(popup, '#store-name'), '西船橋');
  assert.equal(await popup.title(), '着信 - 鈴木 一郎');
  assert.deepEqual(loads, [], 'no reload');

  // Stored: the next lookup of the number finds the new customer.
  const row = await w.db
    .prepare(
      'SELECT c.name, c.kana, s.name AS store FROM customers c JOIN customer_phones p ON p.customer_id = c.id LEFT JOIN stores s ON s.id = c.home_store_id WHERE p.phone = ?1',
    )
    .bind('08011112233')
    .first();
  assert.deepEqual(row, { name: '鈴木 一郎', kana: 'スズキ イチロウ', store: '西船橋' });
  await popup.close();
  assert.deepEqual(pageErrors, []);
  assert.deepEqual(dialogs, []);
});

test('a blocked popup leaves a banner whose button opens it', async () => {
  const page = await openConsole();
  await page.evaluate(() => {
    window.__blockPopups = 1;
  });
  try {
    const ev = callEvent();
    const res = await w.sendEvent(ev);
    assert.equal(res.status, 200);
    await page.locator('#popup-blocked').waitFor({ state: 'visible' });
    assert.match(await textOf(page, '#popup-blocked'), /090-1234-5678/);
    assert.match(await textOf(page, '#popup-blocked'), /山田 太郎/);
    const popupP = context.waitForEvent('page');
    await page
      .locator('#popup-blocked')
      .getByRole('button', { name: /山田 太郎.*ポップアップを開く$/ })
      .click();
    const popup = await popupP;
    await popup.waitForLoadState('domcontentloaded');
    assert.equal(new URL(popup.url()).searchParams.get('callId'), String(ev.call_id));
    await popup.locator('#customer-name', { hasText: /^山田 太郎$/ }).waitFor();
    await page.locator('#popup-blocked').waitFor({ state: 'hidden' });
    const opens = (await page.evaluate(() => window.__opened)).filter(
      (o) => o.name === `cti-${ev.call_id}`,
    );
    assert.deepEqual(
      opens.map((o) => o.blocked),
      [true, false],
    );
    await popup.close();
  } finally {
    await page.evaluate(() => {
      window.__blockPopups = 0;
    });
  }
});

test('several customers on one number: the popup offers a choice (test call from the console)', async () => {
  const page = await openConsole();
  await w.addCustomer({
    name: '田中 一郎',
    kana: 'タナカ イチロウ',
    phone: '0471234567',
    store: '松戸',
    type: '会員',
  });
  await w.addCustomer({
    name: '田中 花子',
    kana: 'タナカ ハナコ',
    phone: '0471234567',
    store: '松戸',
    type: 'VIP',
    flag: '要注意',
  });
  await page.fill('#test-customer-phone', '047-123-4567');
  await page.fill('#test-incoming-number', '05017511234');
  const popupP = context.waitForEvent('page');
  await page.click('#test-call-form button[type=submit]');
  const popup = await popupP;
  await popup.waitForLoadState('domcontentloaded');
  await page.locator('#test-call-result', { hasText: 'テスト着信を送信しました' }).waitFor();
  await popup.locator('#picker-view').waitFor({ state: 'visible' });
  await popup.locator('#store-name', { hasText: /^松戸$/ }).waitFor();
  const names = await popup.locator('.picker-name').allTextContents();
  assert.deepEqual(names.sort(), ['田中 一郎', '田中 花子']);
  await popup.locator('.picker-item', { hasText: '田中 花子' }).click();
  await popup.locator('#customer-name', { hasText: /^田中 花子$/ }).waitFor();
  assert.match(await textOf(popup, '#customer-badges'), /VIP/);
  assert.match(await textOf(popup, '#customer-badges'), /要注意/);
  await popup.click('#back-to-picker');
  await popup.locator('#picker-view').waitFor({ state: 'visible' });
  // The console marks the call as a test.
  const callId = new URL(popup.url()).searchParams.get('callId');
  await page.locator(`tr[data-call-id="${callId}"] .badge-test`, { hasText: 'テスト' }).waitFor();
  assert.match(
    await textOf(page, `tr[data-call-id="${callId}"]`),
    /田中 一郎 他1名|田中 花子 他1名/,
  );
  await popup.close();
});

test('after a dropped connection the console catches up: live calls pop, finished ones do not', async () => {
  const page = await openConsole();
  const urls = [];
  const onSocket = (ws) => urls.push(ws.url());
  page.on('websocket', onSocket);
  // Cut the console off: close its socket and refuse new ones.
  await page.evaluate(() => {
    window.__wsBlocked = true;
    for (const s of window.__sockets) s.close();
  });
  await page.locator('#conn-status', { hasText: /^再接続中$/ }).waitFor();

  // Meanwhile: one call rang and was missed, another is still ringing.
  const missed = callEvent({ external_number: '+819055556666' });
  await w.sendEvent(missed);
  await w.sendEvent({
    ...missed,
    state: 'missed',
    event_timestamp: missed.event_timestamp + 20_000,
  });
  const ringing = callEvent();
  await w.sendEvent(ringing);

  const popupP = context.waitForEvent('page');
  await page.evaluate(() => {
    window.__wsBlocked = false;
  });
  await page.locator('#conn-status', { hasText: /^接続中$/ }).waitFor();
  const popup = await popupP;
  assert.equal(new URL(popup.url()).searchParams.get('callId'), String(ringing.call_id));
  await page
    .locator(`tr[data-call-id="${missed.call_id}"] .state`, { hasText: '不在着信' })
    .waitFor();
  await page
    .locator(`tr[data-call-id="${ringing.call_id}"] .state`, { hasText: '着信中' })
    .waitFor();
  const opened = (await page.evaluate(() => window.__opened)).map((o) => o.name);
  assert.ok(!opened.includes(`cti-${missed.call_id}`), 'a call that ended while away does not pop');
  assert.ok(
    urls.length >= 1 && urls.every((u) => /\/api\/cti\/socket\?since=\d+$/.test(u)),
    urls.join(),
  );
  page.off('websocket', onSocket);
  await popup.close();
  assert.deepEqual(pageErrors, []);
});

test('without a session: the popup asks to log in; logging out returns the console to the form', async () => {
  const stranger = await browser.newContext({ viewport: null });
  try {
    const popup = await stranger.newPage();
    await popup.goto(`${base}/admin/popup/cti?callId=1`);
    await popup.locator('#auth-view', { hasText: 'ログインしてください' }).waitFor();
    assert.equal(await popup.locator('#auth-view a').getAttribute('href'), '/admin/');
    assert.equal(await popup.isVisible('#customer-view'), false);
  } finally {
    await stranger.close();
  }

  const page = await openConsole();
  await page.click('#logout');
  // Calls of the earlier tests are still live here: the logout asks first (通話中の着信があります).
  const confirm = page
    .getByRole('dialog', { name: '通話中の着信があります' })
    .getByRole('button', { name: 'ログアウトする' });
  await Promise.race([
    page.locator('#login-form').waitFor(),
    confirm.waitFor().then(() => confirm.click()),
  ]);
  await page.locator('#login-form').waitFor();
  await page.reload();
  await page.locator('#login-form').waitFor();
  assert.equal(await page.isVisible('#console-view'), false);
  consolePage = null;
  assert.deepEqual(pageErrors, []);
  assert.deepEqual(dialogs, []);
});
