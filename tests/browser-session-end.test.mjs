// @ts-check
// Browser: a session that ends shows the login screen on the open console at once (issue 23,
// "Logout"): a logout of that session made elsewhere (measured: under 2 s, the hub closes the
// socket with 4001 before the logout answers), and an idle session (SESSION_IDLE_SECS here)
// through the hub's re-check.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWithBrowser } from './helpers/browser.mjs';

const IDLE_SECS = 600;
let s;
before(async () => {
  s = await startWithBrowser({
    worker: { bindings: { HUB_RECHECK_SECS: '1', SESSION_IDLE_SECS: String(IDLE_SECS) } },
  });
});
after(() => s?.close());

async function openConsole() {
  const { w, base, context } = s;
  const account = await w.login({ role: 'staff', store: '西船橋', name: '受付 五郎' });
  const page = await context.newPage();
  await page.goto(`${base}/admin/`);
  await page.locator('#login-form').waitFor();
  await page.fill('#login-id', account.login);
  await page.fill('#login-password', account.password);
  await page.click('#login-submit');
  await page.locator('#console-view').waitFor();
  await page.locator('#conn-status', { hasText: /^接続中$/ }).waitFor();
  const cookie = (await context.cookies()).find((c) => c.name === '__Host-cti_session');
  return { page, token: cookie.value };
}

test("a logout of the console's session (from another tab or device) shows the login screen within 2 s", async () => {
  const { page, token } = await openConsole();
  const started = Date.now();
  const out = await s.w.json('/api/auth/logout', {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
  });
  assert.equal(out.status, 200);
  await page.locator('#login-view').waitFor({ state: 'visible' });
  const took = Date.now() - started;
  assert.ok(took < 2000, `login screen after ${took} ms`);
  await page.close();
});

test('a console left idle past SESSION_IDLE_SECS asks for the login again', async () => {
  const { page, token } = await openConsole();
  const sid = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()).sid;
  // Last used longer ago than the timeout (as a store PC left overnight).
  await s.w.db
    .prepare('UPDATE sessions SET last_seen = ?2 WHERE id = ?1')
    .bind(sid, Math.floor(Date.now() / 1000) - IDLE_SECS - 1)
    .run();
  await page.locator('#login-view').waitFor({ state: 'visible' });
  assert.equal(await page.evaluate(async () => (await fetch('/api/auth/me')).status), 401);
  await page.close();
});
