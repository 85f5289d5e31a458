// @ts-check
// Browser: sessions ending on screen. 「すべての端末からログアウト」 in one browser sends every
// console of that user (another browser too) back to the login screen; a change made straight
// in D1 (the user CLI) does the same through the hub's re-check.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { WAIT, startWithBrowser } from './helpers/browser.mjs';

let w;
let base;
let browser;
let context;
let pageErrors;

let session;
before(async () => {
  session = await startWithBrowser({ worker: { bindings: { HUB_RECHECK_SECS: '1' } } });
  ({ w, base, browser, context, pageErrors } = session);
});

after(() => session?.close());

async function consoleIn(ctx, account) {
  const page = await ctx.newPage();
  await page.goto(`${base}/admin/`);
  await page.locator('#login-form').waitFor();
  await page.fill('#login-id', account.login);
  await page.fill('#login-password', account.password);
  await page.click('#login-submit');
  await page.locator('#console-view').waitFor();
  await page.locator('#conn-status', { hasText: /^接続中$/ }).waitFor();
  return page;
}

test('すべての端末からログアウト sends every console of the user back to the login screen', async () => {
  const account = await w.login({ role: 'staff', store: '西船橋', name: '端末 一郎' });
  const other = await browser.newContext({ viewport: null, locale: 'ja-JP' });
  other.setDefaultTimeout(WAIT);
  try {
    const here = await consoleIn(context, account);
    const there = await consoleIn(other, account);
    // The session cookie is invisible to page scripts.
    assert.equal(await here.evaluate(() => document.cookie), '');
    const button = here.getByRole('button', { name: 'すべての端末からログアウト' });
    await button.click();
    await here.locator('#login-form').waitFor();
    // The other browser's console was cut by the hub (4001) and shows the login screen.
    await there.locator('#login-view').waitFor({ state: 'visible' });
    await there.locator('#login-form').waitFor();
    assert.equal(await there.locator('#console-view').isHidden(), true);
    // And its cookie no longer works server-side.
    const me = await there.evaluate(async () => (await fetch('/api/auth/me')).status);
    assert.equal(me, 401);
  } finally {
    await other.close();
  }
  assert.deepEqual(pageErrors.splice(0), []);
});

test('disabling the user straight in D1 shows the login screen on their open console', async () => {
  const account = await w.login({ role: 'admin', name: '無効 次郎' });
  const page = await consoleIn(context, account);
  await w.db
    .prepare('UPDATE users SET disabled = 1, token_version = token_version + 1 WHERE login_id = ?1')
    .bind(account.login)
    .run();
  await page.locator('#login-view').waitFor({ state: 'visible' });
  await page.locator('#login-form').waitFor();
  assert.deepEqual(pageErrors.splice(0), []);
});
