// @ts-check
// Browser: on the アカウント page, resetting another admin's password asks for the acting
// admin's own password in a labelled field (issue 23, "Accounts"); a staff account's does not.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWithBrowser } from './helpers/browser.mjs';

let w;
let base;
let context;
let pageErrors;
let session;
before(async () => {
  session = await startWithBrowser();
  ({ w, base, context, pageErrors } = session);
});
after(() => session?.close());

test("resetting another admin's password asks for your own password first", async () => {
  const me = await w.login({ role: 'admin', name: '管理 一郎' });
  const other = await w.login({ role: 'admin', name: '管理 二郎' });
  const staff = await w.login({ role: 'staff', store: '西船橋', name: '店員 四郎' });
  const page = await context.newPage();
  await page.goto(`${base}/admin/`);
  await page.locator('#login-form').waitFor();
  await page.fill('#login-id', me.login);
  await page.fill('#login-password', me.password);
  await page.click('#login-submit');
  await page.locator('#console-view').waitFor();
  await page.getByRole('link', { name: 'アカウント' }).click();
  await page.getByRole('heading', { name: 'アカウント', exact: true }).waitFor();

  // A staff account: only the new password.
  const staffRow = page.locator('tr.account-row', { hasText: staff.login });
  await staffRow.getByRole('button', { name: 'パスワード再設定' }).click();
  let reset = page.locator('tr.reset-row');
  await reset.getByLabel('店員 四郎 の新しいパスワード').waitFor();
  assert.equal(await reset.getByLabel(/あなたのパスワード/).count(), 0);
  await reset.getByRole('button', { name: 'キャンセル' }).click();

  // Another admin: your own password is asked for; empty or wrong is refused, right resets.
  const row = page.locator('tr.account-row', { hasText: other.login });
  await row.getByRole('button', { name: 'パスワード再設定' }).click();
  reset = page.locator('tr.reset-row');
  const mine = reset.getByLabel(/あなたのパスワード/);
  await mine.waitFor();
  await reset.getByRole('button', { name: '再設定する' }).click();
  await reset
    .getByRole('alert')
    .filter({ hasText: 'あなたのパスワードを入力してください' })
    .waitFor();
  await mine.fill('not-my-password-at-all');
  await reset.getByRole('button', { name: '再設定する' }).click();
  await reset.getByRole('alert').filter({ hasText: 'パスワードが違います' }).waitFor();
  assert.equal(
    (await w.json('/api/auth/me', { headers: { authorization: `Bearer ${other.token}` } })).status,
    200,
    'nothing changed',
  );
  await mine.fill(me.password);
  await reset.getByRole('button', { name: '再設定する' }).click();
  await page.locator('#password-shown').waitFor({ state: 'visible' });
  assert.match(await page.locator('#new-password').textContent(), /^.{16}$/);
  assert.equal(
    (await w.json('/api/auth/me', { headers: { authorization: `Bearer ${other.token}` } })).status,
    401,
    'their sessions ended',
  );
  assert.deepEqual(pageErrors.splice(0), []);
});
