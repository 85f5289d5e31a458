// @ts-check
// Browser (issue 23): the 店舗 page says why a store with customers or accounts cannot be
// deleted (409 store_in_use, naming how many), and deletes it once they are moved.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { startWithBrowser, apiAs } from './helpers/browser.mjs';

let session;
before(async () => {
  session = await startWithBrowser({ login: { role: 'admin' } });
});
after(() => session?.close());
afterEach(() => {
  assert.deepEqual(session.pageErrors.splice(0), []);
});

test('店舗: deleting a store in use shows how many customers and accounts to move first', async () => {
  const { w, base, context, account } = session;
  const api = apiAs(w, account);
  const store = await api('/api/stores', {
    method: 'POST',
    body: { name: '閉店予定 本町', prefixes: ['0509970'] },
  });
  assert.equal(store.status, 201, JSON.stringify(store.body));
  const c = await api('/api/customers', {
    method: 'POST',
    body: { name: '本町 常連', phone: '09040470001', homeStoreId: store.body.store.id },
  });
  assert.equal(c.status, 201, JSON.stringify(c.body));

  const page = await context.newPage();
  // 削除 asks first (window.confirm); the test answers yes and records the question.
  await page.addInitScript(() => {
    window.__asked = [];
    window.confirm = (q) => {
      window.__asked.push(q);
      return true;
    };
  });
  await page.goto(`${base}/admin/stores.html`);
  const row = page.locator('#store-body tr', { hasText: '閉店予定 本町' });
  await row.getByRole('button', { name: '削除' }).click();
  await page
    .getByRole('alert')
    .filter({
      hasText:
        'この店舗には顧客が1人、アカウントが0件あります。先に別の店舗へ移してから削除してください',
    })
    .waitFor();
  await row.waitFor();
  assert.match(
    (await page.evaluate(() => window.__asked))[0],
    /顧客やアカウントがある店舗は、先に別の店舗へ移すまで削除できません/,
  );

  // The customer moved to 西船橋: the store goes.
  const nishi = (await api('/api/stores')).body.stores.find((s) => s.name === '西船橋').id;
  const moved = await api(`/api/customers/${c.body.customer.id}`, {
    method: 'PATCH',
    body: { version: c.body.customer.version, homeStoreId: nishi },
  });
  assert.equal(moved.status, 200, JSON.stringify(moved.body));
  await row.getByRole('button', { name: '削除' }).click();
  await row.waitFor({ state: 'detached' });
  assert.equal(await page.getByRole('alert').filter({ hasText: '顧客が' }).count(), 0);
  await page.close();
});
