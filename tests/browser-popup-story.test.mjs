// @ts-check
// Browser: the popup at 500×700 tells the story (issue 22, items 2, 5, 6 and 10), in Chromium
// against the built Worker, driven by visible labels: the previous call's wrap-up near the top
// without scrolling, history rows that open their call's details, 対応記録 in reach without
// scrolling (docked, Alt+W), the caller's name first (a long katakana name never starts a line
// with ー), pinned 注意 notes one line each and not repeated in ノート, another store's
// customer said to be one (no registration), and 対応中: <name> in a second popup of the call.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { WAIT, startWithBrowser, apiAs } from './helpers/browser.mjs';
import { callEvent } from './helpers/worker.mjs';

let w;
let base;
let browser;
let context;
let pageErrors;
let staffA;
let consolePage;

// A long name full of ー, to see where it wraps at 500 px.
const LONG_NAME =
  'マクシミリアーノ・ハーヴェイ＝ルーズヴェルト・ヴァーノン・ドーソン・スーパーバイザー';
const CALLER = '+819077770001';
const NISHI_LINE = '+815017481234';

let session;
let customerId;
before(async () => {
  session = await startWithBrowser({ login: { role: 'staff', store: '西船橋', name: '受付 A' } });
  ({ w, base, account: staffA, browser, context, pageErrors } = session);
  customerId = await w.addCustomer({
    name: LONG_NAME,
    kana: 'マクシミリアーノ',
    phone: '09077770001',
    store: '西船橋',
    memo: '駐車場あり',
  });
  const api = apiAs(w, staffA);
  // The pinned note is among the 3 latest notes: it used to show twice.
  await api(`/api/customers/${customerId}/notes`, {
    method: 'POST',
    body: { type: '一般', body: '前回はカット' },
  });
  await api(`/api/customers/${customerId}/notes`, {
    method: 'POST',
    body: {
      type: '注意',
      body: '耳が遠いのでゆっくり大きな声で話す。電話では住所を確認しないこと。折り返しは夕方以降に。',
    },
  });
});

after(() => session?.close());

afterEach(() => {
  assert.deepEqual(pageErrors.splice(0), []);
});

async function openConsole() {
  if (consolePage) return consolePage;
  const page = await context.newPage();
  await page.goto(`${base}/admin/`);
  await page.locator('#conn-status', { hasText: /^接続中$/ }).waitFor();
  consolePage = page;
  return page;
}

/** Sends a signed webhook while staff A's console is open; resolves with the popup (500×700). */
async function callAndPopup(ev) {
  await openConsole();
  const popupP = context.waitForEvent('page');
  const res = await w.sendEvent(ev);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const popup = await popupP;
  await popup.waitForLoadState('domcontentloaded');
  return popup;
}

/** Another person's browser, logged in, with a 500×700 page. */
async function otherPerson(user) {
  const ctx = await browser.newContext({
    viewport: { width: 500, height: 700 },
    locale: 'ja-JP',
    timezoneId: 'Asia/Tokyo',
  });
  ctx.setDefaultTimeout(WAIT);
  ctx.on('page', (p) => p.on('pageerror', (e) => pageErrors.push(`${p.url()}: ${e.message}`)));
  const res = await ctx.request.post(`${base}/api/auth/login`, {
    data: { loginId: user.login, password: user.password },
  });
  assert.equal(res.status(), 200);
  return ctx;
}

/** The box of `locator` lies within the window, above the docked 対応記録, with nothing scrolled. */
async function inReach(popup, locator, what) {
  const { inner, scrolled } = await popup.evaluate(() => ({
    inner: window.innerHeight,
    scrolled: window.scrollY,
  }));
  assert.equal(scrolled, 0, 'nothing scrolled');
  assert.ok(inner <= 700, `the popup is 700 px high at most (${inner})`);
  const box = await locator.boundingBox();
  assert.ok(box, `${what} is shown`);
  assert.ok(
    box.y >= 0 && box.y + box.height <= inner,
    `${what} is on screen without scrolling (${Math.round(box.y)}–${Math.round(box.y + box.height)} of ${inner})`,
  );
  return box;
}

let firstCall;

test("a. the previous call's wrap-up is in the next popup near the top; the name first; 対応記録 docked with Alt+W; the pinned note one line, not repeated", async () => {
  // The first call: answered, wrapped up in the popup, hung up.
  firstCall = callEvent({ external_number: CALLER, internal_number: NISHI_LINE, contact: null });
  const t0 = firstCall.date_started;
  const first = await callAndPopup(firstCall);
  await first.locator('#customer-name', { hasText: LONG_NAME }).waitFor();
  await w.sendEvent({
    ...firstCall,
    state: 'connected',
    date_connected: t0 + 1000,
    event_timestamp: t0 + 1000,
    target: { id: 1, name: '受付 A', type: 'user' },
  });
  await first.getByLabel('用件').selectOption('問い合わせ');
  await first.getByLabel('対応結果').selectOption('折り返し予定');
  await first.getByLabel('対応メモ').fill('料金を確認して午後に折り返す');
  await first.getByRole('button', { name: '対応記録を保存' }).click();
  await first.locator('#wrapup-status', { hasText: '保存しました' }).waitFor();
  await w.sendEvent({
    ...firstCall,
    state: 'hangup',
    date_connected: t0 + 1000,
    date_ended: t0 + 61_000,
    duration: 60_000,
    event_timestamp: t0 + 61_000,
  });
  await first.locator('#call-state', { hasText: '終了' }).waitFor();
  await first.close();

  // The next call from the same number.
  const popup = await callAndPopup(
    callEvent({ external_number: CALLER, internal_number: NISHI_LINE, contact: null }),
  );
  const story = popup.getByRole('region', { name: '前回までの対応' });
  const note = story.getByText('料金を確認して午後に折り返す');
  await note.waitFor();
  assert.match(await story.textContent(), /問い合わせ · 折り返し予定/);
  assert.match(await story.textContent(), /受付 A/);

  // The caller's name is the first heading, at the top.
  const firstHeading = popup.getByRole('heading').first();
  assert.equal(await firstHeading.textContent(), LONG_NAME);
  const nameBox = await inReach(popup, firstHeading, 'the name');
  assert.ok(nameBox.y < 200, `the name is at the top (${nameBox.y})`);

  // 対応記録 is in reach: docked at the bottom, the story above it, nothing scrolled.
  const dock = popup.getByRole('region', { name: '対応記録' });
  const dockBox = await inReach(popup, dock, '対応記録');
  const noteBox = await inReach(popup, note, 'the previous wrap-up');
  assert.ok(
    noteBox.y + noteBox.height <= dockBox.y,
    `the previous wrap-up is not under the docked form (${noteBox.y + noteBox.height} > ${dockBox.y})`,
  );
  await inReach(popup, popup.getByLabel('用件'), '用件');
  await inReach(popup, popup.getByLabel('対応メモ'), '対応メモ');
  await inReach(popup, popup.getByRole('button', { name: '対応記録を保存' }), '対応記録を保存');

  // Alt+W focuses 用件 from anywhere; the popup says so.
  assert.match(await dock.textContent(), /Alt\+W/);
  await popup.getByRole('link', { name: '着信履歴へ' }).focus();
  await popup.keyboard.press('Alt+KeyW');
  assert.equal(
    await popup.getByLabel('用件').evaluate((n) => n === document.activeElement),
    true,
    'Alt+W focuses 用件',
  );

  // The pinned 注意 note: one line, opened in place, and not repeated in ノート.
  const pinned = popup.getByRole('region', { name: '要確認のノート' });
  await pinned
    .getByText(/耳が遠いので/)
    .first()
    .waitFor();
  const summary = pinned.locator('summary').first();
  const lineHeight = (await summary.boundingBox()).height;
  assert.ok(lineHeight < 32, `the pinned note takes one line (${lineHeight} px)`);
  const notes = popup.locator('#notes');
  await notes.getByText('前回はカット').waitFor();
  assert.doesNotMatch(
    await notes.textContent(),
    /耳が遠い/,
    'the pinned note is not repeated in ノート',
  );
  await summary.click();
  await pinned.getByText('折り返しは夕方以降に。', { exact: false }).last().waitFor();
  assert.ok(
    (await pinned.boundingBox()).height > lineHeight * 1.5,
    'opened, the note shows in full',
  );
  await summary.click();
  // A 苦情 note added in the popup is pinned at once, not listed in ノート.
  await popup.getByLabel('種類').selectOption('苦情');
  await popup.getByLabel('ノート', { exact: true }).fill('待ち時間が長いと言われた');
  await popup.getByRole('button', { name: '追加', exact: true }).click();
  await pinned.getByText('待ち時間が長いと言われた').first().waitFor();
  assert.doesNotMatch(await notes.textContent(), /待ち時間が長い/);

  // A long katakana name wraps, never with ー (or a small kana) at the start of a line. Also
  // the same name shifted by a character or more, so some break would fall before a ー.
  const bad = await popup.locator('#customer-name').evaluate((node, name) => {
    const starts = () => {
      const text = node.firstChild;
      const out = [];
      let top = null;
      for (let i = 0; i < text.data.length; i++) {
        const r = document.createRange();
        r.setStart(text, i);
        r.setEnd(text, i + 1);
        const rect = r.getClientRects()[0];
        if (!rect?.width) continue;
        if (top !== null && rect.top > top + 2) out.push(text.data[i]);
        top = rect.top;
      }
      return out;
    };
    const found = [];
    let wrapped = 0;
    for (let shift = 0; shift < 6; shift++) {
      node.textContent = 'ア'.repeat(shift) + name;
      const s = starts();
      if (s.length) wrapped += 1;
      for (const c of s) if ('ーァィゥェォッャュョヮヵヶ'.includes(c)) found.push(`${shift}:${c}`);
    }
    node.textContent = name;
    return { found, wrapped };
  }, LONG_NAME);
  assert.ok(bad.wrapped > 0, 'the name is long enough to wrap at 500 px');
  assert.deepEqual(bad.found, [], 'no line of the name starts with ー or a small kana');
  await popup.close();
});

test("b. a history row and a 前回までの対応 item open their call's details, by mouse and by keyboard", async () => {
  assert.ok(firstCall, 'test a made the first call');
  const popup = await callAndPopup(
    callEvent({ external_number: CALLER, internal_number: NISHI_LINE, contact: null }),
  );
  const row = popup.locator(`#history li[data-call-id="${firstCall.call_id}"]`);
  await row.waitFor();
  assert.match(await row.textContent(), /問い合わせ · 折り返し予定/, 'the row shows its 用件');

  // A click on the row: the call's date, store, line, who answered, duration, phase, wrap-up.
  const open = row.getByRole('button');
  await open.click();
  const dialog = popup.getByRole('dialog', { name: '着信の詳細' });
  await dialog.waitFor();
  await dialog.getByText('受付 A').first().waitFor();
  const text = await dialog.textContent();
  for (const part of [
    '日時',
    '西船橋',
    '050-1748-1234',
    '応対者',
    '1:00',
    '終了',
    '問い合わせ',
    '折り返し予定',
    '料金を確認して午後に折り返す',
  ]) {
    assert.ok(text.includes(part), `the details show ${part}: ${text}`);
  }
  // Esc closes it and focus goes back to the row.
  await popup.keyboard.press('Escape');
  await dialog.waitFor({ state: 'hidden' });
  assert.equal(
    await open.evaluate((n) => n === document.activeElement),
    true,
    'focus back on the row',
  );

  // By keyboard: Enter on the focused row opens it; 閉じる closes it.
  await popup.keyboard.press('Enter');
  await dialog.waitFor();
  await dialog.getByRole('button', { name: '閉じる' }).click();
  await dialog.waitFor({ state: 'hidden' });

  // A 前回までの対応 item opens the same details.
  await popup
    .getByRole('region', { name: '前回までの対応' })
    .getByRole('button', { name: /料金を確認して午後に折り返す/ })
    .click();
  await dialog.waitFor();
  await dialog.getByText('050-1748-1234').waitFor();
  assert.match(await dialog.textContent(), /折り返し予定/);
  await dialog.getByRole('button', { name: '閉じる' }).click();
  await popup.close();
});

test('c. a caller of another store: 他店舗のお客様です up front, no registration form', async () => {
  // 佐藤 花子 is a customer of 錦糸町; she calls 西船橋, whose staff may not see her.
  const popup = await callAndPopup(
    callEvent({ external_number: '+818011112222', internal_number: NISHI_LINE, contact: null }),
  );
  await popup.getByText('他店舗のお客様です').waitFor();
  await inReach(popup, popup.getByText('他店舗のお客様です'), '他店舗のお客様です');
  assert.equal(await popup.getByText('未登録', { exact: true }).isVisible(), false, 'not 未登録');
  assert.equal(
    await popup.getByRole('button', { name: '登録する' }).isVisible(),
    false,
    'no registration',
  );
  assert.equal(await popup.getByLabel('氏名').isVisible(), false, 'no name field');
  assert.doesNotMatch(
    await popup.locator('body').innerText(),
    /佐藤|サトウ/,
    'who she is stays hidden',
  );
  await popup.close();
});

test('d. 対応中: the name shows live in a second popup of the call when the first claims it', async () => {
  const staffB = await w.login({ role: 'staff', store: '西船橋', name: '受付 B' });
  const ev = callEvent({ external_number: CALLER, internal_number: NISHI_LINE, contact: null });
  const popupA = await callAndPopup(ev);
  await popupA.locator('#customer-name', { hasText: LONG_NAME }).waitFor();
  const ctxB = await otherPerson(staffB);
  const popupB = await ctxB.newPage();
  await popupB.goto(`${base}/admin/popup/cti?callId=${encodeURIComponent(ev.call_id)}`);
  await popupB.locator('#customer-name', { hasText: LONG_NAME }).waitFor();
  for (const p of [popupA, popupB])
    await p.locator('#conn-status', { hasText: /^接続中$/ }).waitFor();
  assert.equal(await popupB.getByText(/対応中:/).count(), 0, 'nobody has it yet');

  // A starts the wrap-up (Alt+W): B sees who has the call, without reloading.
  await popupA.keyboard.press('Alt+KeyW');
  const claimed = popupB.getByText('対応中: 受付 A');
  await claimed.waitFor();
  await inReach(popupB, claimed, '対応中');
  await ctxB.close();
  await popupA.close();
});

test('e. call_wrapup: a wrap-up saved at another desk shows in this popup (the form and 前回までの対応), a draft being typed stays', async () => {
  assert.ok(firstCall, 'test a made the first call');
  const staffB = await w.login({ role: 'staff', store: '西船橋', name: '受付 B' });
  const asB = apiAs(w, staffB);
  // B saves as the popup does: with the version it read (a stale one would be a 409).
  const saveAsB = async (body) => {
    const current = await asB(`/api/calls/wrapup?callId=${encodeURIComponent(body.callId)}`);
    assert.equal(current.status, 200, JSON.stringify(current.body));
    return asB('/api/calls/wrapup', {
      method: 'PUT',
      body: { ...body, version: current.body.call?.wrapupVersion ?? 0 },
    });
  };
  const { id: storeId } = await w.db.prepare("SELECT id FROM stores WHERE name = '西船橋'").first();
  // What the wrap-up API tells the call's rooms once a wrap-up is saved (the hub's broadcast).
  const announce = (callId, wrapup, n) =>
    w.hub('/broadcast', {
      key: `test-wrapup:${callId}:${n}`,
      storeId,
      message: JSON.stringify({
        type: 'call_wrapup',
        callId: String(callId),
        category: wrapup.category,
        outcome: wrapup.outcome,
        by: '受付 B',
        at: Date.now(),
      }),
    });

  const ev = callEvent({ external_number: CALLER, internal_number: NISHI_LINE, contact: null });
  const popup = await callAndPopup(ev);
  await popup.locator('#customer-name', { hasText: LONG_NAME }).waitFor();
  await popup.locator('#conn-status', { hasText: /^接続中$/ }).waitFor();

  // B saves this call's wrap-up: A's form shows it, who saved it, without a reload.
  const mine = {
    callId: String(ev.call_id),
    category: '予約',
    outcome: '対応済み',
    note: '来週の予約を受けた',
  };
  assert.equal((await saveAsB(mine)).status, 200);
  await announce(ev.call_id, mine, 1);
  await popup.locator('#wrapup-status', { hasText: '保存済み（受付 B）' }).waitFor();
  assert.equal(await popup.getByLabel('用件').inputValue(), '予約');
  assert.equal(await popup.getByLabel('対応メモ').inputValue(), '来週の予約を受けた');

  // B corrects the previous call's wrap-up: 前回までの対応 follows.
  const earlier = {
    callId: String(firstCall.call_id),
    category: '問い合わせ',
    outcome: '対応済み',
    note: '料金は午後に伝えた',
  };
  assert.equal((await saveAsB(earlier)).status, 200);
  await announce(firstCall.call_id, earlier, 2);
  await popup
    .getByRole('region', { name: '前回までの対応' })
    .getByText('料金は午後に伝えた')
    .waitFor();

  // A is typing: B's next save does not overwrite A's draft.
  await popup.getByLabel('対応メモ').fill('Aの下書き');
  const again = { ...mine, note: 'Bの二度目' };
  assert.equal((await saveAsB(again)).status, 200);
  await announce(ev.call_id, again, 3);
  // (the message arrived: this call's history row shows B's text)
  await popup
    .locator(`#history li[data-call-id="${ev.call_id}"]`, { hasText: 'Bの二度目' })
    .waitFor();
  assert.equal(await popup.getByLabel('対応メモ').inputValue(), 'Aの下書き');
  await popup.close();
});
