// @ts-check
// Browser: live calls without losing one. Two console tabs of one browser, the popup, the
// console's settings, and a restart of the server in the middle of a call. Chromium against the
// built Worker in workerd; every wait is on the DOM or on an event, never a fixed sleep.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openBrowser, WAIT } from './helpers/browser.mjs';
import { startWorker, callEvent, miniflareOptions } from './helpers/worker.mjs';

const CTI_PATH = '/admin/popup/cti';
// Reconnecting after a restart waits out the console's backoff (jittered, doubling from 1 s).
const RECONNECT_WAIT = 45_000;

const dir = mkdtempSync(join(tmpdir(), 'cti-live-'));
let w;
let port;
let base;
let browser;
let context;
let pageErrors;
let dialogs;
let account;
/** The two console tabs. */
let tabs = [];
/** Every popup window of the context: { page, callId }. */
const popups = [];
const popupWaiters = [];

before(async () => {
  // Persistent storage, so that a restart of workerd keeps the hub's event log and D1.
  w = await startWorker({ persist: dir });
  port = Number(new URL(w.url).port);
  // The session cookie is `Secure`: Chromium keeps it over plain http only for localhost.
  base = w.url.replace('127.0.0.1', 'localhost');
  account = await w.login({ role: 'admin', name: '受付 花子' });
  ({ browser, context, pageErrors, dialogs } = await openBrowser());
  // Desktop notifications are recorded (and can be "clicked") by the test.
  await context.addInitScript(() => {
    const Native = window.Notification;
    window.__notifications = [];
    if (!Native) return;
    window.Notification = class extends Native {
      constructor(title, options) {
        super(title, options);
        const record = {
          title,
          body: options?.body ?? null,
          tag: options?.tag ?? null,
          closed: false,
          n: this,
        };
        window.__notifications.push(record);
        const close = this.close.bind(this);
        this.close = () => {
          record.closed = true;
          close();
        };
      }
    };
  });
  context.on('page', async (p) => {
    await p.waitForLoadState('domcontentloaded').catch(() => {});
    let url;
    try {
      url = new URL(p.url());
    } catch {
      return;
    }
    if (url.pathname !== CTI_PATH) return;
    popups.push({ page: p, callId: url.searchParams.get('callId') });
    for (const wake of popupWaiters.splice(0)) wake();
  });
});

after(async () => {
  await browser?.close();
  await w?.close();
  rmSync(dir, { recursive: true, force: true });
});

afterEach(() => {
  assert.deepEqual(pageErrors, [], 'no page errors or CSP violations');
  assert.deepEqual(dialogs, []);
});

// ---------------------------------------------------------------------------------------------
// Helpers

/** Two console tabs of one browser, the first logged in through the form. */
async function openTabs() {
  if (tabs.length) return tabs;
  const first = await context.newPage();
  const res = await first.goto(`${base}/admin/`);
  assert.equal(res.status(), 200);
  await first.locator('#login-form').waitFor();
  await first.fill('#login-id', account.login);
  await first.fill('#login-password', account.password);
  await first.click('#login-submit');
  await first.locator('#console-view').waitFor();
  await first.locator('#conn-status', { hasText: /^接続中$/ }).waitFor();
  const second = await context.newPage();
  await second.goto(`${base}/admin/`);
  await second.locator('#console-view').waitFor();
  await second.locator('#conn-status', { hasText: /^接続中$/ }).waitFor();
  tabs = [first, second];
  return tabs;
}

/** Resolves with the popup window of a call, as soon as one exists. */
async function popupFor(callId, timeout = WAIT) {
  const find = () => popups.find((p) => p.callId === String(callId));
  const deadline = Date.now() + timeout;
  while (!find()) {
    const left = deadline - Date.now();
    if (left <= 0)
      throw new Error(`no popup for call ${callId}; popups: ${popups.map((p) => p.callId).join()}`);
    await new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no popup for call ${callId} within ${timeout} ms`)),
        left,
      );
      popupWaiters.push(() => {
        clearTimeout(timer);
        resolve(undefined);
      });
    });
  }
  return find().page;
}

const popupsOf = (callId) => popups.filter((p) => p.callId === String(callId));

/** window.open calls for a call's window, over every console tab. */
async function opensFor(callId) {
  const all = [];
  for (const page of tabs) {
    all.push(
      ...(await page.evaluate(() => window.__opened)).filter((o) => o.name === `cti-${callId}`),
    );
  }
  return all;
}

/** Waits until a console tab shows the call in the given state. */
function rowState(page, callId, text) {
  return page.locator(`tr[data-call-id="${callId}"] .state`, { hasText: text }).waitFor();
}

/** Sends a signed webhook and checks it was taken. */
async function send(ev) {
  const res = await w.sendEvent(ev);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body;
}

const connected = (ev, at = 3000) => ({
  ...ev,
  state: 'connected',
  date_connected: ev.date_started + at,
  event_timestamp: ev.date_started + at,
});
const hangup = (ev, at = 3000, end = 68000) => ({
  ...ev,
  state: 'hangup',
  date_connected: ev.date_started + at,
  date_ended: ev.date_started + end,
  duration: end - at,
  event_timestamp: ev.date_started + end,
});

/** Ends a call and waits until both tabs show it ended, so no test leaves a call ringing. */
async function endCall(ev) {
  await send(hangup(ev));
  for (const page of tabs) await rowState(page, ev.call_id, '終了');
}

/** Ends a call nobody answered. */
async function missCall(ev) {
  await send({ ...ev, state: 'missed', event_timestamp: ev.event_timestamp + 20_000 });
  for (const page of tabs) await rowState(page, ev.call_id, '不在着信');
}

/** Changes a setting in the first tab and waits until the second tab follows. */
async function setSetting(selector, on = true) {
  const [a, b] = tabs;
  if (on) await a.check(selector);
  else await a.uncheck(selector);
  await b
    .locator(`${selector}${on ? ':checked' : ':not(:checked)'}`)
    .waitFor({ state: 'attached' });
}

// ---------------------------------------------------------------------------------------------

test('two console tabs, one call: exactly one popup, which follows ringing → answered → ended', async () => {
  const [a, b] = await openTabs();
  const before = popups.length;
  const ev = callEvent(); // 山田 太郎 calls 西船橋
  const t = await send(ev);
  assert.equal(t.type, 'incoming_call');
  assert.equal(t.delivered >= 2, true, `both tabs are connected (${t.delivered})`);

  const popup = await popupFor(ev.call_id);
  await popup.locator('#customer-name', { hasText: /^山田 太郎$/ }).waitFor();
  await popup.locator('#call-state', { hasText: /着信中/ }).waitFor();
  for (const page of [a, b]) await rowState(page, ev.call_id, '着信中');

  // A later event of the same call: both tabs follow it, neither pops again.
  await send(connected(ev));
  await popup.locator('#call-state', { hasText: /通話中/ }).waitFor();
  for (const page of [a, b]) await rowState(page, ev.call_id, '通話中');
  await send(hangup(ev));
  await popup.locator('#call-state', { hasText: /終了/ }).waitFor();
  for (const page of [a, b]) await rowState(page, ev.call_id, '終了');

  // A different call pops its own window: the second one of this test, not the third.
  const other = callEvent({ external_number: '+818011119999', contact: null });
  await send(other);
  const otherPopup = await popupFor(other.call_id);
  await otherPopup.locator('#unknown-banner').waitFor({ state: 'visible' });
  assert.equal(popups.length - before, 2, popups.map((p) => p.callId).join());
  assert.equal(popupsOf(ev.call_id).length, 1);
  assert.equal((await opensFor(ev.call_id)).length, 1, 'one window.open over both tabs');
  assert.equal((await opensFor(other.call_id)).length, 1);
  // Always the call's own window name, so that re-opening it reuses the window.
  assert.deepEqual(
    (await opensFor(other.call_id)).map((o) => o.features),
    ['width=500,height=700'],
  );

  // A reload of the tab that did not pop the still-ringing call replays it: it does not pop
  // again, also once the pop's lock is long released (localStorage remembers the call).
  const opener = (await a.evaluate(
    (n) => window.__opened.some((o) => o.name === n),
    `cti-${other.call_id}`,
  ))
    ? a
    : b;
  const bystander = opener === a ? b : a;
  // (Waiting for the lock is waiting for its release: granted, then given back at once.)
  await a.evaluate((name) => navigator.locks.request(name, () => {}), `cti-pop-${other.call_id}`);
  await bystander.reload();
  await bystander.locator('#conn-status', { hasText: /^接続中$/ }).waitFor();
  await rowState(bystander, other.call_id, '着信中');
  const third = callEvent({ external_number: '+818099990000', contact: null });
  await send(third);
  await popupFor(third.call_id);
  for (const page of [a, b]) await rowState(page, third.call_id, '着信中');
  assert.equal(popups.length - before, 3, popups.map((p) => p.callId).join());
  assert.equal(popupsOf(other.call_id).length, 1);
  const reloadedOpens = await bystander.evaluate(() => window.__opened.map((o) => o.name));
  assert.ok(
    !reloadedOpens.includes(`cti-${other.call_id}`),
    'the reloaded tab did not pop the replayed call',
  );

  // Popped calls are remembered in localStorage with a time, never a token.
  const stored = await a.evaluate(() =>
    Object.fromEntries(Object.keys(localStorage).map((k) => [k, localStorage.getItem(k)])),
  );
  const popped = Object.entries(stored).find(([k]) => k.startsWith('cti.popped.'));
  assert.ok(popped, JSON.stringify(stored));
  const map = JSON.parse(popped[1]);
  for (const id of [ev.call_id, other.call_id, third.call_id])
    assert.equal(typeof map[String(id)], 'number');
  assert.ok(!/token|eyJ/i.test(JSON.stringify(stored)), 'no token in localStorage');

  await missCall(other);
  await missCall(third);
  for (const p of [popup, otherPopup, await popupFor(third.call_id)]) await p.close();
});

test('a restart of the server mid-call: 再接続中, then 接続中, and the missed answer arrives by replay', async () => {
  const [a, b] = await openTabs();
  const ev = callEvent();
  const rang = await send(ev);
  const popup = await popupFor(ev.call_id);
  await popup.locator('#call-state', { hasText: /着信中/ }).waitFor();
  await popup.locator('#conn-status', { hasText: /^接続中$/ }).waitFor();
  for (const page of [a, b]) await rowState(page, ev.call_id, '着信中');

  // Watch what the first tab's connection indicator says, and which sockets reconnect.
  await a.evaluate(() => {
    window.__connHistory = [];
    const node = document.querySelector('#conn-status');
    new MutationObserver(() => window.__connHistory.push(node.textContent)).observe(node, {
      childList: true,
      characterData: true,
      subtree: true,
    });
  });
  const reconnects = [];
  for (const page of [a, b, popup])
    page.on('websocket', (ws) => reconnects.push({ page, url: ws.url() }));
  // Keep the pages from reconnecting until the answer has happened while they were away.
  for (const page of [a, b, popup]) await page.evaluate(() => (window.__wsBlocked = true));

  // Restart workerd on the same port and storage: every socket is dropped server side.
  await w.mf.setOptions({ ...miniflareOptions({ persist: dir }), port });
  w.db = await w.mf.getD1Database('DB');
  for (const page of [a, b, popup])
    await page.locator('#conn-status', { hasText: /^再接続中$/ }).waitFor();

  // Answered while nobody is connected: no socket receives it live.
  const answered = await send(connected(ev));
  assert.equal(answered.delivered, 0);
  assert.ok(answered.seq > rang.seq);

  for (const page of [a, b, popup]) await page.evaluate(() => (window.__wsBlocked = false));
  for (const page of [a, b, popup]) {
    await page
      .locator('#conn-status', { hasText: /^接続中$/ })
      .waitFor({ timeout: RECONNECT_WAIT });
  }
  // The missed event came in by replay: everyone is at 通話中.
  await popup.locator('#call-state', { hasText: /通話中/ }).waitFor();
  for (const page of [a, b]) await rowState(page, ev.call_id, '通話中');

  const history = await a.evaluate(() => window.__connHistory);
  const lost = history.indexOf('再接続中');
  assert.ok(lost >= 0 && history.indexOf('接続中', lost) > lost, history.join(' → '));
  assert.equal(history.at(-1), '接続中');
  // Every reconnect asked for what it missed: since = the last seq it had seen, before the answer.
  assert.ok(reconnects.length >= 3, JSON.stringify(reconnects.map((r) => r.url)));
  for (const { url } of reconnects) {
    const m = /\/api\/cti\/socket\?since=(\d+)$/.exec(url);
    assert.ok(m, url);
    const since = Number(m[1]);
    assert.ok(
      since >= rang.seq && since < answered.seq,
      `${url}: since ${since} vs ${rang.seq}..${answered.seq}`,
    );
  }
  // Applied once: one row for the call, and no second popup.
  for (const page of [a, b])
    assert.equal(await page.locator(`tr[data-call-id="${ev.call_id}"]`).count(), 1);
  assert.equal(popupsOf(ev.call_id).length, 1);
  assert.equal((await opensFor(ev.call_id)).length, 1);

  // Live again: the hang-up arrives as it happens.
  await send(hangup(ev));
  await popup.locator('#call-state', { hasText: /終了/ }).waitFor();
  for (const page of [a, b]) await rowState(page, ev.call_id, '終了');
  await popup.close();
});

test('応答時: ringing does not pop, the answer does, once', async () => {
  const [a, b] = await openTabs();
  assert.equal(await a.isChecked('#set-pop-ring'), true, '着信時 is the default');
  await setSetting('#set-pop-answer');
  try {
    const ev = callEvent({ external_number: '+818033334444', contact: null });
    const t = await send(ev);
    assert.equal(t.type, 'incoming_call');
    // Both tabs handled the ringing (the pop decision is made with the row update): no window.
    for (const page of [a, b]) await rowState(page, ev.call_id, '着信中');
    assert.deepEqual(await opensFor(ev.call_id), []);

    await send(connected(ev));
    const popup = await popupFor(ev.call_id);
    await popup.locator('#call-state', { hasText: /通話中/ }).waitFor();
    for (const page of [a, b]) await rowState(page, ev.call_id, '通話中');

    // On hold (still answered), then hung up: still the same one window.
    await send({ ...connected(ev, 10_000), state: 'hold' });
    for (const page of [a, b]) await rowState(page, ev.call_id, '保留中');
    await endCall(ev);
    await popup.locator('#call-state', { hasText: /終了/ }).waitFor();
    assert.equal((await opensFor(ev.call_id)).length, 1);
    assert.equal(popupsOf(ev.call_id).length, 1);

    // A call that is never answered never pops, and its end (a phase that never pops) neither.
    const missed = callEvent({ external_number: '+818055556666', contact: null });
    await send(missed);
    await missCall(missed);
    assert.deepEqual(await opensFor(missed.call_id), []);
    await popup.close();
  } finally {
    await setSetting('#set-pop-ring');
  }
});

test('outbound calls pop only with 発信もポップアップする', async () => {
  const [a, b] = await openTabs();
  assert.equal(await a.isChecked('#set-pop-outbound'), false, 'off by default');
  const off = callEvent({ direction: 'outbound', state: 'calling' });
  const t = await send(off);
  assert.equal(t.type, 'call_state');
  for (const page of [a, b]) await rowState(page, off.call_id, '発信中');
  assert.deepEqual(await opensFor(off.call_id), []);

  await setSetting('#set-pop-outbound');
  try {
    // Only the first event of an outbound call pops: this one was already going on.
    await send(connected(off));
    for (const page of [a, b]) await rowState(page, off.call_id, '通話中');

    const on = callEvent({
      direction: 'outbound',
      state: 'calling',
      external_number: '+819012345678',
    });
    await send(on);
    const popup = await popupFor(on.call_id);
    await popup.locator('#customer-name', { hasText: /^山田 太郎$/ }).waitFor();
    for (const page of [a, b]) await rowState(page, on.call_id, '発信中');
    await send(connected(on));
    for (const page of [a, b]) await rowState(page, on.call_id, '通話中');
    await endCall(on);
    await endCall(off);
    assert.equal((await opensFor(on.call_id)).length, 1);
    assert.deepEqual(await opensFor(off.call_id), []);
    assert.equal(popupsOf(off.call_id).length, 0);
    await popup.close();
  } finally {
    await setSetting('#set-pop-outbound', false);
  }
});

test('ring sound: off by default, remembered after a reload, rings in one tab while ringing', async () => {
  const [a, b] = await openTabs();
  for (const page of [a, b]) assert.equal(await page.isChecked('#set-ring'), false);
  await setSetting('#set-ring');
  try {
    await a.reload();
    await a.locator('#conn-status', { hasText: /^接続中$/ }).waitFor();
    assert.equal(await a.isChecked('#set-ring'), true, 'remembered for this browser and user');
    const saved = await a.evaluate(() =>
      Object.entries(localStorage).filter(([k]) => k.startsWith('cti.settings.')),
    );
    assert.equal(saved.length, 1);
    assert.match(saved[0][0], /^cti\.settings\.\d+$/, 'the key names the user');
    assert.equal(JSON.parse(saved[0][1]).ringSound, true);

    // While a call rings, exactly one tab of the browser rings; the answer stops it.
    const ev = callEvent();
    await send(ev);
    const popup = await popupFor(ev.call_id);
    const ringing = await Promise.any(
      [a, b].map((p) =>
        p
          .locator('#ring-status')
          .waitFor({ state: 'visible' })
          .then(() => p),
      ),
    );
    const quiet = ringing === a ? b : a;
    await rowState(quiet, ev.call_id, '着信中');
    assert.equal(await quiet.isVisible('#ring-status'), false, 'the other tab waits its turn');
    await send(connected(ev));
    for (const page of [a, b]) {
      await rowState(page, ev.call_id, '通話中');
      await page.locator('#ring-status').waitFor({ state: 'hidden' });
    }
    await endCall(ev);
    await popup.close();
  } finally {
    await setSetting('#set-ring', false);
  }
  await a.reload();
  await a.locator('#conn-status', { hasText: /^接続中$/ }).waitFor();
  assert.equal(await a.isChecked('#set-ring'), false);
});

test('a blocked popup: banner, plus a desktop notification whose click opens the popup', async () => {
  const [a, b] = await openTabs();
  await context.grantPermissions(['notifications'], { origin: base });
  await setSetting('#set-notify');
  for (const page of [a, b]) await page.evaluate(() => (window.__blockPopups = 1));
  try {
    const ev = callEvent();
    await send(ev);
    // The tab that claimed the call tried to open it, was blocked, and notified.
    const page = await Promise.any(
      [a, b].map((p) => p.waitForFunction(() => window.__notifications.length > 0).then(() => p)),
    );
    await page.locator('#popup-blocked').waitFor({ state: 'visible' });
    const [note] = await page.evaluate(() =>
      window.__notifications.map(({ title, body, tag }) => ({ title, body, tag })),
    );
    assert.equal(note.title, '着信: 山田 太郎 (西船橋)');
    assert.equal(note.tag, `cti-${ev.call_id}`);
    const other = page === a ? b : a;
    assert.equal(
      await other.evaluate(() => window.__notifications.length),
      0,
      'one notification per browser',
    );

    await page.evaluate(() => window.__notifications[0].n.dispatchEvent(new Event('click')));
    const popup = await popupFor(ev.call_id);
    await popup.locator('#customer-name', { hasText: /^山田 太郎$/ }).waitFor();
    await page.locator('#popup-blocked').waitFor({ state: 'hidden' });
    assert.deepEqual(
      (await opensFor(ev.call_id)).map((o) => o.blocked),
      [true, false],
    );
    assert.ok(
      await page.evaluate(() => window.__notifications[0].closed),
      'the notification is closed once the popup opened',
    );
    await missCall(ev);
    await popup.close();
  } finally {
    for (const page of [a, b]) await page.evaluate(() => (window.__blockPopups = 0));
    await setSetting('#set-notify', false);
  }
});

test('logging out: the connection says 切断', async () => {
  const [a] = await openTabs();
  await a.click('#logout');
  await a.locator('#login-form').waitFor();
  assert.equal(await a.textContent('#conn-status'), '切断');
  tabs = [];
});
