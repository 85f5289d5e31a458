// @ts-check
// Browser (issue 27): the 着信分析 page opened from the nav and driven by its visible labels,
// as an admin (every store, a store picked) and as staff (their store only); each chart has
// its numbers a click away; 「CSVをダウンロード」 writes the page's tables.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { docShot, startWithBrowser } from './helpers/browser.mjs';
import { callEvent } from './helpers/worker.mjs';

let session;
let w;
let base;
let context;
let pageErrors;

before(async () => {
  session = await startWithBrowser({ login: { role: 'admin', name: '管理 花子' } });
  ({ w, base, context, pageErrors } = session);
  // Today: 西船橋 one answered and one missed call, 錦糸町 (佐藤 花子) one answered.
  const call = async (from, line, answered) => {
    const ev = callEvent({ external_number: from, internal_number: line, contact: null });
    await w.sendEvent(ev);
    const t = ev.date_started + 4000;
    if (answered) {
      await w.sendEvent({ ...ev, state: 'connected', date_connected: t, event_timestamp: t });
      await w.sendEvent({
        ...ev,
        state: 'hangup',
        date_connected: t,
        date_ended: t + 60000,
        event_timestamp: t + 1,
      });
    } else {
      await w.sendEvent({ ...ev, state: 'hangup', date_ended: t, event_timestamp: t });
    }
  };
  await call('+819012345678', '+815017481234', true);
  await call('+818055560001', '+815017481234', false);
  await call('+818011112222', '+815017491234', true);
});

after(() => session?.close());

afterEach(() => {
  assert.deepEqual(pageErrors.splice(0), []);
});

const storeRows = async (page) =>
  page
    .getByRole('table', { name: '店舗別の着信' })
    .locator('tbody tr')
    .evaluateAll((rows) => rows.map((r) => [...r.cells].map((c) => c.textContent)));

test('admin: 着信分析 from the nav, every store, then one store picked; numbers a click away; CSV', async () => {
  const page = await context.newPage();
  await page.goto(`${base}/admin/`);
  await page.getByRole('link', { name: '着信分析' }).click();
  await page.getByRole('heading', { name: '着信分析' }).waitFor();
  await page.getByLabel('期間', { exact: true }).selectOption({ label: '今日' });
  await page.getByRole('table', { name: '店舗別の着信' }).waitFor();
  await page.waitForFunction(() =>
    document.querySelector('#rp-status')?.textContent.startsWith('集計しました'),
  );
  const rows = await storeRows(page);
  assert.deepEqual(
    rows.map((r) => r.slice(0, 6)),
    [
      ['西船橋', '2', '1', '1', '0', '50%'],
      ['錦糸町', '1', '1', '0', '0', '100%'],
      ['合計', '3', '2', '1', '0', '66.7%'],
    ],
  );
  // Charts have accessible names and their numbers one click away.
  assert.equal(await page.getByRole('img', { name: /着信数（曜日×時間帯/ }).count(), 1);
  assert.equal(await page.getByRole('img', { name: /着信数の推移/ }).count(), 1);
  const heatTable = page.getByRole('table', { name: '曜日×時間帯の着信数' });
  assert.equal(await heatTable.isVisible(), false);
  await page.getByText('数値を表示').first().click();
  await heatTable.waitFor();
  assert.equal(
    await page.getByRole('cell', { name: '080-5556-0001' }).count(),
    0,
    'one call only: not a repeat caller',
  );
  await page.setViewportSize({ width: 1280, height: 900 });
  await docShot(page, 'docs/reports.png', { fullPage: true });

  // One store picked.
  await page.getByRole('checkbox', { name: '錦糸町' }).check();
  await page.getByRole('button', { name: '集計する', exact: true }).click();
  await page.waitForFunction(
    () =>
      [...document.querySelectorAll('table caption')].some(
        (c) => c.textContent === '店舗別の着信',
      ) && document.querySelectorAll('table')[0].tBodies[0].rows.length === 1,
  );
  assert.deepEqual(
    (await storeRows(page)).map((r) => r[0]),
    ['錦糸町'],
  );

  // CSV of the page's tables.
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'CSVをダウンロード' }).click(),
  ]);
  const csv = await readFile(await download.path(), 'utf8');
  assert.ok(csv.startsWith('\uFEFF店舗別の着信'), csv.slice(0, 40));
  assert.match(csv, /錦糸町,1,1,0,0,100%/);
  assert.match(csv, /曜日×時間帯の着信数/);
  await page.close();
});

test('staff: their store only, no store picker, no other store name', async () => {
  const staff = await w.login({
    role: 'staff',
    store: (await w.db.prepare("SELECT id FROM stores WHERE name = '西船橋'").first()).id,
  });
  const ctx = await session.browser.newContext();
  const res = await ctx.request.post(`${base}/api/auth/login`, {
    data: { loginId: staff.login, password: staff.password },
  });
  assert.equal(res.status(), 200);
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${base}/admin/`);
  await page.getByRole('link', { name: '着信分析' }).click();
  await page.getByLabel('期間', { exact: true }).selectOption({ label: '今日' });
  await page.waitForFunction(() =>
    document.querySelector('#rp-status')?.textContent.startsWith('集計しました'),
  );
  assert.deepEqual(
    (await storeRows(page)).map((r) => r.slice(0, 3)),
    [['西船橋', '2', '1']],
  );
  assert.equal(await page.getByRole('checkbox', { name: '錦糸町' }).count(), 0);
  const text = await page.locator('main').textContent();
  assert.ok(!text.includes('錦糸町') && !text.includes('佐藤'), 'nothing of another store');
  assert.deepEqual(errors, []);
  await ctx.close();
});
