// @ts-check
// Browser (issue 25, 顧客の共有): under チェーン共通 a 西船橋 staff member's popup for a call from
// 葛西's customer shows who they are — name, flag, the pinned 注意 note and
// 「葛西のお客様です（閲覧のみ）」 — read-only: no registration, no memo or edit control.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { startWithBrowser } from './helpers/browser.mjs';
import { callEvent } from './helpers/worker.mjs';

let session;
let admin;

/**
 * @param {{ token: string }} who
 * @param {string} path
 * @param {{ method?: string, body?: unknown }} [opts]
 */
const api = (who, path, { method = 'GET', body } = {}) =>
  session.w.json(path, {
    method,
    headers: { authorization: `Bearer ${who.token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

before(async () => {
  session = await startWithBrowser({
    login: { role: 'staff', store: '西船橋', name: '受付 花子' },
  });
  admin = await session.w.login({ role: 'admin' });
});
after(() => session?.close());
afterEach(() => {
  assert.deepEqual(session.pageErrors.splice(0), []);
});

test("チェーン共通: the popup shows another store's customer read-only, with the home store and pinned notes", async () => {
  const { w, base, context } = session;
  const kasai = (await api(admin, '/api/stores')).body.stores.find((s) => s.name === '葛西').id;
  const created = await api(admin, '/api/customers', {
    method: 'POST',
    body: {
      name: '共有 表示子',
      kana: 'キョウユウ',
      phone: '08073330001',
      homeStoreId: kasai,
      memo: '葛西の内部メモ',
    },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const c = created.body.customer;
  assert.equal(
    (
      await api(admin, `/api/customers/${c.id}`, {
        method: 'PATCH',
        body: { version: c.version, flag: '要注意' },
      })
    ).status,
    200,
  );
  assert.equal(
    (
      await api(admin, `/api/customers/${c.id}/notes`, {
        method: 'POST',
        body: { type: '注意', body: '大きな声で話すこと' },
      })
    ).status,
    201,
  );
  const current = (await api(admin, '/api/settings/front-desk')).body.settings;
  assert.equal(
    (
      await api(admin, '/api/settings/front-desk', {
        method: 'PUT',
        body: { ...current, customerSharing: 'chain' },
      })
    ).status,
    200,
  );

  const ev = callEvent({
    external_number: '+818073330001',
    internal_number: '+815017481234',
    contact: null,
  });
  assert.equal((await w.sendEvent(ev)).status, 200);
  const page = await context.newPage();
  await page.goto(`${base}/admin/popup/cti?callId=${encodeURIComponent(String(ev.call_id))}`);
  const card = page.locator('#shared-card');
  await card.getByText('葛西のお客様です（閲覧のみ）').waitFor();
  await card.getByRole('heading', { name: '共有 表示子' }).waitFor();
  await card.getByText('要注意').waitFor();
  await card
    .getByRole('list', { name: '注意・苦情のノート' })
    .getByText('大きな声で話すこと')
    .waitFor();
  // Read-only: no registration, no memo, nothing to edit or open.
  assert.equal(await page.getByText('葛西の内部メモ').count(), 0);
  for (const name of ['編集', '登録', '詳細を見る']) {
    assert.equal(
      await page.getByRole('button', { name, exact: true }).filter({ visible: true }).count(),
      0,
      name,
    );
    assert.equal(
      await page.getByRole('link', { name, exact: true }).filter({ visible: true }).count(),
      0,
      name,
    );
  }
  assert.equal(await page.locator('#customer-view').isVisible(), false);
  await page.close();
});
