// @ts-check
// Browser: the desk never misses a call (issue: pops on every page). Every signed-in page
// listens and pops; a blocked pop-up is listed with every other blocked live call; the single
// reusable window calms a burst; unanswered popups close themselves (never over typed text);
// the console pins live calls and its rows tell the truth; a shift change keeps live popups.
// Chromium against the built Worker in workerd; every wait is on the DOM or an event.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { startWithBrowser, tracePage } from './helpers/browser.mjs';
import { callEvent, newCallId } from './helpers/worker.mjs';

const CTI_PATH = '/admin/popup/cti';
const SHOP = '+815017481234'; // 西船橋's line

let w;
let base;
let context;
let pageErrors;
let dialogs;
let session;

before(async () => {
  session = await startWithBrowser({
    login: { role: 'staff', store: '西船橋', name: '受付 一郎' },
  });
  ({ w, base, context, pageErrors, dialogs } = session);
});

after(() => session?.close());

afterEach(async () => {
  assert.deepEqual(pageErrors.splice(0), [], 'no page errors or CSP violations');
  assert.deepEqual(dialogs.splice(0), [], 'no browser dialogs (alert/confirm) anywhere');
  for (const p of context.pages()) await p.close().catch(() => {});
  // Each test starts from the default console settings, whatever the one before left.
  const p = await context.newPage();
  await p.goto(`${base}/favicon.svg`);
  await p.evaluate(() => {
    for (const k of Object.keys(localStorage))
      if (k.startsWith('cti.settings.')) localStorage.removeItem(k);
  });
  await p.close();
});

/**
 * Popup windows (the call pages) opened from now on: { list, next(n) }. A window counts once,
 * when it first shows a call page (the single window opens blank, then loads the call).
 */
function watchPopups() {
  const list = [];
  const waiters = [];
  const seen = (p) => {
    if (list.includes(p) || !p.url().includes(CTI_PATH)) return;
    list.push(p);
    for (const wake of waiters.splice(0)) wake();
  };
  const onPage = (p) => {
    p.on('framenavigated', (f) => f === p.mainFrame() && seen(p));
    p.waitForLoadState('domcontentloaded').then(
      () => seen(p),
      () => {},
    );
  };
  context.on('page', onPage);
  return {
    list,
    async next(n = 1) {
      const deadline = Date.now() + 30_000;
      while (list.length < n) {
        if (Date.now() > deadline)
          throw new Error(`expected ${n} popup windows, saw ${list.length}`);
        await new Promise((r) => {
          waiters.push(r);
          setTimeout(r, 1_000);
        });
      }
      return list[n - 1];
    },
    stop: () => context.off('page', onPage),
  };
}

async function ring(overrides = {}) {
  const ev = callEvent({ internal_number: SHOP, ...overrides });
  const res = await w.sendEvent(ev);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return ev;
}

async function end(ev, state = 'missed', extra = {}) {
  const now = Date.now();
  const res = await w.sendEvent({ ...ev, state, date_ended: now, event_timestamp: now, ...extra });
  assert.equal(res.status, 200, JSON.stringify(res.body));
}

async function listening(page) {
  await page.locator('#conn-status', { hasText: /^接続中$/ }).waitFor();
}

test('a call pops while the tab shows 顧客, 着信履歴 or 折り返し — once, however many pages are open', async () => {
  const page = await context.newPage();
  await page.goto(`${base}/admin/`);
  await listening(page);
  // The receptionist goes to 顧客 in the console's own tab.
  await page.getByRole('link', { name: '顧客', exact: true }).click();
  await page.getByRole('heading', { name: '顧客', exact: true }).waitFor();
  await listening(page);
  const popups = watchPopups();
  const ev = await ring({ external_number: '+819011110001', contact: null });
  const popup = await popups.next();
  assert.equal(new URL(popup.url()).searchParams.get('callId'), String(ev.call_id));
  // The tab says a call rings.
  await page.waitForFunction(() => document.title.startsWith('(1) 着信中'));
  await end(ev);
  await page.waitForFunction(() => !document.title.includes('着信中'));

  // Two more pages of the same browser: 着信履歴 and 折り返し; a call still pops once.
  const log = await context.newPage();
  await log.goto(`${base}/admin/calls.html`);
  await listening(log);
  await page.getByRole('link', { name: '折り返し' }).click();
  await listening(page);
  const second = await ring({ external_number: '+819011110002', contact: null });
  const p2 = await popups.next(2);
  assert.equal(new URL(p2.url()).searchParams.get('callId'), String(second.call_id));
  // Both pages heard the call (their titles ring), but only one window opened.
  for (const p of [page, log])
    await p.waitForFunction(() => document.title.startsWith('(1) 着信中'));
  await end(second);
  for (const p of [page, log]) await p.waitForFunction(() => !document.title.includes('着信中'));
  const opened =
    (await page.evaluate(() => window.__opened.length)) +
    (await log.evaluate(() => window.__opened.length));
  assert.equal(opened, 1, 'one window.open for the call across both pages');
  assert.equal(popups.list.length, 2);
  popups.stop();
});

test('a call that rings while the tab moves to another page still pops on the next page', async () => {
  const page = await context.newPage();
  await page.goto(`${base}/admin/customers.html`);
  await listening(page);
  const popups = watchPopups();
  // The page is gone (navigating) when the call rings: the next page's catch-up pops it.
  await page.goto('about:blank');
  const ev = await ring({ external_number: '+819011110003', contact: null });
  await page.goto(`${base}/admin/stores.html`);
  const popup = await popups.next();
  assert.equal(new URL(popup.url()).searchParams.get('callId'), String(ev.call_id));
  await end(ev);
  popups.stop();
});

test('blocked pop-ups: the banner lists every blocked live call, says where to allow them, and opens each', async () => {
  const page = await context.newPage();
  await page.goto(`${base}/admin/calls.html`);
  await listening(page);
  await page.evaluate(() => {
    window.__blockPopups = 2;
  });
  const a = await ring({ external_number: '+819022220001', contact: null });
  const banner = page.getByRole('alert').filter({ hasText: 'ポップアップがブロックされました' });
  await banner.filter({ hasText: '090-2222-0001' }).waitFor();
  const b = await ring({ external_number: '+819022220002', contact: null });
  await banner.filter({ hasText: '090-2222-0002' }).waitFor();
  // The earlier one is still listed, each with its own button.
  await banner.filter({ hasText: '090-2222-0001' }).waitFor();
  assert.equal(await banner.getByRole('button', { name: /ポップアップを開く$/ }).count(), 2);
  // Where Chrome and Edge allow pop-ups for this site.
  const help = await banner.innerText();
  assert.match(help, /常に許可/);
  assert.match(help, /ポップアップとリダイレクト/);
  assert.match(help, /Edge/);
  // One opens its own call; the other stays listed.
  const popups = watchPopups();
  await banner.getByRole('button', { name: /090-2222-0002.*ポップアップを開く/ }).click();
  const popup = await popups.next();
  assert.equal(new URL(popup.url()).searchParams.get('callId'), String(b.call_id));
  await banner.filter({ hasText: '090-2222-0001' }).waitFor();
  assert.equal(await banner.getByRole('button', { name: /ポップアップを開く$/ }).count(), 1);
  // A call that ends leaves the banner; with none left it goes.
  await end(a);
  await banner.waitFor({ state: 'hidden' });
  await end(b);
  popups.stop();
});

test('calm bursts: in 1つのウィンドウにまとめる mode ten calls in three seconds leave one window listing the others', async () => {
  const page = await context.newPage();
  await page.goto(`${base}/admin/`);
  await listening(page);
  await page.getByLabel('1つのウィンドウにまとめる').check();
  const popups = watchPopups();
  const events = [];
  for (let i = 0; i < 10; i += 1) {
    events.push(
      await ring({
        external_number: `+8190333300${String(i).padStart(2, '0')}`,
        contact: null,
        call_id: newCallId(),
      }),
    );
  }
  const desk = await popups.next();
  const traced = tracePage(desk);
  const others = desk.getByRole('navigation', { name: '他の着信' });
  await traced(() => others.filter({ hasText: '他の着信 9件' }).waitFor());
  assert.equal(popups.list.length, 1, 'one window for the whole burst');
  // The window shows the first call; picking another one switches the same window to it.
  assert.equal(new URL(desk.url()).searchParams.get('callId'), String(events[0].call_id));
  await others.getByRole('button', { name: /090-3333-0005/ }).click();
  await desk.waitForURL((u) => u.searchParams.get('callId') === String(events[5].call_id));
  await desk
    .getByRole('navigation', { name: '他の着信' })
    .filter({ hasText: '他の着信 9件' })
    .waitFor();
  assert.equal(popups.list.length, 1);
  for (const ev of events) await end(ev);
  // Back to one window per call for the other tests.
  await page.getByLabel('着信ごとに開く').check();
  popups.stop();
});

test("an unanswered call's popup closes itself after the chosen time, never one holding typed text", async () => {
  const page = await context.newPage();
  await page.goto(`${base}/admin/`);
  await listening(page);
  await page
    .getByLabel('応答されなかった着信のポップアップを閉じる')
    .selectOption({ label: '30秒後' });
  const popups = watchPopups();
  const quiet = await ring({ external_number: '+819044440001', contact: null });
  const typed = await ring({ external_number: '+819044440002', contact: null });
  const [p1, p2] = [await popups.next(1), await popups.next(2)];
  const byCall = new Map([
    [new URL(p1.url()).searchParams.get('callId'), p1],
    [new URL(p2.url()).searchParams.get('callId'), p2],
  ]);
  const quietPopup = byCall.get(String(quiet.call_id));
  const typedPopup = byCall.get(String(typed.call_id));
  // Someone starts registering the second caller.
  await typedPopup.getByLabel('氏名').fill('途中 入力');
  const closed = quietPopup.waitForEvent('close', { timeout: 60_000 });
  await end(quiet);
  await end(typed);
  await closed;
  assert.equal(typedPopup.isClosed(), false, 'the popup with typed text stays open');
  await typedPopup.locator('#call-state[data-phase="missed"]').waitFor();
  await page
    .getByLabel('応答されなかった着信のポップアップを閉じる')
    .selectOption({ label: '1分後' });
  popups.stop();
});

test('console rows: live calls pinned on top, 対応中 only while the call goes on, 非通知 for a withheld caller', async () => {
  const page = await context.newPage();
  await page.goto(`${base}/admin/`);
  await listening(page);
  const popups = watchPopups();
  const held = await ring({ external_number: '+819055550001', contact: null });
  const now = Date.now();
  await w.sendEvent({ ...held, state: 'connected', date_connected: now, event_timestamp: now });
  // Newer calls that end: the one still going on stays at the top.
  const later = [];
  for (let i = 2; i <= 4; i += 1) {
    const ev = await ring({ external_number: `+81905555000${i}`, contact: null });
    later.push(ev);
    await end(ev);
  }
  const rows = page.locator('#calls-body tr.call-row');
  await rows.filter({ hasText: '090-5555-0004' }).filter({ hasText: '不在着信' }).waitFor();
  assert.match(await rows.first().innerText(), /090-5555-0001/);
  // Someone claims the call (the popup's wrap-up is focused): 対応中 on its row; when the call
  // ends, 対応中 goes.
  const popup = await popups.next();
  await popup.getByLabel('用件').waitFor();
  await popup.getByLabel('用件').focus();
  const heldRow = rows.filter({ hasText: '090-5555-0001' });
  await heldRow.filter({ hasText: '対応中: 受付 一郎' }).waitFor();
  // The wrap-up is saved: the row shows its 用件 at once (call_wrapup), without a reload.
  await popup.getByLabel('用件').selectOption('予約');
  await popup.getByRole('button', { name: '対応記録を保存' }).click();
  await heldRow.filter({ hasText: '用件: 予約' }).waitFor();
  await end(held, 'hangup', { date_connected: now });
  await heldRow.filter({ hasText: '終了' }).waitFor();
  assert.doesNotMatch(await heldRow.innerText(), /対応中/);
  // A withheld caller reads 非通知, not 未登録.
  const anon = await ring({ external_number: 'anonymous', contact: null });
  const anonRow = page.locator(`#calls-body tr[data-call-id="${anon.call_id}"]`);
  await anonRow.filter({ hasText: '非通知' }).waitFor();
  assert.doesNotMatch(await anonRow.innerText(), /未登録/);
  await end(anon);
  popups.stop();
});

test('shift change: logging out with a live call asks; the popup comes back after the next login', async () => {
  const page = await context.newPage();
  await page.goto(`${base}/admin/`);
  await listening(page);
  const popups = watchPopups();
  const ev = await ring();
  const popup = await popups.next();
  await popup.getByRole('heading', { name: /山田 太郎/ }).waitFor();
  // Logging out asks first; キャンセル keeps everything.
  await page.getByRole('button', { name: 'ログアウト', exact: true }).click();
  const ask = page.getByRole('dialog', { name: '通話中の着信があります' });
  await ask.getByRole('button', { name: 'キャンセル' }).click();
  await ask.waitFor({ state: 'detached' });
  await listening(page);
  await page.getByRole('button', { name: 'ログアウト', exact: true }).click();
  await ask.getByRole('button', { name: 'ログアウトする' }).click();
  await page.getByRole('heading', { name: 'ログイン' }).waitFor();
  // The popup's session is over.
  await popup.getByText('ログインしてください').waitFor();
  // The next person (the same account here) logs in on the console: the popup re-attaches.
  await page.getByLabel('ログインID').fill(session.account.login);
  await page.getByLabel('パスワード').fill(session.account.password);
  await page.getByRole('button', { name: 'ログイン', exact: true }).click();
  await listening(page);
  await popup.getByRole('heading', { name: /山田 太郎/ }).waitFor();
  assert.equal(popups.list.length, 1, 'no second window');
  await end(ev, 'hangup');
  popups.stop();
});

test('the header holds at 960 px: no label breaks inside a word, nothing overflows sideways', async () => {
  const page = await context.newPage();
  await page.setViewportSize({ width: 960, height: 700 });
  await page.goto(`${base}/admin/customers.html`);
  await listening(page);
  const report = await page.evaluate(() => {
    const controls = [
      ...document.querySelectorAll('.topbar a, .topbar button, .topbar .conn, .topbar .user'),
    ].filter((n) => /** @type {HTMLElement} */ (n).offsetParent);
    const broken = controls
      .filter((n) => {
        const lh =
          parseFloat(getComputedStyle(n).lineHeight) ||
          parseFloat(getComputedStyle(n).fontSize) * 1.5;
        const range = document.createRange();
        range.selectNodeContents(n);
        // A label on one line has one line box per text run: its text is no taller than a line.
        return range.getBoundingClientRect().height > lh * 1.5;
      })
      .map((n) => n.textContent.trim());
    return { broken, scrollWidth: document.documentElement.scrollWidth, width: window.innerWidth };
  });
  assert.deepEqual(report.broken, []);
  assert.ok(report.scrollWidth <= report.width, JSON.stringify(report));
});

test('応答時 mode with the account linked to a Dialpad user: only the desk whose user answered pops', async () => {
  const uid = session.account.user.id;
  await w.db
    .prepare(
      'INSERT OR REPLACE INTO dialpad_user_links (user_id, dialpad_user_id, dialpad_name, updated_at) VALUES (?1, ?2, ?3, ?4)',
    )
    .bind(uid, '5551', '受付 一郎', Date.now())
    .run();
  try {
    const page = await context.newPage();
    await page.goto(`${base}/admin/`);
    await listening(page);
    await page.getByLabel('応答時').check();
    const popups = watchPopups();
    const rows = page.locator('#calls-body tr.call-row');
    // Answered by another Dialpad user: listed as 通話中, no window here.
    const other = await ring({ external_number: '+819066660001', contact: null });
    const t1 = Date.now();
    await w.sendEvent({
      ...other,
      state: 'connected',
      date_connected: t1,
      event_timestamp: t1,
      target: { id: 7772, name: '別の 人', type: 'user' },
    });
    await rows.filter({ hasText: '090-6666-0001' }).filter({ hasText: '通話中' }).waitFor();
    // Answered by this account's Dialpad user: it pops.
    const mine = await ring({ external_number: '+819066660002', contact: null });
    const t2 = Date.now();
    await w.sendEvent({
      ...mine,
      state: 'connected',
      date_connected: t2,
      event_timestamp: t2,
      target: { id: 5551, name: '受付 一郎', type: 'user' },
    });
    const popup = await popups.next();
    assert.equal(new URL(popup.url()).searchParams.get('callId'), String(mine.call_id));
    assert.equal(popups.list.length, 1, 'the call another user answered did not pop here');
    await end(other, 'hangup', { date_connected: t1 });
    await end(mine, 'hangup', { date_connected: t2 });
    await page.getByLabel('着信時').check();
    popups.stop();
  } finally {
    await w.db.prepare('DELETE FROM dialpad_user_links WHERE user_id = ?1').bind(uid).run();
  }
});
