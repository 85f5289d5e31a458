// @ts-check
// Browser: the popup shows who is calling from the pop itself, never waiting on D1. The pop
// message carries the caller's card; the console that opened the window hands it over (and the
// popup's own socket has it too), so with D1 unavailable the popup still shows the name, and
// says only that the history and notes could not be read. Chromium against the built Workers.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { startWithBrowser, tracePage } from './helpers/browser.mjs';
import { callEvent } from './helpers/worker.mjs';

const CTI_PATH = '/admin/popup/cti';

let w;
let base;
let context;
let pageErrors;
let session;

before(async () => {
  session = await startWithBrowser({
    worker: { d1Fault: true },
    login: { role: 'staff', store: '西船橋', name: '受付 三郎' },
  });
  ({ w, base, context, pageErrors } = session);
});

after(() => session?.close());

afterEach(async () => {
  await w.setD1('up');
  assert.deepEqual(pageErrors.splice(0), []);
});

/**
 * The popup the console opens for `ev`, once at its address (`commit`: once the page has
 * started, not loaded).
 * @param {any} ev
 * @param {{ waitUntil?: 'load' | 'commit' }} [opts]
 */
async function popupOf(ev, { waitUntil = 'load' } = {}) {
  const popupP = context.waitForEvent(
    'page',
    (p) => p.url().includes(CTI_PATH) || p.url() === 'about:blank',
  );
  const res = await w.sendEvent(ev);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const popup = await popupP;
  await popup.waitForURL((u) => u.pathname === CTI_PATH, { waitUntil });
  return popup;
}

test('D1 down: the popup still shows the caller from the pop, and says what it could not read', async () => {
  const page = await context.newPage();
  await page.goto(`${base}/admin/`);
  await page.locator('#conn-status', { hasText: /^接続中$/ }).waitFor();
  await w.reindex(); // the hub's pop index is loaded (it pops from it, not from D1)
  await w.setD1('down');
  const popup = await popupOf(callEvent());
  const traced = tracePage(popup);
  await traced(() => popup.getByRole('heading', { name: '山田 太郎' }).waitFor());
  await popup
    .getByRole('alert')
    .filter({ hasText: '履歴・ノートを取得できませんでした' })
    .waitFor();
  // Nothing pretends to be editable while the server has not said who may edit.
  assert.equal(await popup.getByRole('button', { name: '編集' }).count(), 0);
  // D1 is back: 再読み込み brings the full record (history, notes, who may edit).
  await w.setD1('up');
  await popup.getByRole('button', { name: '再読み込み' }).click();
  await popup
    .getByRole('alert')
    .filter({ hasText: '履歴・ノートを取得できませんでした' })
    .waitFor({ state: 'detached' });
  await popup.getByRole('heading', { name: '山田 太郎' }).waitFor();
});

test('D1 slow: the name shows before the lookup answers (the card comes from the pop)', async () => {
  const page = await context.newPage();
  await page.goto(`${base}/admin/`);
  await page.locator('#conn-status', { hasText: /^接続中$/ }).waitFor();
  await w.reindex();
  // Every statement that reads customer phones waits: the lookup cannot answer.
  const held = await w.holdD1('customer_phones');
  try {
    const popup = await popupOf(callEvent());
    await popup.getByRole('heading', { name: '山田 太郎' }).waitFor();
    assert.ok(await held.reached(), 'the lookup was still waiting on D1 when the name showed');
    assert.equal(await popup.evaluate(() => document.body.dataset.card), 'pop');
  } finally {
    await held.release();
  }
});

test("the name shows while the popup's other modules still load (pop-card.js needs two)", async () => {
  const page = await context.newPage();
  await page.goto(`${base}/admin/`);
  await page.locator('#conn-status', { hasText: /^接続中$/ }).waitFor();
  await w.reindex();
  // The card's module is held back: the full card cannot render until it is let through.
  /** @type {() => void} */
  let release = () => {};
  const released = new Promise((r) => {
    release = () => r(undefined);
  });
  let asked = false;
  await context.route('**/admin/popup/card.js', async (route) => {
    asked = true;
    await released;
    await route.continue().catch(() => {}); // the test may have ended meanwhile
  });
  try {
    const popup = await popupOf(callEvent(), { waitUntil: 'commit' });
    await popup.getByRole('heading', { name: '山田 太郎' }).waitFor();
    assert.ok(asked, 'card.js was asked for');
    assert.equal(await popup.evaluate(() => 'popHead' in document.body.dataset), true);
    assert.equal(await popup.title(), '着信 - 山田 太郎');
    // Only the card's head: nothing of the rest (no 編集, no empty usage) shows yet.
    assert.equal(await popup.getByRole('button', { name: '編集' }).count(), 0);
    assert.equal(await popup.getByRole('heading', { name: '利用状況' }).count(), 0);
    release();
    // The rest loads: the whole card, then the lookup's answer (who may edit).
    await popup.locator('#usage', { hasText: '来店回数' }).waitFor();
    await popup.getByRole('button', { name: '編集' }).waitFor();
    assert.equal(await popup.evaluate(() => 'popHead' in document.body.dataset), false);
  } finally {
    release();
    await context.unroute('**/admin/popup/card.js');
  }
});
