// @ts-check
// Browser: the アカウント page. An admin adds a staff account; the staff member logs in in
// another browser with the password shown once; the admin disables them (their console shows
// the login screen at once), enables them again, and resets the password (the new one is shown
// once, the old one stops working, and the console open with it is cut).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { WAIT, startWithBrowser, docShot } from './helpers/browser.mjs';

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

async function logIn(page, login, password) {
  await page.goto(`${base}/admin/`);
  await page.locator('#login-form').waitFor();
  await page.fill('#login-id', login);
  await page.fill('#login-password', password);
  await page.click('#login-submit');
}

async function consoleIn(page, login, password) {
  await logIn(page, login, password);
  await page.locator('#console-view').waitFor();
  await page.locator('#conn-status', { hasText: /^接続中$/ }).waitFor();
}

test('an admin adds, disables, enables and resets a staff account; the staff console follows', async () => {
  const admin = await w.login({ role: 'admin', name: '管理 太郎' });
  const other = await browser.newContext({ viewport: null, locale: 'ja-JP' });
  other.setDefaultTimeout(WAIT);
  try {
    const page = await context.newPage();
    await consoleIn(page, admin.login, admin.password);
    await page.getByRole('link', { name: 'アカウント' }).click();
    await page.getByRole('heading', { name: 'アカウント', exact: true }).waitFor();

    // Add a staff member of 西船橋 with a generated password.
    const add = page.locator('#add-form');
    await add.getByLabel('ログインID').fill('hanako');
    await add.getByLabel('表示名').fill('受付 花子');
    await add.getByLabel('権限').selectOption({ label: 'スタッフ' });
    await add.getByLabel('店舗').selectOption({ label: '西船橋' });
    // A typed password must follow the policy.
    await add.getByLabel('パスワード（空欄なら自動生成）').fill('short');
    await add.getByRole('button', { name: '追加する' }).click();
    await add.getByRole('alert').filter({ hasText: '12文字以上' }).waitFor();
    await add.getByLabel('パスワード（空欄なら自動生成）').fill('');
    await add.getByRole('button', { name: '追加する' }).click();
    const shown = page.locator('#new-password');
    await shown.filter({ hasText: /^.{16}$/ }).waitFor();
    const first = await shown.textContent();
    const row = page.locator('tr.account-row', { hasText: 'hanako' });
    await row
      .filter({ hasText: '受付 花子' })
      .filter({ hasText: '西船橋' })
      .filter({ hasText: '有効' })
      .waitFor();
    // Shown once: a reload does not bring it back.
    await page.reload();
    await row.waitFor();
    assert.equal(await page.locator('#password-shown').isHidden(), true);
    assert.equal((await page.locator('#new-password').textContent()).trim(), '');

    // The staff member logs in in another browser.
    const staff = await other.newPage();
    await consoleIn(staff, 'hanako', first);
    await staff.locator('#user-name', { hasText: '受付 花子' }).waitFor();

    // 無効にする asks first; キャンセル changes nothing.
    await row.getByRole('button', { name: '無効にする' }).click();
    const confirm = page.getByRole('dialog', { name: /受付 花子（hanako）を無効にしますか/ });
    await confirm.getByRole('button', { name: 'キャンセル' }).click();
    await confirm.waitFor({ state: 'detached' });
    await row.filter({ hasText: '有効' }).getByRole('button', { name: '無効にする' }).waitFor();
    assert.equal(await staff.locator('#console-view').isVisible(), true);

    // Disabled: their console shows the login screen, and they cannot log in.
    await row.getByRole('button', { name: '無効にする' }).click();
    await confirm.getByRole('button', { name: '無効にする' }).click();
    await row.filter({ hasText: '無効' }).getByRole('button', { name: '有効にする' }).waitFor();
    await staff.locator('#login-view').waitFor({ state: 'visible' });
    assert.equal(await staff.locator('#console-view').isHidden(), true);
    await docShot(page, 'docs/accounts.png');
    await logIn(staff, 'hanako', first);
    await staff.locator('#login-error').filter({ hasText: /.+/ }).waitFor();

    // Enabled again: the same password works.
    await row.getByRole('button', { name: '有効にする' }).click();
    await row.getByRole('button', { name: '無効にする' }).waitFor();
    await consoleIn(staff, 'hanako', first);

    // Password reset: a new one shown once; the open console is cut; the old one is refused.
    await row.getByRole('button', { name: 'パスワード再設定' }).click();
    const reset = page.locator('tr.reset-row');
    await reset.getByLabel('受付 花子 の新しいパスワード').fill('password1234');
    await reset.getByRole('button', { name: '再設定する' }).click();
    await reset.getByRole('alert').filter({ hasText: 'よく使われる' }).waitFor();
    await reset.getByLabel('受付 花子 の新しいパスワード').fill('');
    await reset.getByRole('button', { name: '再設定する' }).click();
    await page.locator('#password-shown').waitFor({ state: 'visible' });
    const second = await shown.textContent();
    assert.match(second, /^.{16}$/);
    assert.notEqual(second, first);
    await staff.locator('#login-view').waitFor({ state: 'visible' });
    await logIn(staff, 'hanako', first);
    await staff.locator('#login-error').filter({ hasText: /.+/ }).waitFor();
    await consoleIn(staff, 'hanako', second);
  } finally {
    await other.close();
  }
  assert.deepEqual(pageErrors.splice(0), []);
});

test('the accounts API: admins only, clear 4xx errors, no hashes, the own account protected', async () => {
  const admin = await w.login({ role: 'admin', name: '管理 次郎' });
  const staff = await w.login({ role: 'staff', store: '西船橋', name: '店員 三郎' });
  const as = (who) => ({
    authorization: `Bearer ${who.token}`,
    'content-type': 'application/json',
  });
  const call = async (who, method, path, body) => {
    const res = await fetch(`${w.url}${path}`, {
      method,
      headers: as(who),
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: await res.json() };
  };
  assert.equal((await call(staff, 'GET', '/api/users')).status, 403);
  const list = await call(admin, 'GET', '/api/users');
  assert.equal(list.status, 200);
  assert.ok(list.body.users.length >= 2);
  assert.ok(list.body.users.every((u) => !('passwordHash' in u) && !('password_hash' in u)));
  const missingStore = await call(admin, 'POST', '/api/users', {
    loginId: 'nostore',
    role: 'staff',
  });
  assert.equal(missingStore.status, 400);
  assert.equal(missingStore.body.error.code, 'store_required');
  const badRole = await call(admin, 'POST', '/api/users', { loginId: 'x1', role: 'owner' });
  assert.equal(badRole.body.error.code, 'invalid_role');
  const typed = await call(admin, 'POST', '/api/users', {
    loginId: 'typed',
    role: 'admin',
    password: 'correct horse battery',
  });
  assert.equal(typed.status, 201);
  assert.equal(typed.body.password, null);
  const taken = await call(admin, 'POST', '/api/users', { loginId: 'TYPED', role: 'admin' });
  assert.equal(taken.status, 409);
  assert.equal(taken.body.error.code, 'login_id_taken');
  const me = (await call(admin, 'GET', '/api/auth/me')).body.user;
  const self = await call(admin, 'PATCH', `/api/users/${me.id}`, { disabled: true });
  assert.equal(self.status, 409);
  assert.equal(self.body.error.code, 'own_account');
  const unknown = await call(admin, 'PATCH', '/api/users/999999', { name: 'x' });
  assert.equal(unknown.status, 404);
  const staffId = list.body.users.find((u) => u.loginId === staff.login).id;
  const noStore = await call(admin, 'PATCH', `/api/users/${staffId}`, { storeId: null });
  assert.equal(noStore.body.error.code, 'store_required');
  const junk = await call(admin, 'PATCH', `/api/users/${staffId}`, { password: 'x' });
  assert.equal(junk.status, 400);
  // A role change ends the user's sessions.
  const promoted = await call(admin, 'PATCH', `/api/users/${staffId}`, { role: 'admin' });
  assert.equal(promoted.status, 200);
  assert.equal(promoted.body.user.role, 'admin');
  assert.equal((await call(staff, 'GET', '/api/auth/me')).status, 401);
});
