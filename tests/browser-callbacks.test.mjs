// @ts-check
// Browser (issue 22, items 3 and 5): the 折り返し page driven by visible labels — three missed
// calls are one row, 詳細 shows the calls and logs attempts (結果, メモ, 記録する), 担当にする,
// the 担当 filter, bulk close — and two desks' wrap-ups of one call conflict visibly in the popup.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { startWithBrowser, apiAs } from './helpers/browser.mjs';
import { callEvent } from './helpers/worker.mjs';

let w;
let base;
let context;
let pageErrors;
let staff;
let session;

before(async () => {
  session = await startWithBrowser({
    login: { role: 'staff', store: '西船橋', name: '受付 ゆみ' },
  });
  ({ w, base, account: staff, context, pageErrors } = session);
});

after(() => session?.close());

afterEach(() => {
  assert.deepEqual(pageErrors.splice(0), []);
});

async function missedCall(caller) {
  const ev = callEvent({ external_number: caller, contact: null });
  await w.sendEvent(ev);
  const t = ev.date_started + 15000;
  await w.sendEvent({ ...ev, state: 'hangup', event_timestamp: t, date_ended: t });
  return ev;
}

async function answeredCall(caller) {
  const ev = callEvent({ external_number: caller, contact: null });
  await w.sendEvent(ev);
  const c = ev.date_started + 2000;
  await w.sendEvent({ ...ev, state: 'connected', date_connected: c, event_timestamp: c });
  return ev;
}

test('折り返し: three missed calls are one row; 詳細 shows them and logs an attempt; 担当にする; bulk close', async () => {
  for (let i = 0; i < 3; i++) await missedCall('+818055550001');
  const promised = await answeredCall('+818055550002');
  const saved = await apiAs(w, staff)('/api/calls/wrapup', {
    method: 'PUT',
    body: {
      callId: String(promised.call_id),
      category: '予約',
      outcome: '折り返し予定',
      note: '料金を確認して午後に折り返す',
      version: 0,
    },
  });
  assert.equal(saved.status, 200, JSON.stringify(saved.body));

  const page = await context.newPage();
  await page.goto(`${base}/admin/callbacks.html`);
  const row1 = page.locator('#cb-body tr', { hasText: '080-5555-0001' });
  const row2 = page.locator('#cb-body tr', { hasText: '080-5555-0002' });
  await row1.waitFor();
  assert.equal(await row1.count(), 1, 'one row for the number');
  assert.match(await row1.textContent(), /不在着信 3件/);
  assert.match(await row1.textContent(), /未対応/);
  assert.match(await row2.textContent(), /折り返し予定 1件/);

  // 詳細: the three calls, then an attempt.
  await page.getByRole('button', { name: '詳細 080-5555-0001' }).click();
  const detail = page.locator('#cb-detail');
  await detail.locator('li.cb-call').nth(2).waitFor();
  assert.equal(await detail.locator('li.cb-call').count(), 3);
  assert.match(await detail.locator('#cb-detail-calls').textContent(), /不在着信/);
  await page.getByLabel('結果').selectOption('不在');
  await page.getByLabel('メモ').fill('再度17時');
  await page.getByRole('button', { name: '記録する' }).click();
  await detail.locator('li.cb-attempt', { hasText: '再度17時' }).waitFor();
  assert.match(await detail.locator('li.cb-attempt').textContent(), /不在.*受付 ゆみ/s);
  await page
    .locator('#cb-body tr[data-status="in_progress"]', { hasText: '080-5555-0001' })
    .waitFor();
  assert.match(await row1.locator('.cb-last-attempt').textContent(), /不在 「再度17時」 受付 ゆみ/);

  // 担当にする, and the 担当 filter.
  await detail.getByRole('button', { name: '担当にする' }).click();
  await row1.locator('.cb-owner', { hasText: '受付 ゆみ' }).waitFor();
  await page.getByLabel('担当').selectOption('me');
  await row2.waitFor({ state: 'detached' });
  assert.equal(await row1.count(), 1);
  await page.getByLabel('担当').selectOption('');
  await row2.waitFor();

  // The promised one shows its wrap-up's note.
  await page.getByRole('button', { name: '詳細 080-5555-0002' }).click();
  await detail.locator('#cb-detail-calls', { hasText: '料金を確認して午後に折り返す' }).waitFor();
  assert.match(await detail.locator('#cb-detail-calls').textContent(), /対応結果: 折り返し予定/);

  // Both selected, closed at once.
  await page.getByLabel('選択 080-5555-0001').check();
  await page.getByLabel('選択 080-5555-0002').check();
  await page.getByRole('button', { name: '選択した項目を完了にする' }).click();
  await page.locator('#cb-empty').waitFor({ state: 'visible' });
  await page.getByLabel('状態').selectOption('done');
  await row1.waitFor();
  assert.match(await row1.textContent(), /対応済/);
  assert.match(await row2.textContent(), /受付 ゆみ/);
  await page.close();
});

test('two desks, one wrap-up: the popup shows who saved first and their text, and 上書きする saves over it', async () => {
  const other = await w.login({ role: 'staff', store: '西船橋', name: '受付 けん' });
  const ev = await answeredCall('+818055550003');
  const callId = String(ev.call_id);
  const popup = await context.newPage();
  await popup.setViewportSize({ width: 500, height: 700 });
  await popup.goto(`${base}/admin/popup/cti?${new URLSearchParams({ callId })}`);
  await popup.getByRole('button', { name: '対応記録を保存' }).waitFor();
  await popup.locator('#wrapup-status').waitFor({ state: 'attached' });
  // The other desk saves first.
  const first = await apiAs(w, other)('/api/calls/wrapup', {
    method: 'PUT',
    body: {
      callId,
      category: '問い合わせ',
      outcome: '対応済み',
      note: '在庫を回答済み',
      version: 0,
    },
  });
  assert.equal(first.status, 200);
  await popup.getByLabel('対応結果').selectOption('担当者へ引継ぎ');
  await popup.getByLabel('対応メモ').fill('店長に引継ぎ');
  await popup.getByRole('button', { name: '対応記録を保存' }).click();
  const conflict = popup.locator('.wrapup-conflict');
  await conflict.waitFor();
  assert.match(await conflict.textContent(), /他の人（受付 けん）が先に保存しました/);
  assert.match(await conflict.textContent(), /在庫を回答済み/);
  assert.equal(
    (await apiAs(w, staff)(`/api/calls/wrapup?callId=${callId}`)).body.call.wrapupNote,
    '在庫を回答済み',
    'nothing overwritten yet',
  );
  await popup.getByRole('button', { name: '上書きする' }).click();
  await popup.locator('#wrapup-status', { hasText: '保存しました' }).waitFor();
  await conflict.waitFor({ state: 'detached' });
  const now = (await apiAs(w, staff)(`/api/calls/wrapup?callId=${callId}`)).body.call;
  assert.equal(now.wrapupNote, '店長に引継ぎ');
  assert.equal(now.wrapupBy, '受付 ゆみ');
  assert.equal(now.wrapupVersion, 2);
  await popup.close();
});
