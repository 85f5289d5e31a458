// @ts-check
// Integration (issue 25, business hours): a store's hours and holidays and the organisation's
// cutoff (営業日切替) through the API with their validation; a call outside hours is marked
// 時間外; 着信履歴's day filter uses the business day; callbacks get a default due time (N
// minutes in hours, the next opening outside), an overdue count, an owner of the store, and an
// optional rule that an item needs an outcome before it is closed (409).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorker, callEvent } from './helpers/worker.mjs';

const NISHI_LINE = '+815017481234'; // 西船橋
const KINSHI_LINE = '+815017491234'; // 錦糸町
const JST = 9 * 3600 * 1000;
const DAY = 86400 * 1000;

let w;
let admin;
let stores;

before(async () => {
  w = await startWorker();
  admin = await w.login({ role: 'admin', name: '管理 花子' });
  const r = await api(admin, '/api/stores');
  stores = Object.fromEntries(r.body.stores.map((s) => [s.name, s.id]));
});

after(async () => {
  await w?.close();
});

/**
 * @param {import('./helpers/worker.mjs').Auth} who
 * @param {string} path
 * @param {import('./helpers/worker.mjs').ApiOptions} [opts]
 * @returns {Promise<import('./helpers/worker.mjs').JsonResponse>}
 */
const api = (who, path, { method = 'GET', body } = {}) =>
  w.json(path, {
    method,
    headers: { authorization: `Bearer ${who.token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

let n = 0;
function number() {
  const d = String(60000000 + (process.pid % 1000) * 10000 + n++).slice(-8);
  return { e164: `+8180${d}`, domestic: `080${d}` };
}

/** Epoch ms of JST wall-clock time on the local day `day` (days since 1970-01-01). */
const jstAt = (day, h, m) => day * DAY - JST + (h * 60 + m) * 60000;
const todayJst = () => Math.floor((Date.now() + JST) / DAY);
const ymd = (day) => new Date(day * DAY).toISOString().slice(0, 10);

const ALWAYS = {
  weekly: Array.from({ length: 7 }, () => [{ open: '00:00', close: '24:00' }]),
  holidays: [],
};
/** Closed every day; open tomorrow (JST) 10:00–12:00 only. */
const closedUntilTomorrow = () => ({
  weekly: Array.from({ length: 7 }, () => []),
  holidays: [
    { date: ymd(todayJst() + 1), ranges: [{ open: '10:00', close: '12:00' }], note: '特別営業' },
  ],
});

const setHours = (id, hours, extra = {}) =>
  api(admin, `/api/stores/${id}/hours`, { method: 'PUT', body: { hours, ...extra } });

async function missedCall(caller, line = NISHI_LINE, startedAt = Date.now()) {
  const ev = callEvent({
    external_number: caller,
    internal_number: line,
    contact: null,
    date_started: startedAt,
    date_rang: startedAt,
  });
  await w.sendEvent(ev);
  const t = Date.now();
  await w.sendEvent({ ...ev, state: 'hangup', event_timestamp: t, date_ended: t });
  return String(ev.call_id);
}

async function itemOf(who, phone) {
  const r = await api(who, '/api/callbacks?status=all&perPage=100');
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.callbacks.find((c) => c.phone === phone);
}

test('store hours: saved, read back, validated with clear 400s, admin only', async () => {
  const id = stores['錦糸町'];
  const empty = await api(admin, `/api/stores/${id}/hours`);
  assert.equal(empty.status, 200);
  assert.equal(empty.body.configured, false);
  assert.equal(empty.body.requireWrapup, false);
  const weekly = [
    ...Array.from({ length: 5 }, () => [{ open: '10:00', close: '20:00' }]),
    [{ open: '10:00', close: '18:00' }],
    [],
  ];
  const saved = await setHours(
    id,
    { weekly, holidays: [{ date: '2030-12-31', ranges: [], note: '大晦日' }] },
    { requireWrapup: true },
  );
  assert.equal(saved.status, 200, JSON.stringify(saved.body));
  const back = await api(admin, `/api/stores/${id}/hours`);
  assert.deepEqual(back.body.hours.weekly, weekly);
  assert.equal(back.body.hours.holidays[0].date, '2030-12-31');
  assert.equal(back.body.requireWrapup, true);
  assert.equal(back.body.configured, true);
  // A range past midnight is fine; overlaps, bad times, six days and bad dates are not.
  assert.equal(
    (
      await setHours(id, {
        weekly: Array.from({ length: 7 }, () => [{ open: '18:00', close: '02:00' }]),
        holidays: [],
      })
    ).status,
    200,
  );
  for (const [hours, field] of [
    [{ weekly: Array.from({ length: 7 }, () => [{ open: '25:00', close: '26:00' }]) }, 'open'],
    [
      {
        weekly: Array.from({ length: 7 }, () => [
          { open: '10:00', close: '14:00' },
          { open: '13:00', close: '15:00' },
        ]),
      },
      'ranges',
    ],
    [{ weekly: Array.from({ length: 6 }, () => []) }, 'weekly'],
    [{ weekly: [], holidays: [{ date: '2030-02-30', ranges: [] }] }, 'date'],
  ]) {
    const r = await setHours(id, hours);
    assert.equal(r.status, 400, JSON.stringify(r.body));
    assert.equal(r.body.error.field, field, JSON.stringify(r.body));
    assert.ok(r.body.error.message.length > 0);
  }
  const junk = await api(admin, `/api/stores/${id}/hours`, {
    method: 'PUT',
    body: { hours: { weekly: 'x' } },
  });
  assert.equal(junk.status, 400);
  assert.equal((await api(admin, '/api/stores/99999/hours')).status, 404);
  const staff = await w.login({ role: 'staff', store: id });
  assert.equal((await api(staff, `/api/stores/${id}/hours`)).status, 200, 'staff read');
  assert.equal(
    (await api(staff, `/api/stores/${id}/hours`, { method: 'PUT', body: { hours: ALWAYS } }))
      .status,
    403,
  );
  await setHours(id, ALWAYS, { requireWrapup: false });
});

test('hours settings: cutoff, due minutes and the outcome rule; validated; admin only', async () => {
  const r = await api(admin, '/api/settings/hours');
  assert.equal(r.status, 200);
  assert.deepEqual(r.body.settings, {
    businessDayCutoff: '00:00',
    callbackDueMinutes: 30,
    callbackRequireOutcome: false,
  });
  const bad = await api(admin, '/api/settings/hours', {
    method: 'PUT',
    body: { businessDayCutoff: '25:00' },
  });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.field, 'businessDayCutoff');
  const badN = await api(admin, '/api/settings/hours', {
    method: 'PUT',
    body: { callbackDueMinutes: 0 },
  });
  assert.equal(badN.status, 400);
  assert.equal(badN.body.error.field, 'callbackDueMinutes');
  const staff = await w.login({ role: 'staff', store: stores['西船橋'] });
  assert.equal(
    (await api(staff, '/api/settings/hours', { method: 'PUT', body: { callbackDueMinutes: 5 } }))
      .status,
    403,
  );
  const ok = await api(admin, '/api/settings/hours', {
    method: 'PUT',
    body: { callbackDueMinutes: 45 },
  });
  assert.equal(ok.status, 200);
  assert.deepEqual(ok.body.settings, {
    businessDayCutoff: '00:00',
    callbackDueMinutes: 45,
    callbackRequireOutcome: false,
  });
  await api(admin, '/api/settings/hours', { method: 'PUT', body: { callbackDueMinutes: 30 } });
});

test('a call outside its store hours is 時間外 in the call log; inside it is not; its callback is due at the next opening', async () => {
  const nishi = stores['西船橋'];
  await setHours(nishi, closedUntilTomorrow());
  const out = number();
  const outCall = await missedCall(out.e164);
  await setHours(nishi, ALWAYS);
  const inside = number();
  const inCall = await missedCall(inside.e164);
  const log = await api(admin, '/api/calls/search', {
    method: 'POST',
    body: { store: nishi, perPage: 100 },
  });
  assert.equal(log.status, 200);
  const byId = Object.fromEntries(log.body.calls.map((c) => [c.id, c]));
  // The flag follows the store's hours now (read time): closed again, the first call is 時間外.
  await setHours(nishi, closedUntilTomorrow());
  const log2 = await api(admin, '/api/calls/search', {
    method: 'POST',
    body: { store: nishi, perPage: 100 },
  });
  const byId2 = Object.fromEntries(log2.body.calls.map((c) => [c.id, c]));
  assert.equal(byId2[outCall].afterHours, true);
  const recent = await api(admin, '/api/calls/recent?limit=100');
  assert.equal(
    recent.body.calls.find((c) => c.id === outCall).afterHours,
    true,
    'the console row too',
  );
  // Due at the next opening: tomorrow 10:00 JST plus the N minutes.
  const item = await itemOf(admin, out.domestic);
  assert.equal(item.dueDefault, true);
  assert.equal(item.dueAt, jstAt(todayJst() + 1, 10, 0) + 30 * 60000);
  assert.equal(item.overdue, false);
  await setHours(nishi, ALWAYS);
  assert.equal(byId[inCall].afterHours, false);
  const inItem = await itemOf(admin, inside.domestic);
  assert.ok(
    Math.abs(inItem.dueAt - (inItem.createdAt + 30 * 60000)) < 1000,
    JSON.stringify(inItem),
  );
});

test('overdue items are counted and flagged; a due time set by hand wins', async () => {
  const { e164, domestic } = number();
  await missedCall(e164, KINSHI_LINE);
  const item = await itemOf(admin, domestic);
  const before = (await api(admin, '/api/callbacks/count')).body;
  assert.equal(typeof before.overdue, 'number');
  const p = await api(admin, `/api/callbacks/${item.id}`, {
    method: 'PATCH',
    body: { dueAt: Date.now() - 60000 },
  });
  assert.equal(p.status, 200, JSON.stringify(p.body));
  const after = (await api(admin, '/api/callbacks/count')).body;
  assert.equal(after.overdue, before.overdue + 1);
  const again = await itemOf(admin, domestic);
  assert.equal(again.overdue, true);
  assert.equal(again.dueDefault, false);
  const d = await api(admin, `/api/callbacks/${item.id}`);
  assert.equal(d.body.callback.overdue, true);
  // A staff member of another store does not count it.
  const other = await w.login({ role: 'staff', store: stores['西船橋'] });
  const otherCount = (await api(other, '/api/callbacks/count')).body;
  const mine = await w.login({ role: 'staff', store: stores['錦糸町'] });
  const mineCount = (await api(mine, '/api/callbacks/count')).body;
  assert.ok(mineCount.overdue >= 1);
  assert.ok(otherCount.overdue <= after.overdue - 1);
  await api(admin, `/api/callbacks/${item.id}`, {
    method: 'PATCH',
    body: { dueAt: Date.now() + DAY },
  });
  assert.equal((await api(admin, '/api/callbacks/count')).body.overdue, before.overdue);
});

test('assignment: to a user of the item store or an admin; not to another store user', async () => {
  const { e164, domestic } = number();
  await missedCall(e164, NISHI_LINE);
  const item = await itemOf(admin, domestic);
  const nishiStaff = await w.login({ role: 'staff', store: stores['西船橋'], name: '西 スタッフ' });
  const kinshiStaff = await w.login({ role: 'staff', store: stores['錦糸町'] });
  const nishiId = nishiStaff.user.id;
  const kinshiId = kinshiStaff.user.id;
  assert.ok(nishiId && kinshiId);
  const wrong = await api(admin, `/api/callbacks/${item.id}`, {
    method: 'PATCH',
    body: { assignee: String(kinshiId) },
  });
  assert.equal(wrong.status, 400, JSON.stringify(wrong.body));
  assert.equal(wrong.body.error.field, 'assignee');
  const ok = await api(nishiStaff, `/api/callbacks/${item.id}`, {
    method: 'PATCH',
    body: { assignee: String(nishiId) },
  });
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  assert.equal(ok.body.callback.assigneeId, nishiId);
  assert.equal((await itemOf(admin, domestic)).assigneeName, '西 スタッフ');
  const toAdmin = await api(nishiStaff, `/api/callbacks/${item.id}`, {
    method: 'PATCH',
    body: { assignee: String(admin.user.id) },
  });
  assert.equal(toAdmin.status, 200, 'an admin may be assigned anything');
  assert.equal(
    (await api(admin, `/api/callbacks/${item.id}`, { method: 'PATCH', body: { assignee: 'x' } }))
      .status,
    400,
  );
  // The 担当 select's list: the store's users and the admins, not another store's staff.
  const list = await api(nishiStaff, `/api/callbacks/assignees?store=${stores['西船橋']}`);
  assert.equal(list.status, 200);
  const ids = list.body.users.map((u) => u.id);
  assert.ok(ids.includes(nishiId) && ids.includes(admin.user.id), JSON.stringify(list.body));
  assert.ok(!ids.includes(kinshiId));
  assert.equal(
    (await api(kinshiStaff, `/api/callbacks/assignees?store=${stores['西船橋']}`)).status,
    403,
  );
});

test('with 完了には対応結果が必要 on, closing an item without an attempt is a 409; with one it closes', async () => {
  const { e164, domestic } = number();
  await missedCall(e164, NISHI_LINE);
  const item = await itemOf(admin, domestic);
  await api(admin, '/api/settings/hours', {
    method: 'PUT',
    body: { callbackRequireOutcome: true },
  });
  try {
    const p = await api(admin, `/api/callbacks/${item.id}`, {
      method: 'PATCH',
      body: { status: 'done' },
    });
    assert.equal(p.status, 409, JSON.stringify(p.body));
    assert.equal(p.body.error.code, 'callback_needs_outcome');
    assert.match(p.body.error.message, /対応結果/);
    const c = await api(admin, '/api/callbacks/close', {
      method: 'POST',
      body: { ids: [item.id] },
    });
    assert.equal(c.status, 409);
    assert.equal((await itemOf(admin, domestic)).status, 'open');
    const a = await api(admin, `/api/callbacks/${item.id}/attempts`, {
      method: 'POST',
      body: { result: 'つながった', note: '' },
    });
    assert.equal(a.status, 201);
    const done = await api(admin, `/api/callbacks/${item.id}`, {
      method: 'PATCH',
      body: { status: 'done' },
    });
    assert.equal(done.status, 200, JSON.stringify(done.body));
  } finally {
    await api(admin, '/api/settings/hours', {
      method: 'PUT',
      body: { callbackRequireOutcome: false },
    });
  }
  // Off: closing without an attempt works as before.
  const other = number();
  await missedCall(other.e164, NISHI_LINE);
  const it2 = await itemOf(admin, other.domestic);
  assert.equal(
    (await api(admin, `/api/callbacks/${it2.id}`, { method: 'PATCH', body: { status: 'done' } }))
      .status,
    200,
  );
});

test('着信履歴 from/to are business days: with a 05:00 cutoff a call at 04:59 belongs to the day before', async () => {
  const d = todayJst() - 3;
  const { e164, domestic } = number();
  const early = await missedCall(e164, KINSHI_LINE, jstAt(d + 1, 4, 59));
  const late = await missedCall(e164, KINSHI_LINE, jstAt(d + 1, 5, 1));
  const search = async (day) =>
    (
      await api(admin, '/api/calls/search', {
        method: 'POST',
        body: { q: domestic, from: ymd(day), to: ymd(day), perPage: 100 },
      })
    ).body.calls
      .map((c) => c.id)
      .sort();
  // No cutoff: both on the calendar day d+1.
  assert.deepEqual(await search(d + 1), [early, late].sort());
  assert.deepEqual(await search(d), []);
  const set = await api(admin, '/api/settings/hours', {
    method: 'PUT',
    body: { businessDayCutoff: '05:00' },
  });
  assert.equal(set.status, 200);
  try {
    assert.deepEqual(await search(d), [early]);
    assert.deepEqual(await search(d + 1), [late]);
  } finally {
    await api(admin, '/api/settings/hours', {
      method: 'PUT',
      body: { businessDayCutoff: '00:00' },
    });
  }
});
