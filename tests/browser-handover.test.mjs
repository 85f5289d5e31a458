// @ts-check
// Browser: 「対応中」 and the first run. Two staff members of 西船橋 at two consoles: when one
// opens the wrap-up of a call in its popup, or Dialpad says who answered, the other console
// shows 対応中: <name> on that call's row, live. An admin's console with no store shows the
// setup card that leads to 店舗; a test call with the README's X placeholders is a clear 400.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openBrowser, WAIT, docShot } from './helpers/browser.mjs';
import { startWorker, callEvent } from './helpers/worker.mjs';

let browser;
let pageErrors;

before(async () => {
  ({ browser, pageErrors } = await openBrowser());
});

after(async () => {
  await browser?.close();
});

async function personAt(base, user) {
  const ctx = await browser.newContext({
    viewport: { width: 1280, height: 800 },
    locale: 'ja-JP',
    timezoneId: 'Asia/Tokyo',
  });
  ctx.setDefaultTimeout(WAIT);
  ctx.on('page', (p) => p.on('pageerror', (e) => pageErrors.push(`${p.url()}: ${e.message}`)));
  const page = await ctx.newPage();
  await page.goto(`${base}/admin/`);
  await page.locator('#login-form').waitFor();
  await page.fill('#login-id', user.login);
  await page.fill('#login-password', user.password);
  await page.click('#login-submit');
  await page.locator('#console-view').waitFor();
  await page.locator('#conn-status', { hasText: /^接続中$/ }).waitFor();
  return { ctx, page };
}

test('対応中: the wrap-up opened in one popup and who answered show on the other console', async () => {
  const w = await startWorker();
  const base = w.url.replace('127.0.0.1', 'localhost');
  const a = await w.login({ role: 'staff', store: '西船橋', name: '受付 一子' });
  const b = await w.login({ role: 'staff', store: '西船橋', name: '受付 二子' });
  const first = await personAt(base, a);
  const second = await personAt(base, b);
  try {
    // A call rings; 一子's console pops it; she starts the wrap-up (用件).
    const ev = callEvent({ external_number: '+819012345678' });
    const popupP = first.ctx.waitForEvent('page', (p) => p.url().includes('/popup/'));
    assert.equal((await w.sendEvent(ev)).status, 200);
    const popup = await popupP;
    await popup.locator('#customer-name', { hasText: '山田 太郎' }).waitFor();
    await popup.locator('#conn-status', { hasText: /^接続中$/ }).waitFor();
    const row = second.page.locator(`tr.call-row[data-call-id="${ev.call_id}"]`);
    await row.waitFor();
    assert.equal(await row.locator('.call-claim').count(), 0);
    await popup.getByLabel('用件').waitFor(); // the form shows once the popup's settings load
    await popup.getByLabel('用件').focus();
    // 二子 sees who has it, without reloading.
    await row.locator('.call-claim', { hasText: '対応中: 受付 一子' }).waitFor();
    await docShot(second.page, 'docs/call-claimed.png');

    // Another call is answered in Dialpad by 佐藤 花子: both consoles show it on that row.
    const t0 = Date.now();
    const ev2 = callEvent({ external_number: '+819011112222' });
    assert.equal((await w.sendEvent(ev2)).status, 200);
    const row2 = second.page.locator(`tr.call-row[data-call-id="${ev2.call_id}"]`);
    await row2.waitFor();
    await w.sendEvent({
      ...ev2,
      state: 'connected',
      date_connected: t0 + 1000,
      event_timestamp: t0 + 1000,
      target: { id: 1, name: '佐藤 花子', type: 'user' },
    });
    await row2.locator('.call-claim', { hasText: '対応中: 佐藤 花子' }).waitFor();
    await first.page
      .locator(`tr.call-row[data-call-id="${ev2.call_id}"] .call-claim`, {
        hasText: '対応中: 佐藤 花子',
      })
      .waitFor();
  } finally {
    await first.ctx.close();
    await second.ctx.close();
    await w.close();
  }
  assert.deepEqual(pageErrors.splice(0), []);
});

test('first run: no store yet → the setup card leads to 店舗; X placeholders in a test call are a clear 400', async () => {
  const w = await startWorker({ seed: false });
  const base = w.url.replace('127.0.0.1', 'localhost');
  const admin = await w.login({ role: 'admin', name: '初回 管理者' });
  const { ctx, page } = await personAt(base, admin);
  try {
    const card = page.getByRole('region', { name: '最初に店舗を登録してください' });
    await card.waitFor();
    await docShot(page, 'docs/first-run.png');
    await card.getByRole('link', { name: '店舗を登録する' }).click();
    await page.getByRole('heading', { name: '店舗', exact: true }).waitFor();
    await page.getByLabel('店舗名').fill('本店');
    await page.getByLabel('プレフィックス（カンマ・空白・改行区切り）').fill('0501748');
    await page.getByRole('button', { name: '追加する' }).click();
    await page.locator('tr.store-row', { hasText: '本店' }).waitFor();
    await page.getByRole('link', { name: '着信', exact: true }).click();
    await page.locator('#conn-status', { hasText: /^接続中$/ }).waitFor();
    await page.locator('#test-call-form, #console-view').first().waitFor();
    assert.equal(await page.locator('#first-run').count(), 0);

    // The README's example numbers: the X's are placeholders, and the answer says so.
    const res = await page.evaluate(async () => {
      const r = await fetch('/api/dialpad/test-call', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ customerPhone: '09012345678', incomingNumber: '0501748XXXX' }),
      });
      return { status: r.status, body: await r.json() };
    });
    assert.equal(res.status, 400);
    assert.equal(res.body.error.code, 'placeholder_number');
    assert.equal(res.body.error.field, 'incomingNumber');
    assert.match(res.body.error.message, /X.*置き換えて/);
  } finally {
    await ctx.close();
    await w.close();
  }
  assert.deepEqual(pageErrors.splice(0), []);
});
