// @ts-check
// Browser (issue 14): a number another customer already has is warned about before saving,
// naming that customer (with a link) where the user may see them, and saved only on
// 「それでも保存する」; staff are never shown another store's customer. 重複を統合 (admin) merges
// a duplicate into the customer on screen. Chromium against the built Worker; every wait is on
// the DOM, never a sleep.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { startWithBrowser, docShot } from './helpers/browser.mjs';
import { callEvent } from './helpers/worker.mjs';

const SHOTS = new URL('../docs/', import.meta.url);
const CTI_PATH = '/admin/popup/cti';

let w;
let base;
let browser;
let context;
let pageErrors;
let dialogs;
let admin;

let session;
before(async () => {
  session = await startWithBrowser({ login: { role: 'admin', name: '管理 花子' } });
  ({ w, base, account: admin, browser, context, pageErrors, dialogs } = session);
});

after(() => session?.close());

afterEach(() => {
  assert.deepEqual(pageErrors.splice(0), [], 'no page errors or CSP violations');
  assert.deepEqual(dialogs, [], 'no alert/confirm dialogs: the pages ask in their own dialogs');
});

const phonesOf = async (id) =>
  (
    await w.db
      .prepare('SELECT phone FROM customer_phones WHERE customer_id = ?1 ORDER BY phone')
      .bind(id)
      .all()
  ).results.map((r) => r.phone);

async function staffContext(store) {
  const staff = await w.login({ role: 'staff', store, name: `${store} スタッフ` });
  const ctx = await browser.newContext({
    viewport: null,
    locale: 'ja-JP',
    timezoneId: 'Asia/Tokyo',
  });
  ctx.setDefaultTimeout(15_000);
  const errors = [];
  ctx.on('page', (p) => p.on('pageerror', (e) => errors.push(`${p.url()}: ${e.message}`)));
  assert.equal(
    (
      await ctx.request.post(`${base}/api/auth/login`, {
        data: { loginId: staff.login, password: staff.password },
      })
    ).status(),
    200,
  );
  return { ctx, errors };
}

test('顧客: adding a number another customer has warns, naming them with a link; 「それでも保存する」 saves it', async () => {
  const owner = await w.addCustomer({ name: '重複 花子', phone: ['09071110001'], store: '葛西' });
  const editing = await w.addCustomer({
    name: '別人 次郎',
    phone: ['09071110002'],
    store: '西船橋',
  });
  const page = await context.newPage();
  await page.goto(`${base}/admin/customers.html?id=${editing}`);
  await page.locator('#editor-title', { hasText: '別人 次郎' }).waitFor();

  // The edit panel: the owner's number added in another format.
  await page.getByLabel('電話番号（1行に1件）').fill('090-7111-0002\n090 7111 0001');
  await page.getByRole('button', { name: '保存', exact: true }).click();
  const warning = page.locator('#edit-shared');
  await warning.getByText('同じ電話番号の顧客がいます').waitFor();
  assert.equal(
    (await warning.locator('li').textContent()).trim(),
    'この番号（090-7111-0001）は 重複 花子 さん（葛西）にも登録されています',
  );
  assert.equal(
    await warning.getByRole('link', { name: '重複 花子' }).getAttribute('href'),
    `/admin/customers.html?id=${owner}`,
  );
  assert.deepEqual(
    await phonesOf(editing),
    ['09071110002'],
    'nothing saved before the user decides',
  );
  await docShot(page, new URL('customers-shared-number.png', SHOTS).pathname);

  await warning.getByRole('button', { name: 'それでも保存する' }).click();
  await page.locator('#edit-status', { hasText: '保存しました' }).waitFor();
  assert.equal(await warning.isVisible(), false);
  assert.deepEqual(await phonesOf(editing), ['09071110001', '09071110002']);
  assert.deepEqual(await phonesOf(owner), ['09071110001'], 'the other customer keeps the number');

  // 新規登録 with the same number: やめる goes back to the form, a second try warns again and
  // 「それでも登録する」 registers.
  await page.getByRole('button', { name: '新規登録' }).click();
  const dialog = page.locator('#create-dialog');
  await dialog.getByLabel('氏名').fill('三人目 三郎');
  await dialog.getByLabel('電話番号').fill('09071110001');
  await dialog.getByRole('button', { name: '登録する', exact: true }).click();
  const createWarning = dialog.locator('#create-shared');
  await createWarning.getByText('重複 花子').waitFor();
  await createWarning.getByText('別人 次郎').waitFor();
  await createWarning.getByRole('button', { name: 'やめる' }).click();
  assert.equal(await createWarning.isVisible(), false);
  assert.equal(await w.count("SELECT 1 FROM customers WHERE name = '三人目 三郎'"), 0);
  await dialog.getByRole('button', { name: '登録する', exact: true }).click();
  await createWarning.getByRole('button', { name: 'それでも登録する' }).click();
  await page.locator('#editor-title', { hasText: '三人目 三郎' }).waitFor();
  assert.equal(await w.count("SELECT 1 FROM customers WHERE name = '三人目 三郎'"), 1);
  await page.close();
});

test('顧客: 重複を統合 (admin) — choose the duplicate, read what will happen, confirm; the kept customer shows both numbers and the notes', async () => {
  const kept = await w.addCustomer({
    name: '統合 太郎',
    kana: 'トウゴウ タロウ',
    phone: ['09072220001'],
    memo: '残るメモ',
    visits: 2,
  });
  const dup = await w.addCustomer({
    name: '統合 太郎（旧）',
    phone: ['09072220002'],
    memo: '古い登録のメモ',
    visits: 3,
  });
  const note = (id, body) =>
    w.db
      .prepare(
        "INSERT INTO customer_notes (customer_id, note_type, body, author_name) VALUES (?1, '一般', ?2, '受付')",
      )
      .bind(id, body)
      .run();
  await note(kept, '残る方のノート');
  await note(dup, '古い登録のノート');
  const call = callEvent({ external_number: '+819072220002', contact: null });
  assert.equal((await w.sendEvent(call)).status, 200);

  const page = await context.newPage();
  await page.goto(`${base}/admin/customers.html?id=${kept}`);
  await page.locator('#editor-title', { hasText: /^統合 太郎$/ }).waitFor();
  await page.getByRole('button', { name: '重複を統合' }).click();
  const dialog = page.getByRole('dialog', { name: '重複を統合' });
  await dialog.getByText('「統合 太郎」に、同じ方の別の登録をまとめます').waitFor();

  // Search by a part of the number: the customer on screen is not offered.
  await dialog.getByLabel('統合する顧客を検索').fill('0907222');
  await dialog.getByRole('button', { name: '検索' }).click();
  const pick = dialog.getByRole('button', { name: /統合 太郎（旧）/ });
  await pick.waitFor();
  assert.equal(await dialog.locator('#merge-results .merge-pick').count(), 1);
  assert.equal(
    await dialog.getByRole('button', { name: '統合する', exact: true }).isDisabled(),
    true,
    'nothing chosen yet',
  );
  await pick.click();
  const summary = dialog.locator('#merge-summary');
  await summary.getByText('統合して削除する顧客: 統合 太郎（旧）').waitFor();
  await summary.getByText('電話番号 090-7222-0002 を「統合 太郎」に追加します').waitFor();
  await summary.getByText('ノート 1件と着信履歴 1件を「統合 太郎」に移します').waitFor();
  await summary
    .getByText('「統合 太郎（旧）」は削除されます。元に戻すことはできません。')
    .waitFor();
  assert.equal(await pick.getAttribute('aria-pressed'), 'true');
  await docShot(page, new URL('customers-merge.png', SHOTS).pathname);
  assert.equal(
    await w.count('SELECT 1 FROM customers WHERE id = ?1', dup),
    1,
    'nothing merged before 統合する',
  );

  await dialog.getByRole('button', { name: '統合する', exact: true }).click();
  await page.locator('#edit-status', { hasText: '「統合 太郎（旧）」を統合しました' }).waitFor();
  assert.equal(await dialog.isVisible(), false);
  // The kept customer, as the page shows it now: both numbers, both notes, the call, both memos.
  assert.equal(await page.locator('#editor-title').textContent(), '統合 太郎');
  assert.deepEqual((await page.inputValue('#edit-phones')).split('\n').sort(), [
    '09072220001',
    '09072220002',
  ]);
  await page.locator('#notes', { hasText: '残る方のノート' }).waitFor();
  await page.locator('#notes', { hasText: '古い登録のノート' }).waitFor();
  assert.equal(await page.locator('#history li').count(), 1);
  assert.equal(await page.inputValue('#edit-memo'), '残るメモ\n古い登録のメモ');
  assert.equal(await page.inputValue('#edit-visits'), '5');
  await page
    .locator('#customer-body tr', { hasText: '統合 太郎（旧）' })
    .waitFor({ state: 'detached' });
  assert.equal(await w.count('SELECT 1 FROM customers WHERE id = ?1', dup), 0);

  // 同じ電話番号の顧客 are offered without a search.
  const twin = await w.addCustomer({ name: '統合 双子', phone: ['09072220002'] });
  await page.getByRole('button', { name: '重複を統合' }).click();
  await dialog
    .locator('#merge-same')
    .getByRole('button', { name: /統合 双子/ })
    .waitFor();
  await dialog.getByRole('button', { name: 'キャンセル' }).click();
  assert.equal(await w.count('SELECT 1 FROM customers WHERE id = ?1', twin), 1);
  await page.close();
});

test("staff: no 重複を統合; a caller of another store's customer is said to be one in the popup, never named nor offered a registration", async () => {
  await w.addCustomer({ name: '葛西の 秘密子', phone: ['09073330001'], store: '葛西' });
  const { ctx, errors } = await staffContext('西船橋');
  try {
    const page = await ctx.newPage();
    await page.goto(`${base}/admin/customers.html`);
    await page.locator('#customer-body tr', { hasText: '山田 太郎' }).click();
    await page.locator('#editor').waitFor({ state: 'visible' });
    assert.equal(await page.getByRole('button', { name: '重複を統合' }).count(), 0);
    assert.equal(await page.isVisible('#edit-merge'), false);

    // The popup of a call from that number to 西船橋: another store's customer, said up front
    // (「他店舗のお客様です」), with no registration that would be refused, and nobody named.
    const call = callEvent({ external_number: '+819073330001', contact: null });
    assert.equal((await w.sendEvent(call)).status, 200);
    const popup = await ctx.newPage();
    await popup.goto(`${base}${CTI_PATH}?callId=${call.call_id}`);
    await popup.getByText('他店舗のお客様です').waitFor();
    assert.equal(
      await popup.getByRole('button', { name: '登録する', exact: true }).isVisible(),
      false,
    );
    assert.equal(await popup.getByLabel('氏名').isVisible(), false);
    assert.ok(!(await popup.content()).includes('秘密子'));
  } finally {
    await ctx.close();
  }
  assert.deepEqual(errors, []);
});

test('popup (admin): a caller registered elsewhere meanwhile is named before registering again', async () => {
  const call = callEvent({ external_number: '+819074440001', contact: null });
  assert.equal((await w.sendEvent(call)).status, 200);
  const popup = await context.newPage();
  await popup.goto(`${base}${CTI_PATH}?callId=${call.call_id}`);
  await popup.locator('#unknown-view').waitFor({ state: 'visible' });
  // Written straight into D1 (no live message): the popup still shows 未登録.
  const other = await w.addCustomer({
    name: '先に 登録子',
    phone: ['09074440001'],
    store: '錦糸町',
  });
  await popup.getByLabel('氏名').fill('後から 登録男');
  await popup.getByRole('button', { name: '登録する', exact: true }).click();
  const warning = popup.locator('#register-shared');
  await warning
    .getByText('この番号（090-7444-0001）は 先に 登録子 さん（錦糸町）にも登録されています')
    .waitFor();
  assert.equal(
    await warning.getByRole('link', { name: '先に 登録子' }).getAttribute('href'),
    `/admin/customers.html?id=${other}`,
  );
  await warning.getByRole('button', { name: 'それでも登録する' }).click();
  await popup.locator('#customer-name', { hasText: '後から 登録男' }).waitFor();
  assert.equal(await w.count('SELECT 1 FROM customer_phones WHERE phone = ?1', '09074440001'), 2);
  await popup.close();
});

test('popup: when the caller on screen is merged into another customer, the one kept replaces them, live', async () => {
  const kept = await w.addCustomer({ name: '残る 一美', phone: ['09075550001'] });
  const gone = await w.addCustomer({ name: '消える 一美', phone: ['09075550002'] });
  const call = callEvent({ external_number: '+819075550002', contact: null });
  assert.equal((await w.sendEvent(call)).status, 200);
  const popup = await context.newPage();
  await popup.goto(`${base}${CTI_PATH}?callId=${call.call_id}`);
  await popup.locator('#customer-name', { hasText: '消える 一美' }).waitFor();
  await popup.locator('#conn-status', { hasText: /^接続中$/ }).waitFor();
  const r = await w.json(`/api/customers/${kept}/merge`, {
    method: 'POST',
    headers: { authorization: `Bearer ${admin.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ from: gone }),
  });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  await popup.locator('#customer-name', { hasText: '残る 一美' }).waitFor();
  await popup.locator('#customer-phones', { hasText: '090-7555-0001' }).waitFor();
  await popup.close();
});
