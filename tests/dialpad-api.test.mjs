// @ts-check
// Dialpad's API (issue 26) against the stand-in of tests/helpers/dialpad-fake.mjs (written from
// Dialpad's published schema and limits; its "minute" is 4 s here, the Worker's pacing minute
// 1 s, so the Worker does run into 429s and must honour Retry-After).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startWorker, callEvent, newCallId } from './helpers/worker.mjs';
import { startDialpadFake } from './helpers/dialpad-fake.mjs';
import { addCustomer } from '../scripts/lib/seed.mjs';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const dir = mkdtempSync(join(tmpdir(), 'cti-dialpad-'));
let fake;
let w;
let admin;
const start = () =>
  startWorker({
    persist: dir,
    bindings: { DIALPAD_API_KEY: fake.key, DIALPAD_API_BASE: fake.url, DIALPAD_MINUTE_MS: '1000' },
  });

before(async () => {
  fake = await startDialpadFake({ minuteMs: 4000 });
  fake.users.push({ id: '5001', display_name: '受付 一郎', emails: ['ichiro@example.com'] });
  w = await start();
  admin = await w.login({ role: 'admin' });
});
after(async () => {
  await w?.close();
  await fake?.close();
  rmSync(dir, { recursive: true, force: true });
});

const api = (auth, path, method = 'GET', body) =>
  w.json(path, {
    method,
    headers: {
      authorization: `Bearer ${auth.token}`,
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });

/** Polls `probe` until it returns something truthy (a bound, not a measurement). */
async function until(probe, what, ms = 60_000) {
  const t0 = Date.now();
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() - t0 > ms)
      throw new Error(
        `timed out waiting for ${what} (written ${fake.contactWrites.length}, 429s ${fake.limited})`,
      );
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function settings(patch) {
  const cur = (await api(admin, '/api/settings/dialpad')).body.settings;
  const r = await api(admin, '/api/settings/dialpad', 'PUT', { ...cur, ...patch });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body;
}

test('every feature is off until switched on; switching on needs the key; bad labels are a 400', async () => {
  const r = await api(admin, '/api/settings/dialpad');
  assert.equal(r.status, 200);
  assert.equal(r.body.configured, true);
  assert.deepEqual(
    [
      r.body.settings.contactsSync,
      r.body.settings.gapFill,
      r.body.settings.labels,
      r.body.settings.clickToCall,
      r.body.settings.recordings,
    ],
    [false, false, false, false, false],
  );
  const bad = await api(admin, '/api/settings/dialpad', 'PUT', {
    ...r.body.settings,
    categoryLabels: { 存在しない: 'x' },
  });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.code, 'invalid_label');
  const unknown = await api(admin, '/api/settings/dialpad', 'PUT', {
    ...r.body.settings,
    secret: 1,
  });
  assert.equal(unknown.status, 400);
  // Nothing was sent while the sync was off.
  await api(admin, '/api/customers', 'POST', { name: '同期 前', phone: '09000000001' });
  assert.equal(fake.requests.filter((q) => q.path.startsWith('/api/v2/contacts')).length, 0);
  // Staff may read the settings (the popup needs canCall) but not write them.
  const staff = await w.login({ role: 'staff', store: '西船橋' });
  assert.equal((await api(staff, '/api/settings/dialpad')).status, 200);
  assert.equal((await api(staff, '/api/settings/dialpad', 'PUT', r.body.settings)).status, 403);
});

test('300 customers sync in order, every 429 waited out, and a restart mid-sync loses and doubles nothing', async () => {
  for (let n = 0; n < 300; n++) {
    await addCustomer(w.rawDb, {
      name: `同期 ${String(n).padStart(3, '0')}`,
      phone: `0907${String(n).padStart(7, '0')}`,
      store: '西船橋',
    });
  }
  await w.reindex();
  await settings({ contactsSync: true });
  const resync = await api(admin, '/api/dialpad/sync', 'POST');
  assert.equal(resync.status, 200, JSON.stringify(resync.body));
  const total = (await w.db.prepare('SELECT count(*) AS n FROM customers').first()).n;
  assert.ok(resync.body.waiting >= 300);
  // Mid-sync (a 429 already answered), the Workers go down.
  await until(() => fake.contactWrites.length >= 130, '130 contacts written');
  assert.ok(fake.limited > 0, 'a 429 was answered before the restart');
  await w.close();
  const writtenBefore = fake.contactWrites.length;
  assert.ok(writtenBefore < total, 'stopped before the end');
  w = await start();
  admin = await w.login({ role: 'admin' });
  const done = await until(async () => {
    const s = await api(admin, '/api/dialpad/sync');
    return s.body.waiting === 0 && s.body;
  }, 'the queue to drain after the restart');
  assert.equal(done.refused, 0, JSON.stringify(done.refusedItems));
  const ids = (await w.db.prepare('SELECT id FROM customers ORDER BY id').all()).results.map((r) =>
    String(r.id),
  );
  assert.deepEqual(
    [...fake.contacts.keys()].sort((a, b) => a - b),
    ids,
    'every customer is a contact',
  );
  assert.equal(fake.created, ids.length, 'no contact created twice');
  // In order: the first write of each uid follows the customers' order.
  const firsts = [...new Set(fake.contactWrites)];
  assert.deepEqual(
    firsts,
    [...firsts].sort((a, b) => a - b),
  );
  // At most the one in flight at the restart was sent again.
  assert.ok(
    fake.contactWrites.length <= ids.length + 1,
    `${fake.contactWrites.length} writes for ${ids.length}`,
  );
  assert.ok(fake.limited > 0, 'the stand-in did limit the Worker');
  assert.equal(fake.violations, 0, 'no request before its Retry-After');
  assert.equal(done.synced, ids.length);
  const c = fake.contacts.get(ids[ids.length - 1]);
  assert.deepEqual([c.last_name, c.first_name, c.phones], ['同期', '299', ['+819070000299']]);
  assert.match(c.urls[0], new RegExp(`/admin/customers\\.html\\?id=${ids[ids.length - 1]}$`));
});

test('create, edit, merge and delete reach Dialpad (the merged-away contact deleted)', async () => {
  await settings({ contactsSync: true });
  const a = (await api(admin, '/api/customers', 'POST', { name: '統合 先', phone: '09011110001' }))
    .body.customer;
  const b = (await api(admin, '/api/customers', 'POST', { name: '統合 元', phone: '09011110002' }))
    .body.customer;
  await until(
    () => fake.contacts.has(String(a.id)) && fake.contacts.has(String(b.id)),
    'both contacts',
  );
  const bContact = fake.contacts.get(String(b.id)).id;
  const edit = await api(admin, `/api/customers/${a.id}`, 'PATCH', {
    version: a.version,
    name: '統合 先生',
  });
  assert.equal(edit.status, 200, JSON.stringify(edit.body));
  await until(() => fake.contacts.get(String(a.id)).first_name === '先生', 'the edit');
  const merged = await api(admin, `/api/customers/${a.id}/merge`, 'POST', { from: b.id });
  assert.equal(merged.status, 200);
  await until(() => !fake.contacts.has(String(b.id)), 'the merged-away contact deleted');
  assert.ok(fake.deletes.includes(bContact));
  await until(
    () => fake.contacts.get(String(a.id)).phones.length === 2,
    "the kept contact's numbers",
  );
  assert.deepEqual([...fake.contacts.get(String(a.id)).phones].sort(), [
    '+819011110001',
    '+819011110002',
  ]);
  assert.equal((await api(admin, `/api/customers/${a.id}`, 'DELETE')).status, 200);
  await until(() => !fake.contacts.has(String(a.id)), 'the deleted contact');
});

test('a CSV import reaches Dialpad', async () => {
  await settings({ contactsSync: true });
  const csv = '氏名,電話番号\n取込 一郎,09022220001\n取込 二郎,09022220002\n';
  const r = await w.json('/api/customers/import', {
    method: 'POST',
    headers: { authorization: `Bearer ${admin.token}`, 'content-type': 'text/csv' },
    body: csv,
  });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  await until(
    () => [...fake.contacts.values()].filter((c) => c.last_name === '取込').length === 2,
    'imported contacts',
  );
});

test('gap filler: a call only in the call list reaches 着信履歴 and 折り返し once; a call delivered both ways stays one; nothing pops', async () => {
  await settings({ gapFill: true });
  const sock = await w.openSocket(admin);
  const t = Date.now() - 20 * 60_000;
  const only = newCallId();
  fake.addCall({
    call_id: only,
    direction: 'inbound',
    state: 'hangup',
    external_number: '+819033330001',
    internal_number: '+815017481234',
    date_started: t,
    date_rang: t,
    date_ended: t + 30_000,
    contact: { id: '1', name: '+819033330001', type: 'local' },
    target: { id: 4785074604081152, name: '西船橋店', phone: '+815017481234', type: 'office' },
  });
  // Delivered by webhook too (ringing, then missed): the same call in the list.
  const both = callEvent({
    external_number: '+819033330002',
    contact: { id: '2', name: 'x', phone: '+819033330002', type: 'local' },
  });
  assert.equal((await w.sendEvent(both)).status, 200);
  assert.equal(
    (
      await w.sendEvent({
        ...both,
        state: 'missed',
        date_ended: Date.now(),
        event_timestamp: Date.now(),
      })
    ).status,
    200,
  );
  fake.addCall({
    call_id: both.call_id,
    direction: 'inbound',
    state: 'hangup',
    external_number: '+819033330002',
    internal_number: '+815017481234',
    date_started: t + 1000,
    date_ended: t + 40_000,
  });
  const run = await api(admin, '/api/dialpad/gap-fill', 'POST');
  assert.equal(run.status, 200, JSON.stringify(run.body));
  assert.equal(run.body.filled, 1);
  assert.equal(run.body.missed, 1);
  const again = await api(admin, '/api/dialpad/gap-fill', 'POST');
  assert.equal(again.body.filled, 0, 'a second run fills nothing');
  assert.ok(
    fake.requests.some(
      (q) => q.path === '/api/v2/call' && q.query.started_after && q.query.started_before,
    ),
  );
  assert.equal(await w.count('SELECT * FROM calls WHERE id = ?1', String(only)), 1);
  assert.equal(await w.count('SELECT * FROM calls WHERE id = ?1', String(both.call_id)), 1);
  const log = await api(admin, '/api/calls/search', 'POST', { q: '09033330001' });
  assert.equal(log.body.calls.length, 1);
  assert.equal(log.body.calls[0].phase, 'missed');
  const cbs = (await api(admin, '/api/callbacks?status=all')).body.callbacks;
  assert.equal(cbs.filter((c) => c.phone === '09033330001').length, 1);
  assert.equal(cbs.find((c) => c.phone === '09033330001').calls, 1);
  assert.equal(cbs.find((c) => c.phone === '09033330002').calls, 1);
  // The consoles hear that missed calls were recovered; no window pops for them.
  const notice = await sock.waitFor((m) => m.type === 'calls_recovered');
  assert.equal(notice.missed, 1);
  const later = await sock.settle();
  assert.equal([...sock.messages, ...later].filter((m) => m.callId === String(only)).length, 0);
  const health = await api(admin, '/api/health');
  assert.equal(health.body.dialpad.gapFill.filled, 0);
  assert.equal(health.body.dialpad.gapFill.totalFilled, 1);
  assert.ok(health.body.dialpad.gapFill.lastRun > 0);
  // The quarter-hourly cron runs it too.
  const worker = await w.mf.getWorker();
  assert.equal(
    (await worker.scheduled({ cron: '*/15 * * * *', scheduledTime: new Date() })).outcome,
    'ok',
  );
});

test("a wrap-up's labels reach the call in Dialpad", async () => {
  await settings({
    labels: true,
    categoryLabels: { 予約: 'reservation' },
    outcomeLabels: { 対応済み: 'resolved' },
  });
  const ev = callEvent();
  fake.addCall({ call_id: ev.call_id, direction: 'inbound', date_started: ev.date_started });
  assert.equal((await w.sendEvent(ev)).status, 200);
  const r = await api(admin, '/api/calls/wrapup', 'PUT', {
    callId: String(ev.call_id),
    category: '予約',
    outcome: '対応済み',
    note: '',
  });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  await until(() => fake.calls.get(String(ev.call_id)).labels.length === 2, 'labels on the call');
  assert.deepEqual(fake.calls.get(String(ev.call_id)).labels, ['reservation', 'resolved']);
  const put = fake.requests.find(
    (q) => q.method === 'PUT' && q.path === `/api/v2/call/${ev.call_id}/labels`,
  );
  assert.deepEqual(put.body, { labels: ['reservation', 'resolved'] });
});

test("a linked account's 発信 makes the documented request; unlinked accounts are told; 5 a minute is said", async () => {
  await settings({ clickToCall: true });
  const users = await api(admin, '/api/dialpad/users');
  assert.deepEqual(users.body.users, [
    { id: '5001', name: '受付 一郎', email: 'ichiro@example.com' },
  ]);
  const link = await api(admin, `/api/users/${admin.user.id}/dialpad`, 'PUT', {
    dialpadUserId: '5001',
    name: '受付 一郎',
  });
  assert.equal(link.status, 200, JSON.stringify(link.body));
  const stores = (await api(admin, '/api/stores')).body.stores;
  const nishi = stores.find((s) => s.name === '西船橋');
  const fd = (await api(admin, '/api/settings/front-desk')).body.settings;
  assert.equal(
    (
      await api(admin, '/api/settings/front-desk', 'PUT', {
        ...fd,
        callerIds: [{ storeId: nishi.id, number: '0501748-1234' }],
      })
    ).status,
    200,
  );
  const yamada = (await api(admin, '/api/customers/search', 'POST', { q: '09012345678' })).body
    .customers[0];
  const me = (await api(admin, '/api/settings/dialpad')).body.me;
  assert.deepEqual([me.linked, me.canCall], [true, true]);
  const r = await api(admin, '/api/dialpad/call', 'POST', {
    phone: '090-1234-5678',
    customerId: yamada.id,
    storeId: nishi.id,
  });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const ring = fake.rings.at(-1);
  assert.deepEqual(Object.keys(ring).sort(), [
    'custom_data',
    'outbound_caller_id',
    'phone_number',
    'user_id',
  ]);
  assert.equal(ring.phone_number, '+819012345678');
  assert.equal(ring.user_id, 5001);
  assert.equal(ring.outbound_caller_id, '+815017481234');
  assert.deepEqual(JSON.parse(ring.custom_data), {
    source: 'cti-edge',
    by: admin.user.id,
    customerId: yamada.id,
    customerName: yamada.name,
  });
  // A staff account with no link gets 409, and no request is made.
  const staff = await w.login({ role: 'staff', store: '西船橋' });
  const rings = fake.rings.length;
  const unlinked = await api(staff, '/api/dialpad/call', 'POST', { phone: '09012345678' });
  assert.equal(unlinked.status, 409);
  assert.equal(unlinked.body.error.code, 'dialpad_not_linked');
  assert.equal(fake.rings.length, rings);
  assert.equal((await api(admin, '/api/dialpad/call', 'POST', { phone: '12' })).status, 400);
  // Dialpad's 5 a minute: the sixth in the minute is refused, and the caller is told so.
  let refused;
  for (let n = 0; n < 6 && !refused; n++) {
    const x = await api(admin, '/api/dialpad/call', 'POST', { phone: '09012345678' });
    if (x.status === 429) refused = x;
  }
  assert.ok(refused, 'a 429 came');
  assert.equal(refused.body.error.code, 'dialpad_rate_limited');
  assert.match(refused.body.error.message, /1分間に5回/);
  assert.ok(Number(refused.headers.get('retry-after')) >= 1);
});

test('a recording plays through a share link, for a call the user may see only', async () => {
  await settings({ recordings: true, recordingPrivacy: 'company' });
  const ev = callEvent();
  fake.addCall({
    call_id: ev.call_id,
    recording_details: [{ id: 'rec-1', recording_type: 'callrecording', duration: 1000 }],
  });
  assert.equal((await w.sendEvent(ev)).status, 200);
  const other = await w.login({ role: 'staff', store: '錦糸町' });
  const hidden = await api(other, '/api/dialpad/recording', 'POST', {
    callId: String(ev.call_id),
    kind: 'recording',
  });
  assert.equal(hidden.status, 404);
  assert.equal(
    fake.shareLinks.length,
    0,
    'nothing asked of Dialpad for a call the user may not see',
  );
  const staff = await w.login({ role: 'staff', store: '西船橋' });
  const r = await api(staff, '/api/dialpad/recording', 'POST', {
    callId: String(ev.call_id),
    kind: 'recording',
  });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.url, 'https://dialpad.example/r/rec-1');
  assert.deepEqual(fake.shareLinks[0].body, {
    recording_id: 'rec-1',
    recording_type: 'callrecording',
    privacy: 'company',
  });
  const again = await api(staff, '/api/dialpad/recording', 'POST', {
    callId: String(ev.call_id),
    kind: 'recording',
  });
  assert.equal(again.body.url, r.body.url);
  assert.equal(fake.shareLinks.length, 1, 'made once');
  const none = await api(staff, '/api/dialpad/recording', 'POST', {
    callId: String(ev.call_id),
    kind: 'voicemail',
  });
  assert.equal(none.status, 409);
  assert.equal(
    (await api(staff, '/api/dialpad/recording', 'POST', { callId: String(ev.call_id), kind: 'x' }))
      .status,
    400,
  );
});

test('npm run dialpad:sync starts a full resync as an admin, and shows its progress', async () => {
  await settings({ contactsSync: true });
  const run = (extra, env) =>
    promisify(execFile)('node', ['scripts/dialpad-sync.mjs', '--url', w.url, ...extra], {
      env: { ...process.env, ...env },
    });
  const before = fake.contactWrites.length;
  const started = await run([], { CTI_TOKEN: admin.token });
  assert.match(started.stdout, /^full resync started: synced \d+, waiting \d+, refused 0/);
  await until(
    () => fake.contactWrites.length - before >= fake.contacts.size,
    'every contact written again',
  );
  const status = await run(['--status'], { CTI_TOKEN: admin.token });
  assert.match(status.stdout, /^synced \d+, waiting \d+/);
  const staff = await w.login({ role: 'staff', store: '西船橋' });
  await assert.rejects(run([], { CTI_TOKEN: staff.token }), /403/);
  assert.match((await run(['--help'], {})).stdout, /npm run dialpad:sync/);
});
