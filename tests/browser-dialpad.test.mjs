// @ts-check
// Browser: Dialpad's API in the console (issue 26), in Chromium against the built Workers and
// the Dialpad stand-in (tests/helpers/dialpad-fake.mjs). 設定 says that contacts are
// company-wide before the sync is switched on, switches it on and shows its progress;
// アカウント links an account to a Dialpad user; 発信 of a linked account goes through the
// API; a recording plays in place; the console hears of recovered missed calls.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { WAIT, startWithBrowser, apiAs, docShot } from './helpers/browser.mjs';
import { callEvent, newCallId } from './helpers/worker.mjs';
import { startDialpadFake } from './helpers/dialpad-fake.mjs';

let fake;
let session;
let w;
let base;
let context;
let pageErrors;
let admin;

before(async () => {
  fake = await startDialpadFake({ minuteMs: 4000 });
  fake.users.push({ id: '5001', display_name: '受付 一郎', emails: ['ichiro@example.com'] });
  session = await startWithBrowser({
    login: { role: 'admin', name: '管理 花子' },
    worker: {
      bindings: {
        DIALPAD_API_KEY: fake.key,
        DIALPAD_API_BASE: fake.url,
        DIALPAD_MINUTE_MS: '1000',
      },
    },
  });
  ({ w, base, account: admin, context, pageErrors } = session);
});

after(async () => {
  await session?.close();
  await fake?.close();
});

afterEach(() => {
  assert.deepEqual(pageErrors.splice(0), []);
});

const api = (path, options) => apiAs(w, admin)(path, options);

test('設定: contacts are said to be company-wide before the sync is on; switched on, the progress shows the sync done', async () => {
  const page = await context.newPage();
  await page.goto(`${base}/admin/settings.html`);
  const card = page.locator('#dialpad-card');
  await card.getByText('連絡先は Dialpad の会社全体で共有されます。').waitFor();
  const sync = page.getByLabel('顧客を Dialpad の連絡先に同期する（会社全体で共有）');
  assert.equal(await sync.isChecked(), false);
  assert.equal(fake.requests.length, 0, 'nothing sent while off');
  await sync.check();
  await page.getByLabel('ラベル（用件: 予約）').fill('reservation');
  await page.getByRole('button', { name: 'Dialpad 連携を保存' }).click();
  await page.locator('#dialpad-status', { hasText: '保存しました' }).waitFor();
  await page.getByRole('button', { name: '全件を同期し直す' }).click();
  const customers = (await w.db.prepare('SELECT count(*) AS n FROM customers').first()).n;
  // 同期済み reaches every customer, 待機中 none (the page follows by itself).
  await page
    .locator('#dialpad-progress dd')
    .nth(0)
    .filter({ hasText: new RegExp(`^${customers}件$`) })
    .waitFor({ timeout: 30_000 });
  await page.locator('#dialpad-progress dd').nth(1).filter({ hasText: /^0件$/ }).waitFor();
  assert.equal(fake.contacts.size, customers);
  await card.scrollIntoViewIfNeeded();
  await docShot(card, 'docs/settings-dialpad-sync.png');
  const saved = (await api('/api/settings/dialpad')).body.settings;
  assert.equal(saved.contactsSync, true);
  assert.deepEqual(saved.categoryLabels, { 予約: 'reservation' });
  await page.close();
});

test("アカウント links an account to a Dialpad user; its 発信 in 顧客 goes through Dialpad's API", async () => {
  assert.equal(
    (
      await api('/api/settings/dialpad', {
        method: 'PUT',
        body: { ...(await api('/api/settings/dialpad')).body.settings, clickToCall: true },
      })
    ).status,
    200,
  );
  const page = await context.newPage();
  await page.goto(`${base}/admin/accounts.html`);
  const card = page.locator('#dialpad-link-card');
  await card.waitFor();
  // The selects by their visible labels (a label's name also holds the chosen option's text).
  await card
    .locator('label', { has: page.getByText('アカウント', { exact: true }) })
    .locator('select')
    .selectOption(String(admin.user.id));
  await card
    .locator('label', { has: page.getByText('Dialpad ユーザー', { exact: true }) })
    .locator('select')
    .selectOption({ label: '受付 一郎（ichiro@example.com）' });
  await page.getByRole('button', { name: '紐づける' }).click();
  await card.getByText(`管理 花子（${admin.login}） → 受付 一郎`).waitFor();
  const yamada = (
    await api('/api/customers/search', { method: 'POST', body: { q: '09012345678' } })
  ).body.customers[0];
  await page.goto(`${base}/admin/customers.html?id=${yamada.id}`);
  const dial = page.locator('#editor-dial').getByRole('button', { name: /発信/ });
  await dial.click();
  await page.locator('#editor-dial').getByText('Dialpad の端末を呼び出しています').waitFor();
  const ring = fake.rings.at(-1);
  assert.equal(ring.phone_number, '+819012345678');
  assert.equal(ring.user_id, 5001);
  assert.equal(JSON.parse(ring.custom_data).customerId, yamada.id);
  await page.close();
});

test('着信履歴: a recording plays in place through a share link', async () => {
  assert.equal(
    (
      await api('/api/settings/dialpad', {
        method: 'PUT',
        body: { ...(await api('/api/settings/dialpad')).body.settings, recordings: true },
      })
    ).status,
    200,
  );
  const ev = callEvent({ external_number: '+819077770001' });
  fake.addCall({
    call_id: ev.call_id,
    recording_details: [{ id: 'rec-b', recording_type: 'callrecording' }],
  });
  await w.sendEvent(ev);
  await w.sendEvent({
    ...ev,
    state: 'recording',
    recording_url: ['https://dialpad.com/r/rec-b'],
    event_timestamp: Date.now(),
  });
  const page = await context.newPage();
  await page.goto(`${base}/admin/calls.html?q=09077770001`);
  await page.getByRole('button', { name: '録音をここで再生' }).click();
  const audio = page.locator('audio[aria-label="録音をここで再生"]');
  await audio.waitFor({ state: 'attached' });
  assert.equal(await audio.getAttribute('src'), 'https://dialpad.example/r/rec-b');
  assert.equal(fake.shareLinks.length, 1);
  await page.close();
});

test('the console says when missed calls were recovered from Dialpad', async () => {
  assert.equal(
    (
      await api('/api/settings/dialpad', {
        method: 'PUT',
        body: { ...(await api('/api/settings/dialpad')).body.settings, gapFill: true },
      })
    ).status,
    200,
  );
  const page = await context.newPage();
  await page.goto(`${base}/admin/`);
  await page.locator('#conn-status', { hasText: /^接続中$/ }).waitFor();
  const t = Date.now() - 30 * 60_000;
  fake.addCall({
    call_id: newCallId(),
    direction: 'inbound',
    external_number: '+819077770002',
    internal_number: '+815017481234',
    date_started: t,
    date_ended: t + 20_000,
  });
  assert.equal((await api('/api/dialpad/gap-fill', { method: 'POST' })).body.filled, 1);
  await page
    .getByText(
      'Dialpad の通話履歴から、届いていなかった不在着信を1件補完しました（着信履歴・折り返しに追加済み）。',
    )
    .waitFor({ timeout: WAIT });
  await page.close();
});
