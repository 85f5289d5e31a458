// @ts-check
// Browser: フリー項目 end to end — an admin defines 「指名」 (one of a list) on 設定, sets it on
// 顧客's edit panel, and the next call's popup shows it on the card.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { startWithBrowser, apiAs } from './helpers/browser.mjs';
import { callEvent } from './helpers/worker.mjs';

let session;
let w;
let base;
let context;
let pageErrors;
let admin;
before(async () => {
  session = await startWithBrowser({ login: { role: 'admin', name: '管理 花子' } });
  ({ w, base, account: admin, context, pageErrors } = session);
});
after(() => session?.close());
afterEach(() => assert.deepEqual(pageErrors.splice(0), []));

test('設定 defines 指名, 顧客 sets it, the popup shows it on the card', async () => {
  const settings = await context.newPage();
  await settings.goto(`${base}/admin/settings.html`);
  const card = settings.locator('#custom-fields-card');
  await card.getByRole('heading', { name: 'フリー項目', exact: true }).waitFor();
  const add = card.locator('div.settings-row');
  await add.getByLabel('新しい項目の名前').fill('指名');
  await add.getByLabel('種類').selectOption('choice');
  await add.getByLabel('新しい項目の選択肢').fill('佐藤\n鈴木');
  await add.getByLabel('ポップアップのカードに表示').check();
  await add.getByRole('button', { name: 'フリー項目を追加' }).click();
  await card.locator('li.settings-row input[name="cf-label"][value="指名"]').waitFor();
  const defs = (await apiAs(w, admin)('/api/custom-fields')).body.fields;
  assert.deepEqual(
    defs.map((d) => [d.label, d.kind, d.options, d.onCard]),
    [['指名', 'choice', ['佐藤', '鈴木'], true]],
  );

  const page = await context.newPage();
  await page.goto(`${base}/admin/customers.html`);
  await page.locator('#page-view').waitFor();
  await page.fill('#search-q', '山田');
  await page.click('#search-submit');
  const row = page.locator('#customer-body tr', { hasText: '山田 太郎' });
  await row.click();
  await page.locator('#editor').waitFor({ state: 'visible' });
  await page.getByLabel('指名', { exact: true }).selectOption('鈴木');
  await page.click('#edit-save');
  await page.locator('#edit-status', { hasText: '保存しました' }).waitFor();

  const consolePage = await context.newPage();
  await consolePage.goto(`${base}/admin/`);
  await consolePage.locator('#console-view').waitFor();
  await consolePage.locator('#conn-status', { hasText: /^接続中$/ }).waitFor();
  const popupP = context.waitForEvent('page');
  const res = await w.sendEvent(
    callEvent({
      external_number: '+819012345678',
      internal_number: '+815017481111',
      contact: null,
    }),
  );
  assert.equal(res.status, 200);
  const popup = await popupP;
  await popup.locator('#customer-name', { hasText: '山田 太郎' }).waitFor();
  const fields = popup.locator('#card-fields');
  await fields.locator('.card-field', { hasText: '指名' }).waitFor();
  assert.equal(await fields.locator('dt').textContent(), '指名');
  assert.equal(await fields.locator('dd').textContent(), '鈴木');
});
