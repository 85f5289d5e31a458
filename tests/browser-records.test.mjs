// @ts-check
// Browser: the customer record behind the popup (register, memo with version conflicts, notes)
// and the console's record pages (顧客, 店舗, 着信履歴), in Chromium against the built Worker.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { startWithBrowser, apiAs } from './helpers/browser.mjs';
import { callEvent } from './helpers/worker.mjs';

let w;
let base;
let browser;
let context;
let pageErrors;
let dialogs;
let admin;
let consolePage;

// The story's caller (tests b and c use the customer registered in a).
const STORY_NUMBER = '+81 80 5555 0101';
const STORY_DIGITS = '08055550101';
const STORY_NAME = '物語 一郎';
let storyCustomerId;

let session;
before(async () => {
  session = await startWithBrowser({ login: { role: 'admin', name: '管理 花子' } });
  ({ w, base, account: admin, browser, context, pageErrors, dialogs } = session);
});

after(() => session?.close());

afterEach(() => {
  // Every page of every test must run within the CSP and without script errors.
  assert.deepEqual(pageErrors.splice(0), []);
});

/** Same-origin API call with the admin's bearer token (the "other person"). */
const api = (path, options) => apiAs(w, admin)(path, options);

async function openConsole() {
  if (consolePage) return consolePage;
  const page = await context.newPage();
  await page.goto(`${base}/admin/`);
  await page.locator('#console-view').waitFor();
  await page.locator('#conn-status', { hasText: /^接続中$/ }).waitFor();
  consolePage = page;
  return page;
}

/** Sends a signed webhook while the console is open; resolves with the popup it opened. */
async function callAndPopup(ev) {
  await openConsole();
  const popupP = context.waitForEvent('page');
  const res = await w.sendEvent(ev);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const popup = await popupP;
  await popup.waitForLoadState('domcontentloaded');
  assert.equal(new URL(popup.url()).searchParams.get('callId'), String(ev.call_id));
  assert.deepEqual(
    [...new URL(popup.url()).searchParams.keys()],
    ['callId'],
    'no number in the popup address',
  );
  return popup;
}

const storyEvent = (over = {}) =>
  callEvent({ external_number: STORY_NUMBER, contact: null, ...over });

test('a. unknown caller → register from the popup → the next call pops the record with the first call in its history', async () => {
  const first = storyEvent();
  const popup = await callAndPopup(first);
  await popup.locator('#unknown-banner').waitFor({ state: 'visible' });
  assert.match(await popup.textContent('#unknown-banner'), /未登録/);
  assert.match(await popup.textContent('#unknown-banner'), /080-5555-0101/);

  await popup.fill('#reg-name', STORY_NAME);
  await popup.fill('#reg-kana', 'モノガタリ イチロウ');
  await popup.click('#register-submit');
  await popup.locator('#customer-name', { hasText: new RegExp(`^${STORY_NAME}$`) }).waitFor();
  assert.equal(await popup.isVisible('#unknown-banner'), false);
  // The known view shows the call that is ringing now in its history.
  await popup.locator(`#history li[data-call-id="${first.call_id}"].current`).waitFor();
  await popup.locator('#notes-empty').waitFor({ state: 'visible' });

  // The first call ends; the same number calls again (a new call id).
  const t0 = first.date_started;
  await w.sendEvent({
    ...first,
    state: 'hangup',
    date_connected: t0 + 2000,
    date_ended: t0 + 32000,
    duration: 30000,
    event_timestamp: t0 + 32000,
  });
  await popup.locator('#call-state', { hasText: '終了' }).waitFor();
  await popup.close();

  const second = storyEvent();
  assert.notEqual(second.call_id, first.call_id);
  const popup2 = await callAndPopup(second);
  await popup2.locator('#customer-name', { hasText: new RegExp(`^${STORY_NAME}$`) }).waitFor();
  assert.equal(await popup2.isVisible('#unknown-view'), false);
  assert.doesNotMatch(await popup2.innerText('body'), /未登録/, 'nothing visible says 未登録');
  const firstRow = popup2.locator(`#history li[data-call-id="${first.call_id}"]`);
  await firstRow.waitFor();
  assert.match(await firstRow.textContent(), /終了/);
  assert.match(await firstRow.textContent(), /0:30/);
  await popup2.locator(`#history li[data-call-id="${second.call_id}"].current`).waitFor();
  assert.match(await popup2.textContent('#history'), /西船橋/);
  await popup2.close();

  const found = await api('/api/customers/search', { method: 'POST', body: { q: STORY_DIGITS } });
  assert.equal(found.body.total, 1);
  storyCustomerId = found.body.customers[0].id;
});

/** The story customer's popup, opened the way the console would for a new call. */
async function storyPopup() {
  const popup = await callAndPopup(storyEvent());
  await popup.locator('#customer-name', { hasText: new RegExp(`^${STORY_NAME}$`) }).waitFor();
  return popup;
}

test('b. memo: saved in place; a conflicting edit is shown with the other text, and saving again wins', async () => {
  assert.ok(storyCustomerId, 'test a registers the customer');
  const popup = await storyPopup();
  await popup.click('#memo-edit');
  await popup.locator('#memo-input').waitFor({ state: 'visible' });
  await popup.fill('#memo-input', '折り返しは夕方希望');
  await popup.click('#memo-save');
  await popup.locator('#memo-status', { hasText: '保存しました' }).waitFor();
  assert.equal((await popup.textContent('#memo')).trim(), '折り返しは夕方希望');
  assert.equal(await popup.isVisible('#memo-form'), false);

  // Persisted: a fresh popup for the number shows it.
  const again = await context.newPage();
  await again.goto(popup.url());
  await again.locator('#memo', { hasText: /^折り返しは夕方希望$/ }).waitFor();
  await again.close();

  // Someone else saves over the version this popup has.
  const cur = (await api(`/api/customers/${storyCustomerId}`)).body.customer;
  const other = await api(`/api/customers/${storyCustomerId}`, {
    method: 'PATCH',
    body: { version: cur.version, memo: '他の人のメモ: 駐車場あり' },
  });
  assert.equal(other.status, 200, JSON.stringify(other.body));

  await popup.locator('#memo').click(); // click-to-edit
  await popup.fill('#memo-input', '私のメモ: 平日午前');
  await popup.click('#memo-save');
  await popup
    .locator('#memo-conflict', { hasText: '他の人が更新しました' })
    .waitFor({ state: 'visible' });
  assert.equal((await popup.textContent('#memo-current')).trim(), '他の人のメモ: 駐車場あり');
  assert.equal(
    await popup.inputValue('#memo-input'),
    '私のメモ: 平日午前',
    'the draft stays for a re-apply',
  );
  assert.doesNotMatch(await popup.textContent('#memo-status'), /保存しました/);

  await popup.click('#memo-save');
  await popup.locator('#memo-status', { hasText: '保存しました' }).waitFor();
  await popup.locator('#memo-conflict').waitFor({ state: 'hidden' });
  assert.equal((await popup.textContent('#memo')).trim(), '私のメモ: 平日午前');
  const after = (await api(`/api/customers/${storyCustomerId}`)).body.customer;
  assert.equal(after.memo, '私のメモ: 平日午前');
  assert.equal(after.version, other.body.customer.version + 1);

  // A failed save: the optimistic text is taken back, the error shown, the draft kept.
  const failPatch = (route) =>
    route.request().method() === 'PATCH'
      ? route.fulfill({
          status: 503,
          contentType: 'application/json',
          body: JSON.stringify({
            error: { code: 'unavailable', message: '一時的に利用できません' },
          }),
        })
      : route.continue();
  await popup.route('**/api/customers/*', failPatch);
  await popup.click('#memo-edit');
  await popup.fill('#memo-input', '届かないメモ');
  await popup.click('#memo-save');
  await popup.locator('#memo-status', { hasText: '保存できませんでした' }).waitFor();
  assert.equal((await popup.textContent('#memo')).trim(), '私のメモ: 平日午前');
  assert.equal(await popup.inputValue('#memo-input'), '届かないメモ');
  await popup.unroute('**/api/customers/*', failPatch);
  await popup.click('#memo-cancel');
  assert.equal(
    (await api(`/api/customers/${storyCustomerId}`)).body.customer.memo,
    '私のメモ: 平日午前',
  );
  await popup.close();
});

test('c. a note added in the popup appears in the list with its type', async () => {
  assert.ok(storyCustomerId, 'test a registers the customer');
  const popup = await storyPopup();
  // 重要: 注意 / 苦情 notes are pinned above instead (tests/browser-popup-story.test.mjs).
  await popup.selectOption('#note-type', '重要');
  await popup.fill('#note-body', '前回の待ち時間が長かった');
  await popup.click('#note-submit');
  const note = popup.locator('#notes li.note').first();
  await note.locator('.note-body', { hasText: '前回の待ち時間が長かった' }).waitFor();
  assert.equal(await note.getAttribute('data-type'), '重要');
  assert.match(await note.getAttribute('class'), /note-important/);
  assert.equal((await note.locator('.note-type').textContent()).trim(), '重要');
  assert.match(await note.locator('.note-meta').textContent(), /管理 花子/);
  assert.equal(await popup.inputValue('#note-body'), '');
  // The next popup for the number lists it too.
  await popup.close();
  const next = await storyPopup();
  await next
    .locator('#notes li.note[data-type="重要"]', { hasText: '前回の待ち時間が長かった' })
    .waitFor();
  await next.close();
});

test('d. 顧客: search by a number fragment, edit and save; CSV import creates, a bad file creates nothing', async () => {
  assert.ok(storyCustomerId, 'test a registers the customer');
  const page = await context.newPage();
  await page.goto(`${base}/admin/customers.html`);
  await page.locator('#page-view').waitFor();
  assert.equal(
    await page.getAttribute('.topnav a[href="/admin/customers.html"]', 'aria-current'),
    'page',
  );
  await page.fill('#search-q', '5555-01');
  await page.click('#search-submit');
  await page.locator('#customer-body[data-loaded*="q=5555-01"]').waitFor({ state: 'attached' });
  const row = page.locator('#customer-body tr', { hasText: STORY_NAME });
  await row.waitFor();
  assert.equal(await page.locator('#customer-body tr').count(), 1);
  assert.match(await page.textContent('#list-total'), /1件/);

  await row.click();
  await page.locator('#editor').waitFor({ state: 'visible' });
  assert.equal(await page.inputValue('#edit-name'), STORY_NAME);
  assert.equal(await page.inputValue('#edit-phones'), STORY_DIGITS);
  await page.fill('#edit-kana', 'モノガタリ イチロー');
  await page.selectOption('#edit-type', 'VIP');
  await page.fill('#edit-visits', '3');
  await page.click('#edit-save');
  await page.locator('#edit-status', { hasText: '保存しました' }).waitFor();
  await row.locator('.badge-vip').waitFor();
  const saved = (await api(`/api/customers/${storyCustomerId}`)).body.customer;
  assert.equal(saved.kana, 'モノガタリ イチロー');
  assert.equal(saved.customerType, 'VIP');
  assert.equal(saved.usage.visits, 3);
  assert.equal(saved.memo, '私のメモ: 平日午前', 'fields not touched are not sent');

  // A conflicting edit: the panel shows the other value and saving again applies this one.
  await api(`/api/customers/${storyCustomerId}`, {
    method: 'PATCH',
    body: { version: saved.version, memo: 'APIからのメモ' },
  });
  await page.fill('#edit-memo', 'パネルからのメモ');
  await page.click('#edit-save');
  await page.locator('#edit-conflict', { hasText: 'APIからのメモ' }).waitFor({ state: 'visible' });
  assert.equal(await page.inputValue('#edit-memo'), 'パネルからのメモ');
  assert.equal(await page.inputValue('#edit-kana'), 'モノガタリ イチロー');
  await page.click('#edit-save');
  await page.locator('#edit-status', { hasText: '保存しました' }).waitFor();
  assert.equal(
    (await api(`/api/customers/${storyCustomerId}`)).body.customer.memo,
    'パネルからのメモ',
  );

  // CSV import (admin): a good UTF-8 file.
  const before = await w.count('SELECT * FROM customers');
  await page.setInputFiles('#import-file', {
    name: 'customers.csv',
    mimeType: 'text/csv',
    buffer: Buffer.from(
      '氏名,フリガナ,電話番号,店舗,区分\nCSV 太郎,シーエスブイ タロウ,090-6666-0001,西船橋,会員\nCSV 花子,,09066660002,錦糸町,\n',
    ),
  });
  await page.click('#import-submit');
  await page.locator('#import-result', { hasText: '新規 2件' }).waitFor();
  assert.equal(await w.count('SELECT * FROM customers'), before + 2);

  // A file with a bad row: the row's error is listed and nothing is created.
  await page.setInputFiles('#import-file', {
    name: 'bad.csv',
    mimeType: 'text/csv',
    buffer: Buffer.from('氏名,電話番号,店舗\n正しい 行,09066660003,西船橋\n番号 不正,abc,西船橋\n'),
  });
  await page.click('#import-submit');
  const err = page.locator('#import-errors-body tr');
  await err.first().waitFor();
  assert.equal(await err.count(), 1);
  assert.match(await err.first().textContent(), /3行目/);
  assert.match(await err.first().textContent(), /電話番号/);
  assert.match(await err.first().textContent(), /abc/);
  assert.match(await page.textContent('#import-errors-title'), /取り込みませんでした/);
  assert.equal(await w.count('SELECT * FROM customers'), before + 2, 'all or nothing');
  assert.equal(await w.count("SELECT * FROM customer_phones WHERE phone = '09066660003'"), 0);

  assert.equal(await page.getAttribute('#export-link', 'href'), '/api/customers/export');
  await page.close();
});

test('e. 店舗: add a store, a conflicting prefix is refused with the server message, the checker resolves', async () => {
  const page = await context.newPage();
  await page.goto(`${base}/admin/stores.html`);
  await page.locator('#store-body tr', { hasText: '西船橋' }).waitFor();
  await page.fill('#add-name', '船橋北口');
  await page.fill('#add-prefixes', '050-1760, 0501761');
  await page.click('#add-submit');
  const row = page.locator('#store-body tr', { hasText: '船橋北口' });
  await row.waitFor();
  assert.match(await row.textContent(), /0501760/);
  assert.match(await row.textContent(), /0501761/);
  await page.locator('#add-status', { hasText: '船橋北口' }).waitFor();

  await page.fill('#add-name', '別の店');
  await page.fill('#add-prefixes', '0501760');
  await page.click('#add-submit');
  await page.locator('#add-error', { hasText: /0501760.*船橋北口/ }).waitFor();
  assert.equal(await page.locator('#store-body tr', { hasText: '別の店' }).count(), 0);

  await page.fill('#resolve-number', '050-1760-5123');
  await page.click('#resolve-submit');
  await page.locator('#resolve-result .resolve-store', { hasText: /^船橋北口$/ }).waitFor();
  assert.equal((await page.textContent('#resolve-result .resolve-prefix')).trim(), '0501760');

  // Edit in place: the store's prefixes are replaced.
  await row.locator('.store-edit').click();
  const edit = page.locator('#store-body tr.edit-row');
  await edit.locator('.edit-prefixes').fill('0501762');
  await edit.locator('.store-save').click();
  await page.locator('#store-body tr.store-row', { hasText: '0501762' }).waitFor();
  assert.doesNotMatch(await page.textContent('#store-body'), /0501760/);
  await page.close();
});

test('f. 着信履歴: 不在着信のみ shows the missed call, not the answered one; a row opens its popup', async () => {
  // No console: the only popup of this test is the one the call log opens.
  await consolePage?.close();
  consolePage = null;
  const missed = callEvent({ external_number: '+819011110001', contact: null });
  const answered = callEvent({ external_number: '+819011110002', contact: null });
  for (const [ev, connected] of /** @type {[Record<string, any>, boolean][]} */ ([
    [missed, false],
    [answered, true],
  ])) {
    const t0 = ev.date_started;
    assert.equal((await w.sendEvent(ev)).status, 200);
    if (connected)
      assert.equal(
        (
          await w.sendEvent({
            ...ev,
            state: 'connected',
            date_connected: t0 + 1000,
            event_timestamp: t0 + 1000,
          })
        ).status,
        200,
      );
    const end = { ...ev, state: 'hangup', date_ended: t0 + 20000, event_timestamp: t0 + 20000 };
    if (connected) Object.assign(end, { date_connected: t0 + 1000, duration: 19000 });
    assert.equal((await w.sendEvent(end)).status, 200);
  }

  const page = await context.newPage();
  await page.goto(`${base}/admin/calls.html`);
  const missedRow = page.locator(`#calls-body tr[data-call-id="${missed.call_id}"]`);
  const answeredRow = page.locator(`#calls-body tr[data-call-id="${answered.call_id}"]`);
  await missedRow.waitFor();
  await answeredRow.waitFor();
  assert.match(await answeredRow.textContent(), /終了/);
  assert.match(await answeredRow.textContent(), /0:19/);
  assert.match(await missedRow.textContent(), /未登録/);

  await page.check('#filter-missed');
  await page.locator('#calls-body[data-loaded*="missed=1"]').waitFor({ state: 'attached' });
  await missedRow.waitFor();
  assert.match(await missedRow.textContent(), /不在着信/);
  assert.equal(await answeredRow.count(), 0);
  assert.ok(
    (
      await page.locator('#calls-body tr').evaluateAll((rows) => rows.map((r) => r.dataset.phase))
    ).every((p) => ['missed', 'voicemail'].includes(p)),
  );

  // The filters are in the address: a reload keeps them.
  await page.reload();
  await page.locator('#calls-body[data-loaded*="missed=1"]').waitFor({ state: 'attached' });
  assert.equal(await page.isChecked('#filter-missed'), true);

  const popupP = context.waitForEvent('page');
  await missedRow.click();
  const popup = await popupP;
  await popup.waitForLoadState('domcontentloaded');
  const opened = (await page.evaluate(() => window.__opened)).at(-1);
  assert.equal(opened.name, `cti-${missed.call_id}`);
  assert.equal(opened.features, 'width=500,height=700');
  const q = new URL(popup.url()).searchParams;
  assert.deepEqual(
    [...q.entries()],
    [['callId', String(missed.call_id)]],
    'the call id only: no number in the address',
  );
  await popup.locator('#unknown-banner').waitFor({ state: 'visible' });
  await popup.close();
  await page.close();
});

test('staff: admin-only controls are hidden; pages without a session go back to the console', async () => {
  const staff = await w.login({ role: 'staff', store: '西船橋', name: '西船橋 次郎' });
  const ctx = await browser.newContext({
    viewport: null,
    locale: 'ja-JP',
    timezoneId: 'Asia/Tokyo',
  });
  const errors = [];
  ctx.on('page', (p) => {
    p.on('pageerror', (e) => errors.push(`${p.url()}: ${e.message}`));
    p.on('console', (m) => {
      if (/Content Security Policy|Refused to/i.test(m.text()))
        errors.push(`${p.url()}: ${m.text()}`);
    });
  });
  try {
    // No session: every record page sends the browser to the console's login.
    const anon = await ctx.newPage();
    for (const path of ['/admin/customers.html', '/admin/stores.html', '/admin/calls.html']) {
      await anon.goto(base + path);
      await anon.waitForURL(/\/admin\/$/);
      await anon.locator('#login-form').waitFor();
    }
    await anon.close();

    assert.equal(
      (
        await ctx.request.post(`${base}/api/auth/login`, {
          data: { loginId: staff.login, password: staff.password },
        })
      ).status(),
      200,
    );
    const page = await ctx.newPage();
    await page.goto(`${base}/admin/stores.html`);
    await page.locator('#store-body tr', { hasText: '西船橋' }).waitFor();
    assert.equal(await page.isVisible('#add-card'), false);
    assert.equal(await page.locator('.store-edit, .store-delete').count(), 0);
    await page.fill('#resolve-number', '05017481234');
    await page.click('#resolve-submit');
    await page.locator('#resolve-result .resolve-store', { hasText: /^西船橋$/ }).waitFor();

    await page.goto(`${base}/admin/customers.html`);
    await page.locator('#customer-body tr').first().waitFor();
    assert.equal(await page.isVisible('#csv-card'), false);
    await page.locator('#customer-body tr', { hasText: '山田 太郎' }).click();
    await page.locator('#editor').waitFor({ state: 'visible' });
    assert.equal(await page.isDisabled('#edit-store'), true);
    assert.equal(await page.isDisabled('#edit-name'), false);

    await page.goto(`${base}/admin/calls.html`);
    await page.locator('#calls-body[data-loaded]').waitFor({ state: 'attached' });
    assert.equal(await page.isVisible('#filter-store'), false);
    assert.ok(
      (await page.locator('#calls-body tr td:nth-child(4)').allTextContents()).every(
        (s) => s === '西船橋',
      ),
    );
    await page.close();
  } finally {
    await ctx.close();
  }
  assert.deepEqual(errors, []);
  assert.deepEqual(dialogs, []);
});

test("着信履歴: search by the customer's name as people type it; a filter that errors clears the old rows", async () => {
  const page = await context.newPage();
  try {
    const ev = callEvent({ external_number: '+819012345678' }); // 山田 太郎
    await w.sendEvent(ev);
    const other = callEvent({ external_number: '+819099990000' });
    await w.sendEvent(other);
    await page.goto(`${base}/admin/calls.html`);
    const rows = page.locator('tr.call-row');
    await rows.first().waitFor();
    await page.getByLabel('電話番号・顧客名').fill('やまだ');
    await page.getByRole('button', { name: '検索' }).click();
    // The other caller's row goes once the filtered answer is on screen; 山田's stays.
    await page
      .locator(`tr.call-row[data-call-id="${other.call_id}"]`)
      .waitFor({ state: 'detached' });
    assert.equal(
      await page.locator(`tr.call-row[data-call-id="${ev.call_id}"]`).count(),
      1,
      "山田's call is found by やまだ",
    );
    // A filter the server refuses: the error shows and no stale rows stay behind.
    await page.getByLabel('電話番号・顧客名').fill('山'.repeat(101));
    await page.getByRole('button', { name: '検索' }).click();
    await page.locator('#filter-error:not([hidden])').waitFor();
    assert.equal(await rows.count(), 0);
  } finally {
    await page.close();
  }
});
