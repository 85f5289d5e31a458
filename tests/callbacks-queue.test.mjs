// @ts-check
// Integration (issue 22, items 3 and 5 and the smaller server items): 折り返し is a queue of
// promises — one open item per number and store with every call and attempt inside it, a
// 折り返し予定 wrap-up opens one, auto-close only by a later call answered at the same store,
// bulk close, the badge, access; wrap-ups carry a version (409 with the other person's text)
// and are announced live; a connected call whose hangup lacks date_connected is not missed;
// the CSV export keeps the leading 0 through Excel and the import names a lost one.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, copyFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Miniflare } from 'miniflare';
import { startWorker, callEvent, WEBHOOK_SECRET } from './helpers/worker.mjs';
import { applyMigrations } from '../scripts/lib/sql.mjs';

const NISHI_LINE = '+815017481234'; // 西船橋
const KINSHI_LINE = '+815017491234'; // 錦糸町

let w;
let admin;

before(async () => {
  w = await startWorker();
  admin = await w.login({ role: 'admin', name: '管理 太郎' });
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
/** A fresh caller number (+81 form for Dialpad, domestic for the API). */
function number() {
  const d = String(70000000 + (process.pid % 1000) * 10000 + n++).slice(-8);
  return { e164: `+8180${d}`, domestic: `080${d}` };
}

async function missedCall(caller, line = NISHI_LINE, { voicemail = false } = {}) {
  const ev = callEvent({ external_number: caller, internal_number: line, contact: null });
  await w.sendEvent(ev);
  const t = ev.date_started + 15000;
  await w.sendEvent({
    ...ev,
    state: voicemail ? 'voicemail' : 'hangup',
    event_timestamp: t,
    date_ended: t,
  });
  return String(ev.call_id);
}

async function answeredCall(caller, line = NISHI_LINE, { hangup = true } = {}) {
  const ev = callEvent({ external_number: caller, internal_number: line, contact: null });
  await w.sendEvent(ev);
  const c = ev.date_started + 2000;
  await w.sendEvent({ ...ev, state: 'connected', date_connected: c, event_timestamp: c });
  if (hangup) {
    const e = c + 30000;
    await w.sendEvent({
      ...ev,
      state: 'hangup',
      date_connected: c,
      date_ended: e,
      event_timestamp: e,
    });
  }
  return String(ev.call_id);
}

async function itemsOf(who, phone, query = 'status=all') {
  const r = await api(who, `/api/callbacks?${query}&perPage=100`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.callbacks.filter((c) => c.phone === phone);
}

test('three missed calls from one number to one store are one item with three calls', async () => {
  const { e164, domestic } = number();
  const calls = [
    await missedCall(e164),
    await missedCall(e164),
    await missedCall(e164, NISHI_LINE, { voicemail: true }),
  ];
  const items = await itemsOf(admin, domestic);
  assert.equal(items.length, 1, JSON.stringify(items));
  const [item] = items;
  assert.equal(item.status, 'open');
  assert.equal(item.calls, 3);
  assert.equal(item.missedCalls, 3);
  assert.equal(item.storeName, '西船橋');
  assert.equal(item.callId, calls[2], 'the newest call');
  const d = await api(admin, `/api/callbacks/${item.id}`);
  assert.equal(d.status, 200);
  assert.deepEqual(d.body.calls.map((c) => c.id).sort(), [...calls].sort());
  assert.deepEqual(d.body.attempts, []);
  // The same number at another store is another item.
  await missedCall(e164, KINSHI_LINE);
  const both = await itemsOf(admin, domestic);
  assert.deepEqual(both.map((i) => i.storeName).sort(), ['西船橋', '錦糸町']);
});

test('a wrap-up saved with 折り返し予定 opens an item carrying its note; its own hangup does not close it', async () => {
  const { e164, domestic } = number();
  const callId = await answeredCall(e164, NISHI_LINE, { hangup: false });
  const saved = await api(admin, '/api/calls/wrapup', {
    method: 'PUT',
    body: {
      callId,
      category: '予約',
      outcome: '折り返し予定',
      note: '料金を確認して午後に折り返す',
      version: 0,
    },
  });
  assert.equal(saved.status, 200, JSON.stringify(saved.body));
  // The call ends after the wrap-up: that answered call is the item's own, it closes nothing.
  const t = Date.now();
  await w.sendEvent({
    ...callEvent({ external_number: e164, contact: null }),
    call_id: Number(callId),
    state: 'hangup',
    date_connected: t - 5000,
    date_ended: t,
    event_timestamp: t,
  });
  const [item, ...more] = await itemsOf(admin, domestic);
  assert.equal(more.length, 0);
  assert.equal(item.status, 'open');
  assert.equal(item.calls, 1);
  assert.equal(item.missedCalls, 0);
  assert.equal(item.wrapupNote, '料金を確認して午後に折り返す');
  const d = await api(admin, `/api/callbacks/${item.id}`);
  assert.equal(d.body.calls[0].wrapupOutcome, '折り返し予定');
  assert.equal(d.body.calls[0].wrapupNote, '料金を確認して午後に折り返す');
  // Saving it again adds nothing.
  await api(admin, '/api/calls/wrapup', {
    method: 'PUT',
    body: { callId, outcome: '折り返し予定', note: '再保存', version: saved.body.wrapup.version },
  });
  assert.equal((await itemsOf(admin, domestic)).length, 1);
});

test('an answered call at ANOTHER store closes nothing; a later one answered at the same store closes it and says so', async () => {
  const { e164, domestic } = number();
  await missedCall(e164);
  await answeredCall(e164, KINSHI_LINE);
  let [item] = await itemsOf(admin, domestic);
  assert.equal(item.status, 'open', "another store's answered call closes nothing");
  // An unanswered call at the same store closes nothing either (it joins the item).
  await missedCall(e164);
  [item] = await itemsOf(admin, domestic);
  assert.equal(item.status, 'open');
  assert.equal(item.calls, 2);

  const socket = await w.openSocket(admin);
  const closer = await answeredCall(e164, NISHI_LINE, { hangup: false });
  const items = await itemsOf(admin, domestic);
  assert.equal(items.length, 1);
  [item] = items;
  assert.equal(item.status, 'done');
  assert.equal(item.note, '後の着信（応答済み）で自動的に完了');
  assert.equal(item.closedByCall, closer);
  assert.equal(item.updatedBy, '自動');
  await socket.waitFor((m) => m.type === 'callbacks_changed');
  socket.close();
  // The next missed call opens a new item.
  await missedCall(e164);
  const open = await itemsOf(admin, domestic, 'status=todo');
  assert.equal(open.length, 1);
  assert.notEqual(open[0].id, item.id);
});

test('attempts are logged on the item (who, when); a 未対応 item becomes 対応中 and still counts in the badge', async () => {
  const staff = await w.login({ role: 'staff', store: '西船橋', name: '受付 花子' });
  const { e164, domestic } = number();
  await missedCall(e164);
  const [item] = await itemsOf(staff, domestic);
  const before = (await api(staff, '/api/callbacks/count')).body;
  const r = await api(staff, `/api/callbacks/${item.id}/attempts`, {
    method: 'POST',
    body: { result: '不在', note: '再度17時' },
  });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  assert.equal(r.body.callback.status, 'in_progress');
  await api(staff, `/api/callbacks/${item.id}/attempts`, {
    method: 'POST',
    body: { result: '伝言', note: '留守電に伝言' },
  });
  const d = await api(staff, `/api/callbacks/${item.id}`);
  assert.deepEqual(
    d.body.attempts.map((a) => [a.result, a.note, a.byName]),
    [
      ['伝言', '留守電に伝言', '受付 花子'],
      ['不在', '再度17時', '受付 花子'],
    ],
  );
  assert.ok(d.body.attempts.every((a) => typeof a.at === 'number'));
  const [listed] = await itemsOf(staff, domestic);
  assert.equal(listed.status, 'in_progress');
  assert.equal(listed.lastAttempt.result, '伝言');
  assert.equal(listed.lastAttempt.by, '受付 花子');
  // 対応中 still counts.
  const after = (await api(staff, '/api/callbacks/count')).body;
  assert.equal(
    after.open,
    before.open,
    'the item moved from 未対応 to 対応中 and stays in the badge',
  );
  assert.equal(after.inProgress, before.inProgress + 1);
  assert.equal(after.unstarted, before.unstarted - 1);
  // Bad input: a clear 400.
  const bad = await api(staff, `/api/callbacks/${item.id}/attempts`, {
    method: 'POST',
    body: { result: '留守' },
  });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.code, 'invalid_result');
});

test('担当: PATCH takes the item or clears it, and the list filters by owner, store and status', async () => {
  const staff = await w.login({ role: 'staff', store: '西船橋', name: '受付 次郎' });
  const { e164, domestic } = number();
  await missedCall(e164);
  const [item] = await itemsOf(staff, domestic);
  const mine = await api(staff, `/api/callbacks/${item.id}`, {
    method: 'PATCH',
    body: { assignee: 'me', dueAt: 1893456000000 },
  });
  assert.equal(mine.status, 200, JSON.stringify(mine.body));
  assert.equal(mine.body.callback.assigneeId, staff.user.id);
  let [listed] = await itemsOf(staff, domestic, 'assignee=me');
  assert.equal(listed.assigneeName, '受付 次郎');
  assert.equal(listed.dueAt, 1893456000000);
  assert.equal((await itemsOf(staff, domestic, 'assignee=none')).length, 0);
  const cleared = await api(staff, `/api/callbacks/${item.id}`, {
    method: 'PATCH',
    body: { assignee: null },
  });
  assert.equal(cleared.body.callback.assigneeId, null);
  [listed] = await itemsOf(staff, domestic, 'assignee=none');
  assert.equal(listed.assigneeName, null);
  assert.equal(
    (await api(staff, `/api/callbacks/${item.id}`, { method: 'PATCH', body: { assignee: 7 } }))
      .status,
    400,
  );
  // Admins filter by store.
  const nishi = (await api(admin, '/api/stores')).body.stores.find((s) => s.name === '西船橋');
  const kinshi = (await api(admin, '/api/stores')).body.stores.find((s) => s.name === '錦糸町');
  assert.equal((await itemsOf(admin, domestic, `store=${nishi.id}`)).length, 1);
  assert.equal((await itemsOf(admin, domestic, `store=${kinshi.id}`)).length, 0);
  assert.equal((await itemsOf(admin, domestic, 'status=done')).length, 0);
  assert.equal((await api(admin, '/api/callbacks?store=abc')).status, 400);
});

test("bulk close: the listed items still to do are closed, another store's are not", async () => {
  const staff = await w.login({ role: 'staff', store: '西船橋', name: '受付 三郎' });
  const a = number();
  const b = number();
  const c = number();
  await missedCall(a.e164);
  await missedCall(b.e164);
  await missedCall(c.e164, KINSHI_LINE);
  const ia = (await itemsOf(admin, a.domestic))[0];
  const ib = (await itemsOf(admin, b.domestic))[0];
  const ic = (await itemsOf(admin, c.domestic))[0];
  const r = await api(staff, '/api/callbacks/close', {
    method: 'POST',
    body: { ids: [ia.id, ib.id, ic.id] },
  });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.deepEqual(
    r.body.closed,
    [ia.id, ib.id].sort((x, y) => x - y),
  );
  assert.equal((await itemsOf(admin, a.domestic))[0].status, 'done');
  assert.equal((await itemsOf(admin, b.domestic))[0].updatedBy, '受付 三郎');
  assert.equal(
    (await itemsOf(admin, c.domestic))[0].status,
    'open',
    "another store's item is untouched",
  );
  assert.equal(
    (await api(staff, '/api/callbacks/close', { method: 'POST', body: { ids: [] } })).status,
    400,
  );
  assert.equal(
    (await api(staff, '/api/callbacks/close', { method: 'POST', body: { ids: 'x' } })).status,
    400,
  );
});

test('staff of another store see nothing of an item; customer names only when the viewer may see that customer', async () => {
  const kinshi = await w.login({ role: 'staff', store: '錦糸町' });
  const nishi = await w.login({ role: 'staff', store: '西船橋' });
  const { e164, domestic } = number();
  // A customer of 錦糸町 calls 西船橋 and is missed.
  await w.addCustomer({ name: '錦糸 町子', phone: domestic, store: '錦糸町' });
  await missedCall(e164);
  const [item] = await itemsOf(admin, domestic);
  assert.equal(item.customerName, '錦糸 町子', 'the admin sees the customer');
  const forNishi = await itemsOf(nishi, domestic);
  assert.equal(forNishi.length, 1);
  assert.equal(forNishi[0].customerName, null, "another store's customer stays hidden from 西船橋");
  const d = await api(nishi, `/api/callbacks/${item.id}`);
  assert.ok(
    d.body.calls.every((c) => c.customerName === null && c.customerId === null),
    JSON.stringify(d.body.calls),
  );
  // 錦糸町's staff see nothing of 西船橋's item.
  assert.deepEqual(await itemsOf(kinshi, domestic), []);
  assert.equal((await api(kinshi, `/api/callbacks/${item.id}`)).status, 404);
  assert.equal(
    (await api(kinshi, `/api/callbacks/${item.id}`, { method: 'PATCH', body: { status: 'done' } }))
      .status,
    404,
  );
  assert.equal(
    (
      await api(kinshi, `/api/callbacks/${item.id}/attempts`, {
        method: 'POST',
        body: { result: '不在' },
      })
    ).status,
    404,
  );
  assert.deepEqual(
    (await api(kinshi, '/api/callbacks/close', { method: 'POST', body: { ids: [item.id] } })).body
      .closed,
    [],
  );
  assert.equal((await itemsOf(admin, domestic))[0].status, 'open');
});

test("wrap-ups: two saves with the same version, the second is 409 with the first's text; call_wrapup goes out live", async () => {
  const a = await w.login({ role: 'staff', store: '西船橋', name: '受付 A' });
  const b = await w.login({ role: 'staff', store: '西船橋', name: '受付 B' });
  const kinshi = await w.login({ role: 'staff', store: '錦糸町' });
  const { e164 } = number();
  const callId = await answeredCall(e164, NISHI_LINE, { hangup: false });
  const [sa, sk] = await Promise.all([w.openSocket(a), w.openSocket(kinshi)]);
  const read = await api(b, `/api/calls/wrapup?callId=${callId}`);
  assert.equal(read.body.call.wrapupVersion, null);
  const first = await api(a, '/api/calls/wrapup', {
    method: 'PUT',
    body: { callId, category: '予約', outcome: '対応済み', note: 'A の記録', version: 0 },
  });
  assert.equal(first.status, 200, JSON.stringify(first.body));
  assert.equal(first.body.wrapup.version, 1);
  const second = await api(b, '/api/calls/wrapup', {
    method: 'PUT',
    body: { callId, category: '問い合わせ', note: 'B の記録', version: 0 },
  });
  assert.equal(second.status, 409);
  assert.equal(second.body.error.code, 'version_conflict');
  assert.match(second.body.error.message, /受付 A/);
  assert.deepEqual(
    { ...second.body.error.current, at: 0 },
    { category: '予約', outcome: '対応済み', note: 'A の記録', by: '受付 A', at: 0, version: 1 },
  );
  // Nothing was overwritten; a save with the version read now goes through.
  assert.equal(
    (await api(b, `/api/calls/wrapup?callId=${callId}`)).body.call.wrapupNote,
    'A の記録',
  );
  const third = await api(b, '/api/calls/wrapup', {
    method: 'PUT',
    body: { callId, note: 'B の記録', version: 1 },
  });
  assert.equal(third.status, 200);
  assert.equal(third.body.wrapup.version, 2);
  // No version (a client of before) is a first save: refused once there is one.
  assert.equal(
    (await api(b, '/api/calls/wrapup', { method: 'PUT', body: { callId, note: 'x' } })).status,
    409,
  );
  const live = await sa.waitFor(
    (m) => m.type === 'call_wrapup' && m.callId === callId && m.version === 1,
  );
  assert.equal(live.category, '予約');
  assert.equal(live.outcome, '対応済み');
  assert.equal(live.by, '受付 A');
  assert.equal(typeof live.at, 'number');
  assert.equal(live.seq, undefined, 'live, not sequenced');
  await sa.waitFor((m) => m.type === 'call_wrapup' && m.callId === callId && m.version === 2);
  assert.deepEqual(
    (await sk.settle()).filter((m) => m.type === 'call_wrapup'),
    [],
    'another store hears nothing',
  );
  assert.deepEqual(sk.of('call_wrapup'), []);
  // A fresh console's replay still has the call live (the wrap-up is not its latest event).
  const fresh = await w.openSocket(a);
  await fresh.waitFor((m) => m.callId === callId && m.phase === 'connected');
  for (const s of [sa, sk, fresh]) s.close();
  // Bad input is a 400, a call the user may not see a 404.
  assert.equal(
    (await api(a, '/api/calls/wrapup', { method: 'PUT', body: { callId, version: -1 } })).status,
    400,
  );
  assert.equal(
    (
      await api(kinshi, '/api/calls/wrapup', {
        method: 'PUT',
        body: { callId, note: 'x', version: 2 },
      })
    ).status,
    404,
  );
});

test('a call the hub saw connected whose hangup lacks date_connected ends as 終了, never 不在着信, and opens no callback', async () => {
  const { e164, domestic } = number();
  const ev = callEvent({ external_number: e164, contact: null });
  await w.sendEvent(ev);
  const c = ev.date_started + 2000;
  await w.sendEvent({ ...ev, state: 'connected', date_connected: c, event_timestamp: c });
  const socket = await w.openSocket(admin);
  const e = c + 40000;
  const hung = await w.sendEvent({
    ...ev,
    state: 'hangup',
    date_connected: null,
    date_ended: e,
    event_timestamp: e,
  });
  assert.equal(hung.status, 200);
  const msg = await socket.waitFor((m) => m.callId === String(ev.call_id) && m.state === 'hangup');
  assert.equal(msg.phase, 'ended');
  assert.equal(msg.durationMs, 40000);
  socket.close();
  const row = await w.db
    .prepare('SELECT phase FROM calls WHERE id = ?1')
    .bind(String(ev.call_id))
    .first();
  assert.equal(row.phase, 'ended');
  assert.deepEqual(await itemsOf(admin, domestic), []);
  // A call never connected still is.
  const missed = await missedCall(e164);
  assert.equal(
    (await w.db.prepare('SELECT phase FROM calls WHERE id = ?1').bind(missed).first()).phase,
    'missed',
  );
});

test('bad input is a clear 4xx; deleting a store keeps its items and never collides with another', async () => {
  const { e164, domestic } = number();
  await missedCall(e164);
  const [item] = await itemsOf(admin, domestic);
  const expect = async (r, status, code) => {
    const res = await r;
    assert.equal(res.status, status, JSON.stringify(res.body));
    if (code) assert.equal(res.body.error.code, code);
  };
  await expect(
    api(admin, `/api/callbacks/${item.id}`, { method: 'PATCH', body: {} }),
    400,
    'nothing_to_change',
  );
  await expect(
    api(admin, `/api/callbacks/${item.id}`, { method: 'PATCH', body: { status: 'closed' } }),
    400,
    'invalid_status',
  );
  await expect(
    api(admin, `/api/callbacks/${item.id}`, { method: 'PATCH', body: { owner: 1 } }),
    400,
  );
  await expect(
    api(admin, `/api/callbacks/${item.id}`, { method: 'PATCH', body: { dueAt: 'tomorrow' } }),
    400,
  );
  await expect(
    api(admin, `/api/callbacks/${item.id}/attempts`, {
      method: 'POST',
      body: { result: '不在', note: 'x'.repeat(1001) },
    }),
    400,
    'invalid_note',
  );
  await expect(
    api(admin, '/api/callbacks/close', {
      method: 'POST',
      body: { ids: Array.from({ length: 201 }, (_, i) => i + 1) },
    }),
    400,
    'invalid_ids',
  );
  await expect(api(admin, '/api/callbacks/99999999'), 404);
  await expect(api(admin, '/api/callbacks?assignee=someone'), 400, 'invalid_assignee');
  await expect(api(admin, '/api/callbacks?status=bogus'), 400, 'invalid_status');

  // A store is deleted while the number has open items there and at an unknown line.
  const store = await api(admin, '/api/stores', {
    method: 'POST',
    body: { name: '臨時窓口', prefixes: ['0509995'] },
  });
  assert.equal(store.status, 201, JSON.stringify(store.body));
  const other = number();
  await missedCall(other.e164, '+81509995000');
  await missedCall(other.e164, '+81120000000');
  assert.deepEqual(
    (await itemsOf(admin, other.domestic)).map((i) => i.storeName).sort(),
    ['臨時窓口', null].sort(),
  );
  await expect(api(admin, `/api/stores/${store.body.store.id}`, { method: 'DELETE' }), 200);
  const kept = await itemsOf(admin, other.domestic);
  assert.equal(kept.length, 2, 'both items stay, their store unknown');
  assert.ok(kept.every((i) => i.storeId === null && i.status === 'open'));
  await missedCall(other.e164, '+81120000000');
  assert.equal((await itemsOf(admin, other.domestic)).length, 2, 'a later call joins an open item');
  assert.equal(
    (await itemsOf(admin, other.domestic)).reduce((n, i) => n + i.calls, 0),
    3,
  );
});

test('npm run call: --answer and --hangup act on a call rung earlier (by its --call-id); the hangup ends it as 終了', async () => {
  const run = (...args) =>
    promisify(execFile)(
      process.execPath,
      ['scripts/call.mjs', '080-7777-0001', '050-1748-1234', '--url', w.url, ...args],
      {
        env: { ...process.env, DIALPAD_WEBHOOK_SECRET: WEBHOOK_SECRET },
      },
    );
  const id = String(7_100_000_000_000_000 + (Date.now() % 1_000_000_000));
  const phase = async () =>
    (await w.db.prepare('SELECT phase FROM calls WHERE id = ?1').bind(id).first())?.phase;
  const rang = await run('--call-id', id);
  assert.match(rang.stdout, new RegExp(`ringing +call ${id} -> 200`));
  assert.equal(await phase(), 'ringing');
  await run('--answer', '--call-id', id);
  assert.equal(await phase(), 'connected');
  await run('--hangup', '--call-id', id);
  assert.equal(await phase(), 'ended');
  assert.deepEqual(await itemsOf(admin, '08077770001'), [], 'an answered call is no callback');
  await assert.rejects(run('--answer', '--hangup', '--call-id', id), /choose one/);
  const help = await promisify(execFile)(process.execPath, ['scripts/call.mjs', '--help']);
  assert.match(help.stdout, /--answer/);
  assert.match(help.stdout, /--hangup/);
});

test('CSV: the export writes numbers as Excel text (="0…") and re-imports; a number that lost its 0 is named', async () => {
  const phone = '0312340099';
  const id = await w.addCustomer({ name: '先頭 零子', phone });
  const exp = await w.fetch('/api/customers/export', {
    headers: { authorization: `Bearer ${admin.token}` },
  });
  assert.equal(exp.status, 200);
  const text = await exp.text();
  const line = text.split('\r\n').find((l) => l.startsWith(`${id},`));
  assert.ok(line.includes(`"=""${phone}"""`), line);
  const header = text.split('\r\n')[0];
  const back = await w.json('/api/customers/import', {
    method: 'POST',
    headers: { authorization: `Bearer ${admin.token}`, 'content-type': 'text/csv' },
    body: `${header}\r\n${line}\r\n`,
  });
  assert.equal(back.status, 200, JSON.stringify(back.body));
  assert.equal(back.body.updated, 1);
  const detail = await api(admin, `/api/customers/${id}`);
  assert.deepEqual(detail.body.customer.phones, [phone]);
  // Excel saved the file without the formula and dropped the 0.
  const lost = await w.json('/api/customers/import', {
    method: 'POST',
    headers: { authorization: `Bearer ${admin.token}`, 'content-type': 'text/csv' },
    body: '氏名,電話番号\r\n先頭 零子,312340099\r\n',
  });
  assert.equal(lost.status, 400);
  assert.equal(lost.body.error.code, 'invalid_rows');
  const [row] = lost.body.error.rows;
  assert.equal(row.line, 2);
  assert.equal(row.field, 'phones');
  assert.match(row.message, /先頭の0が抜けています/);
});

test('migration 0011: existing callbacks become items (one open item per number and store), wrap-ups get a version', async () => {
  const mf = new Miniflare({
    modules: true,
    script: 'export default { fetch() { return new Response("") } }',
    d1Databases: { DB: 'm11' },
  });
  try {
    const db = await mf.getD1Database('DB');
    const dir = mkdtempSync(join(tmpdir(), 'm11-'));
    for (const f of readdirSync('migrations'))
      if (f < '0011') copyFileSync(join('migrations', f), join(dir, f));
    await applyMigrations(db, dir);
    rmSync(dir, { recursive: true, force: true });
    const call = (id, phase, store) =>
      db
        .prepare(
          "INSERT INTO calls (id, direction, caller, store_id, state, phase, started_at, updated_at) VALUES (?1, 'inbound', ?2, ?3, 'hangup', ?4, 1, 1)",
        )
        .bind(id, '0312345678', store, phase);
    await db.batch([
      db.prepare("INSERT INTO stores (id, name) VALUES (1, 'A'), (2, 'B')"),
      call('k1', 'missed', 1),
      call('k2', 'voicemail', 1),
      call('k3', 'missed', 1),
      call('k4', 'missed', 2),
      call('k5', 'missed', 1),
      db.prepare(
        "INSERT INTO callbacks (id, call_id, store_id, phone, status, note, created_at, updated_by, updated_at) VALUES \
         (1, 'k1', 1, '0312345678', 'open', '', 10, NULL, 10), (2, 'k2', 1, '0312345678', 'in_progress', '', 20, '受付', 25), \
         (3, 'k3', 1, '0312345678', 'done', '済', 30, '受付', 35), (4, 'k4', 2, '0312345678', 'open', '', 40, NULL, 40), \
         (5, 'k5', 1, '0312345678', 'open', '', 50, NULL, 50)",
      ),
      db.prepare(
        "INSERT INTO call_wrapups (call_id, category, outcome, note, updated_by, updated_at) VALUES ('k1', '予約', '', 'メモ', '受付', 5)",
      ),
    ]);
    await applyMigrations(db);
    const all = async (sql) => (await db.prepare(sql).all()).results;
    assert.deepEqual(
      await all('SELECT id, store_id, status, note, updated_by FROM callbacks ORDER BY id'),
      [
        { id: 1, store_id: 1, status: 'in_progress', note: '', updated_by: '受付' },
        { id: 3, store_id: 1, status: 'done', note: '済', updated_by: '受付' },
        { id: 4, store_id: 2, status: 'open', note: '', updated_by: null },
      ],
    );
    assert.deepEqual(
      await all('SELECT callback_id, call_id, reason FROM callback_calls ORDER BY call_id'),
      [
        { callback_id: 1, call_id: 'k1', reason: 'missed' },
        { callback_id: 1, call_id: 'k2', reason: 'voicemail' },
        { callback_id: 3, call_id: 'k3', reason: 'missed' },
        { callback_id: 4, call_id: 'k4', reason: 'missed' },
        { callback_id: 1, call_id: 'k5', reason: 'missed' },
      ],
    );
    assert.deepEqual(await all('SELECT version FROM call_wrapups'), [{ version: 1 }]);
    assert.deepEqual(await all('PRAGMA foreign_key_check'), []);
    // One open item per number and store, enforced.
    await assert.rejects(
      db
        .prepare(
          "INSERT INTO callbacks (store_id, phone, created_at, updated_at) VALUES (1, '0312345678', 1, 1)",
        )
        .run(),
      /UNIQUE/,
    );
  } finally {
    await mf.dispose();
  }
});
