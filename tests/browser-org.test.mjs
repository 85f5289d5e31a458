// @ts-check
// Browser (issue 25): on アカウント an admin changes a user's stores (a checkbox per store) and
// role (the 4 roles), by visible labels, with the API's guards: demoting another admin asks for
// the admin's own password; the change ends the user's sessions; the list shows the new stores
// and role; and the API reads back what the page saved.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { WAIT, startWithBrowser } from './helpers/browser.mjs';
import { callEvent } from './helpers/worker.mjs';

let w;
let base;
let browser;
let context;
let pageErrors;
let session;

before(async () => {
  session = await startWithBrowser();
  ({ w, base, browser, context, pageErrors } = session);
});

after(() => session?.close());

/** @param {import('playwright-core').Page} page @param {string} login @param {string} password */
async function logIn(page, login, password) {
  await page.goto(`${base}/admin/`);
  await page.locator('#login-form').waitFor();
  await page.fill('#login-id', login);
  await page.fill('#login-password', password);
  await page.click('#login-submit');
  await page.locator('#console-view').waitFor();
}

/** @param {string} login */
const userRow = async (login) =>
  w.db
    .prepare(
      'SELECT u.id, coalesce(u.org_role, u.role) AS role, u.store_id, (SELECT group_concat(s.name, ",") FROM (SELECT st.name FROM user_stores us JOIN stores st ON st.id = us.store_id WHERE us.user_id = u.id ORDER BY st.id) s) AS stores FROM users u WHERE u.login_id = ?1',
    )
    .bind(login)
    .first();

test('an admin gives a staff member a second store and a new role on アカウント, by visible labels', async () => {
  const admin = await w.login({ role: 'admin', name: '管理 一郎' });
  const staff = await w.login({ role: 'staff', store: '西船橋', name: '店員 二店子' });
  const staffSocket = await w.openSocket(staff);
  const page = await context.newPage();
  await logIn(page, admin.login, admin.password);
  await page.getByRole('link', { name: 'アカウント' }).click();
  await page.getByRole('heading', { name: 'アカウント', exact: true }).waitFor();

  const row = page.locator(`tr.account-row[data-login="${staff.login}"]`);
  assert.equal(await row.locator('.account-store').textContent(), '西船橋');
  await row.getByRole('button', { name: '権限・店舗を変更' }).click();
  const edit = page.locator('tr.edit-row');
  const stores = edit.getByRole('group', { name: '店員 二店子 の店舗' });
  assert.equal(await stores.getByLabel('西船橋').isChecked(), true);
  assert.equal(await stores.getByLabel('錦糸町').isChecked(), false);
  await stores.getByLabel('錦糸町').check();
  await edit.getByLabel('店員 二店子 の権限').selectOption({ label: 'エリアマネージャー' });
  await edit.getByRole('button', { name: '保存する' }).click();
  await page
    .locator('#add-status', { hasText: '店員 二店子 の権限と店舗を変更しました' })
    .waitFor();
  await row.locator('.account-store', { hasText: '西船橋、錦糸町' }).waitFor();
  await row.locator('.account-role', { hasText: 'エリアマネージャー' }).waitFor();
  const saved = await userRow(staff.login);
  assert.deepEqual([saved.role, saved.stores], ['area_manager', '西船橋,錦糸町']);
  assert.equal(await staffSocket.closedWith(), 4001, 'the change ended their sessions');

  // Every store unticked: a staff member or area manager needs one (the API's 400, shown).
  await row.getByRole('button', { name: '権限・店舗を変更' }).click();
  const again = page.locator('tr.edit-row');
  await again.getByRole('group', { name: '店員 二店子 の店舗' }).getByLabel('西船橋').uncheck();
  await again.getByRole('group', { name: '店員 二店子 の店舗' }).getByLabel('錦糸町').uncheck();
  await again.getByRole('button', { name: '保存する' }).click();
  await again.getByRole('alert').filter({ hasText: 'スタッフには店舗を選んでください' }).waitFor();
  // 受付センター needs none.
  await again.getByLabel('店員 二店子 の権限').selectOption({ label: '受付センター' });
  await again.getByRole('button', { name: '保存する' }).click();
  await row.locator('.account-role', { hasText: '受付センター' }).waitFor();
  assert.deepEqual(
    [(await userRow(staff.login)).role, (await userRow(staff.login)).stores],
    ['reception', null],
  );
  assert.deepEqual(pageErrors, []);
  await page.close();
});

test("demoting another admin on アカウント asks for your own password (the API's re-auth guard)", async () => {
  const admin = await w.login({ role: 'admin', name: '管理 三郎' });
  const other = await w.login({ role: 'admin', name: '管理 四郎' });
  // A browser of its own: the first test's admin is signed in in the shared one.
  const ctx = await browser.newContext({ viewport: null, locale: 'ja-JP' });
  ctx.setDefaultTimeout(WAIT);
  const page = await ctx.newPage();
  await logIn(page, admin.login, admin.password);
  await page.goto(`${base}/admin/accounts.html`);
  const row = page.locator(`tr.account-row[data-login="${other.login}"]`);
  await row.getByRole('button', { name: '権限・店舗を変更' }).click();
  const edit = page.locator('tr.edit-row');
  await edit.getByLabel('管理 四郎 の権限').selectOption({ label: 'スタッフ' });
  await edit.getByRole('group', { name: '管理 四郎 の店舗' }).getByLabel('葛西').check();
  await edit.getByRole('button', { name: '保存する' }).click();
  await edit
    .getByRole('alert')
    .filter({ hasText: 'あなたのパスワードを入力してください' })
    .waitFor();
  assert.equal((await userRow(other.login)).role, 'admin', 'nothing changed without it');
  await edit.getByLabel(/あなたのパスワード/).fill(admin.password);
  await edit.getByRole('button', { name: '保存する' }).click();
  await row.locator('.account-role', { hasText: 'スタッフ' }).waitFor();
  const saved = await userRow(other.login);
  assert.deepEqual([saved.role, saved.stores], ['staff', '葛西']);
  // Your own row offers no role change away from admin: the API refuses it (own_account).
  const mine = page.locator(`tr.account-row[data-login="${admin.login}"]`);
  await mine.getByRole('button', { name: '権限・店舗を変更' }).click();
  const own = page.locator('tr.edit-row');
  await own.getByLabel('管理 三郎 の権限').selectOption({ label: 'スタッフ' });
  await own.getByRole('group', { name: '管理 三郎 の店舗' }).getByLabel('西船橋').check();
  await own.getByRole('button', { name: '保存する' }).click();
  await own.getByRole('alert').filter({ hasText: '自分のアカウント' }).waitFor();
  assert.equal((await userRow(admin.login)).role, 'admin');
  await ctx.close();
});

test('the header and the nav follow the role: an area manager with two stores, a reception desk', async () => {
  const area = await w.login({
    role: 'area_manager',
    stores: ['西船橋', '錦糸町'],
    name: '地区 長子',
  });
  const desk = await w.login({ role: 'reception', name: '受付 夜子' });
  for (const [who, roleText, stores, links, hidden] of [
    [
      area,
      'エリアマネージャー',
      '西船橋・錦糸町',
      ['着信', '顧客', '着信履歴', '折り返し', '着信分析'],
      ['アカウント'],
    ],
    [
      desk,
      '受付センター',
      '',
      ['着信', '着信履歴', '折り返し'],
      ['顧客', '着信分析', 'アカウント'],
    ],
  ]) {
    const ctx = await browser.newContext({ viewport: null, locale: 'ja-JP' });
    ctx.setDefaultTimeout(WAIT);
    const page = await ctx.newPage();
    await logIn(page, who.login, who.password);
    await page.locator('#user-role', { hasText: roleText }).waitFor();
    if (stores) await page.locator('#user-store', { hasText: stores }).waitFor();
    const nav = page.locator('.topnav');
    for (const name of links)
      assert.equal(
        await nav.getByRole('link', { name, exact: true }).isVisible(),
        true,
        `${roleText}: ${name}`,
      );
    for (const name of hidden)
      assert.equal(
        await nav.getByRole('link', { name, exact: true }).isVisible(),
        false,
        `${roleText}: no ${name}`,
      );
    await ctx.close();
  }
});

test('the reception desk registers an unknown caller from the popup for the store that was called, and the card is read-only', async () => {
  const desk = await w.login({ role: 'reception', name: '受付 登録子' });
  const ctx = await browser.newContext({ viewport: null, locale: 'ja-JP' });
  ctx.setDefaultTimeout(WAIT);
  const page = await ctx.newPage();
  await logIn(page, desk.login, desk.password);
  await page.locator('#conn-status', { hasText: /^接続中$/ }).waitFor();
  // A number nobody has, calling 西船橋 (the event's target).
  const popupP = ctx.waitForEvent('page');
  const ev = callEvent({ external_number: '+818055501234', contact: null });
  const res = await w.sendEvent(ev);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const popup = await popupP;
  await popup.getByRole('button', { name: '登録する', exact: true }).waitFor();
  await popup.getByLabel('氏名').first().fill('夜間 受付');
  await popup.getByRole('button', { name: '登録する', exact: true }).click();
  await popup.locator('#customer-name', { hasText: /^夜間 受付$/ }).waitFor();
  // Registered for 西船橋, and the desk does not get an editor for it.
  await popup.getByText('メモは閲覧のみです').waitFor();
  assert.equal(await popup.getByRole('button', { name: '編集', exact: true }).isVisible(), false);
  const row = await w.db
    .prepare(
      'SELECT c.name, s.name AS store FROM customers c JOIN customer_phones p ON p.customer_id = c.id LEFT JOIN stores s ON s.id = c.home_store_id WHERE p.phone = ?1',
    )
    .bind('08055501234')
    .first();
  assert.deepEqual(row, { name: '夜間 受付', store: '西船橋' });
  await ctx.close();
});
