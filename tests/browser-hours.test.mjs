// @ts-check
// Browser (issue 25, business hours), driven by visible labels: 店舗's hours editor (weekly
// hours, holidays, its clear error), the 時間外 badge in 着信履歴 and on the console's row, the
// overdue badge beside 折り返し's count (red, with an accessible label) and the due line of an
// item, and the required-wrap-up reminder in the popup (a notice, cleared by saving a 用件).
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { startWithBrowser, apiAs } from './helpers/browser.mjs';
import { callEvent } from './helpers/worker.mjs';

const JST = 9 * 3600 * 1000;
const DAY = 86400 * 1000;
const ymd = (day) => new Date(day * DAY).toISOString().slice(0, 10);
const todayJst = () => Math.floor((Date.now() + JST) / DAY);
const ALWAYS = {
  weekly: Array.from({ length: 7 }, () => [{ open: '00:00', close: '24:00' }]),
  holidays: [],
};
const CLOSED = () => ({
  weekly: Array.from({ length: 7 }, () => []),
  holidays: [{ date: ymd(todayJst() + 1), ranges: [{ open: '10:00', close: '12:00' }] }],
});

let w;
let base;
let context;
let pageErrors;
let admin;
let session;
let call;
let stores;

before(async () => {
  session = await startWithBrowser({ login: { role: 'admin', name: '管理 みどり' } });
  ({ w, base, account: admin, context, pageErrors } = session);
  call = apiAs(w, admin);
  stores = Object.fromEntries((await call('/api/stores')).body.stores.map((s) => [s.name, s.id]));
});

after(() => session?.close());

afterEach(() => {
  assert.deepEqual(pageErrors.splice(0), []);
});

async function missedCall(caller, line = '+815017481234') {
  const ev = callEvent({ external_number: caller, internal_number: line, contact: null });
  await w.sendEvent(ev);
  const t = Date.now();
  await w.sendEvent({ ...ev, state: 'hangup', event_timestamp: t, date_ended: t });
  return String(ev.call_id);
}

test('店舗: the hours editor saves weekly hours and holidays by label, and shows the server error', async () => {
  const page = await context.newPage();
  await page.goto(`${base}/admin/stores.html`);
  await page.getByLabel('営業時間を設定する店舗').selectOption({ label: '錦糸町' });
  await page
    .locator(`#hours-form[data-loaded="${stores['錦糸町']}"]`)
    .waitFor({ state: 'attached' });
  for (const d of ['月', '火', '水', '木', '金'])
    await page.getByLabel(`${d}曜日`).fill('10:00-20:00');
  await page.getByLabel('土曜日').fill('10:00-14:00, 15:00-18:00');
  await page.getByLabel('日曜日').fill('');
  await page
    .getByLabel('休業日・特別営業日（1行に1日）')
    .fill('2030-12-31\n2031-01-03 13:00-17:00');
  await page
    .getByLabel('応答した着信は用件を入力してからポップアップを閉じる（閉じる前に知らせる）')
    .check();
  await page.getByRole('button', { name: '営業時間を保存' }).click();
  await page.locator('#hours-status', { hasText: '営業時間を保存しました' }).waitFor();
  await page.locator('#hours-state', { hasText: '現在:' }).waitFor();
  const saved = (await call(`/api/stores/${stores['錦糸町']}/hours`)).body;
  assert.deepEqual(saved.hours.weekly[5], [
    { open: '10:00', close: '14:00' },
    { open: '15:00', close: '18:00' },
  ]);
  assert.deepEqual(saved.hours.weekly[6], []);
  assert.deepEqual(
    saved.hours.holidays.map((h) => [h.date, h.ranges.length]),
    [
      ['2030-12-31', 0],
      ['2031-01-03', 1],
    ],
  );
  assert.equal(saved.requireWrapup, true);
  // Reloaded, the form shows what was saved.
  await page.reload();
  await page.getByLabel('営業時間を設定する店舗').selectOption({ label: '錦糸町' });
  await page
    .locator(`#hours-form[data-loaded="${stores['錦糸町']}"]`)
    .waitFor({ state: 'attached' });
  assert.equal(await page.getByLabel('土曜日').inputValue(), '10:00-14:00, 15:00-18:00');
  // A bad time: the server's message, nothing saved.
  await page.getByLabel('月曜日').fill('25:00-26:00');
  await page.getByRole('button', { name: '営業時間を保存' }).click();
  await page.locator('#hours-error', { hasText: '月曜日' }).waitFor();
  assert.deepEqual((await call(`/api/stores/${stores['錦糸町']}/hours`)).body.hours.weekly[0], [
    { open: '10:00', close: '20:00' },
  ]);
  await call(`/api/stores/${stores['錦糸町']}/hours`, {
    method: 'PUT',
    body: { hours: ALWAYS, requireWrapup: false },
  });
  await page.close();
});

test('時間外: a call outside its store hours carries the badge in 着信履歴 and on the console row', async () => {
  await call(`/api/stores/${stores['西船橋']}/hours`, { method: 'PUT', body: { hours: CLOSED() } });
  try {
    const outId = await missedCall('+818044440001');
    const log = await context.newPage();
    await log.goto(`${base}/admin/calls.html`);
    const row = log.locator('#calls-body tr', { hasText: '080-4444-0001' });
    await row.waitFor();
    await row.getByText('時間外', { exact: true }).waitFor();
    await log.close();
    const consolePage = await context.newPage();
    await consolePage.goto(`${base}/admin/`);
    const crow = consolePage.locator(`tr.call-row[data-call-id="${outId}"]`);
    await crow.getByText('時間外', { exact: true }).waitFor();
    // The console setting, on by default.
    assert.equal(await consolePage.getByLabel('営業時間外は着信音を鳴らさない').isChecked(), true);
    await consolePage.close();
  } finally {
    await call(`/api/stores/${stores['西船橋']}/hours`, { method: 'PUT', body: { hours: ALWAYS } });
  }
  // Inside hours: no badge.
  await missedCall('+818044440002');
  const log = await context.newPage();
  await log.goto(`${base}/admin/calls.html`);
  const row = log.locator('#calls-body tr', { hasText: '080-4444-0002' });
  await row.waitFor();
  assert.equal(await row.getByText('時間外', { exact: true }).count(), 0);
  await log.close();
});

test('折り返し: an overdue item is red with 期限切れ, and the nav shows the overdue count beside the open count', async () => {
  await missedCall('+818044440003');
  const items = (await call('/api/callbacks?status=all&perPage=100')).body.callbacks;
  const item = items.find((c) => c.phone === '08044440003');
  assert.ok(item);
  const page = await context.newPage();
  await page.goto(`${base}/admin/callbacks.html`);
  const row = page.locator('#cb-body tr', { hasText: '080-4444-0003' });
  await row.locator('.cb-due', { hasText: '期限 ' }).waitFor();
  assert.equal(
    await page
      .locator('#callback-overdue')
      .isVisible()
      .catch(() => false),
    false,
  );
  assert.equal(
    (
      await call(`/api/callbacks/${item.id}`, {
        method: 'PATCH',
        body: { dueAt: Date.now() - 60_000 },
      })
    ).status,
    200,
  );
  await row.locator('.cb-due.cb-overdue', { hasText: '期限切れ' }).waitFor();
  const badge = page.getByLabel(/期限切れの折り返し \d+件/);
  await badge.waitFor();
  assert.match(await badge.textContent(), /期限切れ [1-9]/);
  const color = await page
    .locator('.cb-due.cb-overdue')
    .first()
    .evaluate((n) => getComputedStyle(n).color);
  assert.equal(color, 'rgb(201, 42, 42)');
  // Assigned to someone of the store through the select.
  await row.getByLabel('割り当て先 080-4444-0003').selectOption({ label: '管理 みどり' });
  await row.locator('.cb-owner', { hasText: '管理 みどり' }).waitFor();
  await page.close();
});

test('required wrap-up: an answered call of a store that requires it shows a reminder until a 用件 is saved', async () => {
  await call(`/api/stores/${stores['西船橋']}/hours`, {
    method: 'PUT',
    body: { requireWrapup: true },
  });
  try {
    const ev = callEvent({ external_number: '+818044440004', contact: null });
    await w.sendEvent(ev);
    const c = Date.now();
    await w.sendEvent({ ...ev, state: 'connected', date_connected: c, event_timestamp: c });
    const popup = await context.newPage();
    await popup.goto(`${base}/admin/popup/cti?callId=${ev.call_id}`);
    const notice = popup.getByText('この店舗では、応答した着信は用件を入力してから閉じます', {
      exact: false,
    });
    await notice.waitFor();
    // Closing is still possible (a reminder, not a trap); the browser asks first.
    const asked = await popup.evaluate(() => {
      const e = new Event('beforeunload', { cancelable: true });
      window.dispatchEvent(e);
      return e.defaultPrevented;
    });
    assert.equal(asked, true);
    await popup.getByLabel('用件').selectOption({ index: 1 });
    await popup.getByRole('button', { name: '対応記録を保存' }).click();
    await notice.waitFor({ state: 'hidden' });
    const after = await popup.evaluate(() => {
      const e = new Event('beforeunload', { cancelable: true });
      window.dispatchEvent(e);
      return e.defaultPrevented;
    });
    assert.equal(after, false);
    await popup.close();
  } finally {
    await call(`/api/stores/${stores['西船橋']}/hours`, {
      method: 'PUT',
      body: { requireWrapup: false },
    });
  }
});

test('設定: 営業日切替, 折り返しの期限 and the required outcome are saved by label; a closed item without a 結果 says why', async () => {
  const page = await context.newPage();
  await page.goto(`${base}/admin/settings.html`);
  await page.getByLabel('営業日切替（この時刻より前の着信は前日の営業日）').fill('05:00');
  await page
    .getByLabel('折り返しの期限（営業時間内の着信から何分以内。時間外は次の営業開始から）')
    .fill('45');
  await page.getByLabel('折り返しを完了にするには対応結果の記録を必須にする').check();
  await page.getByRole('button', { name: '営業日と折り返しを保存' }).click();
  await page.locator('#hours-settings-status[data-kind="ok"]').waitFor();
  try {
    assert.deepEqual((await call('/api/settings/hours')).body.settings, {
      businessDayCutoff: '05:00',
      callbackDueMinutes: 45,
      callbackRequireOutcome: true,
    });
    await missedCall('+818044440005');
    const cb = await context.newPage();
    await cb.goto(`${base}/admin/callbacks.html`);
    const row = cb.locator('#cb-body tr', { hasText: '080-4444-0005' });
    await row.getByRole('button', { name: '対応済にする' }).click();
    await cb.getByText('完了にする前に、折り返しの対応結果', { exact: false }).waitFor();
    assert.match(await row.textContent(), /未対応/);
    await cb.close();
  } finally {
    await call('/api/settings/hours', {
      method: 'PUT',
      body: { businessDayCutoff: '00:00', callbackDueMinutes: 30, callbackRequireOutcome: false },
    });
  }
  await page.close();
});

test('営業時間外は着信音を鳴らさない: a call ringing outside hours pops and is marked 時間外 but does not ring until the setting is off', async () => {
  await call(`/api/stores/${stores['西船橋']}/hours`, { method: 'PUT', body: { hours: CLOSED() } });
  const page = await context.newPage();
  try {
    await page.goto(`${base}/admin/`);
    await page.locator('#conn-status', { hasText: /^接続中$/ }).waitFor();
    await page.locator('#set-ring').check();
    assert.equal(await page.getByLabel('営業時間外は着信音を鳴らさない').isChecked(), true);
    const ev = callEvent({ external_number: '+818044440006', contact: null });
    const popupP = context.waitForEvent('page');
    await w.sendEvent(ev);
    const popup = await popupP; // it still pops
    const row = page.locator(`tr.call-row[data-call-id="${ev.call_id}"]`);
    await row.getByText('時間外', { exact: true }).waitFor();
    assert.equal(await page.locator('#ring-status').isVisible(), false, 'muted');
    await page.getByLabel('営業時間外は着信音を鳴らさない').uncheck();
    await page.locator('#ring-status').waitFor({ state: 'visible' });
    await page.getByLabel('営業時間外は着信音を鳴らさない').check();
    await page.locator('#ring-status').waitFor({ state: 'hidden' });
    const t = Date.now();
    await w.sendEvent({ ...ev, state: 'hangup', event_timestamp: t, date_ended: t });
    await popup.close();
    await page.locator('#set-ring').uncheck();
  } finally {
    await call(`/api/stores/${stores['西船橋']}/hours`, { method: 'PUT', body: { hours: ALWAYS } });
    await page.close();
  }
});
