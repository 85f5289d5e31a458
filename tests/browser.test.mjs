// Browser: the real console and popup pages in Chromium, against the built Worker in workerd.
// Signed webhooks go in at one end; the test watches what a member of staff would see.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { startWorker, callEvent } from './helpers/worker.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const WAIT = 15_000;

let w;
let base;
let browser;
let context;
let consolePage;
let account;
const dialogs = [];
const pageErrors = [];

before(async () => {
  w = await startWorker();
  // The session cookie is `Secure`: Chromium keeps it over plain http only for localhost.
  base = w.url.replace('127.0.0.1', 'localhost');
  account = await w.login({ role: 'admin', name: '受付 花子' });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      // Headless screens default to 800x600, which would clamp a 700 px high popup.
      '--screen-info={1920x1080}',
    ],
  });
  // viewport: null lets window.open's width/height decide the popup's size.
  context = await browser.newContext({ viewport: null, locale: 'ja-JP', timezoneId: 'Asia/Tokyo' });
  context.setDefaultTimeout(WAIT);
  context.on('dialog', (d) => {
    dialogs.push(d.message());
    d.dismiss().catch(() => {});
  });
  // Records every window.open so the requested features can be checked even where a headless
  // browser does not size windows. Init scripts run outside the page's CSP.
  await context.addInitScript(() => {
    const open = window.open;
    window.__opened = [];
    window.open = function (url, name, features) {
      window.__opened.push({ url: String(url), name, features });
      return open.apply(this, arguments);
    };
  });
  context.on('page', (p) => p.on('pageerror', (e) => pageErrors.push(`${p.url()}: ${e.message}`)));
});

after(async () => {
  await browser?.close();
  await w?.close();
});

/** The console, logged in through its form (once). */
async function openConsole() {
  if (consolePage) return consolePage;
  const page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(`console: ${e.message}`));
  const res = await page.goto(`${base}/admin/`);
  assert.equal(res.status(), 200);
  assert.match(res.headers()['content-security-policy'], /script-src 'self'/);
  await page.locator('#login-form').waitFor();
  await page.fill('#login-id', account.login);
  await page.fill('#login-password', 'wrong-password');
  await page.click('#login-submit');
  await page.locator('#login-error', { hasText: 'ログインIDまたはパスワードが正しくありません' }).waitFor();
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

  assert.equal(new URL(popup.url()).pathname, '/admin/customer-management/cti');
  const q = new URL(popup.url()).searchParams;
  assert.equal(q.get('callId'), String(ev.call_id));
  assert.equal(q.get('phone'), '09012345678');
  assert.equal(q.get('incoming'), '05017481234');

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
  assert.ok(Math.abs(iw - 500) <= 20 && Math.abs(ih - 700) <= 40, `popup content area is ${iw}x${ih}`);

  // The console's list shows the call live.
  const row = page.locator(`tr[data-call-id="${ev.call_id}"]`);
  await row.waitFor();
  assert.match(await row.textContent(), /山田 太郎/);
  assert.match(await row.textContent(), /着信中/);

  // The popup follows the call: answered -> running timer, then hung up -> 終了 (duration).
  const t0 = ev.date_started;
  await w.sendEvent({ ...ev, state: 'connected', date_connected: t0 + 3000, event_timestamp: t0 + 3000 });
  await popup.locator('#call-state', { hasText: /通話中\s+\d+:\d\d/ }).waitFor();
  await row.locator('.state', { hasText: '通話中' }).waitFor();
  await w.sendEvent({ ...ev, state: 'hangup', date_connected: t0 + 3000, date_ended: t0 + 68000, duration: 65000, event_timestamp: t0 + 68000 });
  await popup.locator('#call-state', { hasText: /終了/ }).waitFor();
  await row.locator('.state', { hasText: '終了' }).waitFor();

  // No second popup for the same call.
  const opens = (await page.evaluate(() => window.__opened)).filter((o) => o.name === `cti-${ev.call_id}`);
  assert.equal(opens.length, 1);
  await popup.close();
  assert.deepEqual(pageErrors, []);
});

test('customer data is shown as text, never as markup', async () => {
  await openConsole();
  const evil = '<img src=x onerror=alert(1)>';
  await w.addCustomer({ name: evil, kana: '<b>カナ</b>', memo: '<script>alert(2)</script>', phone: '09099990000', store: '西船橋' });
  const ev = callEvent({ external_number: '+819099990000', contact: { id: 1, name: evil, phone: '+819099990000', type: 'local' } });
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
    .prepare('SELECT c.name, c.kana, s.name AS store FROM customers c JOIN customer_phones p ON p.customer_id = c.id LEFT JOIN stores s ON s.id = c.home_store_id WHERE p.phone = ?1')
    .bind('08011112233')
    .first();
  assert.deepEqual(row, { name: '鈴木 一郎', kana: 'スズキ イチロウ', store: '西船橋' });
  await popup.close();
  assert.deepEqual(pageErrors, []);
  assert.deepEqual(dialogs, []);
});
