// @ts-check
// Integration: the built Worker in workerd, driven with real HTTP and WebSocket clients and
// webhooks signed like Dialpad's.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startWorker,
  callEvent,
  newCallId,
  signHS256,
  signRaw,
  WEBHOOK_SECRET,
  JWT_SECRET,
} from './helpers/worker.mjs';

let w;
let admin;
let nishiStaff;
let kinshiStaff;
before(async () => {
  w = await startWorker();
  admin = await w.login({ role: 'admin' });
  nishiStaff = await w.login({ role: 'staff', store: '西船橋' });
  kinshiStaff = await w.login({ role: 'staff', store: '錦糸町' });
});
after(() => w?.close());

test('a signed ringing webhook pops on every admin socket and the store staff only', async () => {
  const a1 = await w.openSocket(admin);
  const a2 = await w.openSocket(admin);
  const nishi = await w.openSocket(nishiStaff);
  const kinshi = await w.openSocket(kinshiStaff);
  const ev = callEvent();
  const res = await w.sendEvent(ev);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(res.body.status, 'broadcast');
  assert.equal(res.body.delivered, 3);
  for (const s of [a1, a2, nishi]) {
    const m = await s.waitFor((m) => m.type === 'incoming_call' && m.legId === String(ev.call_id));
    assert.equal(m.callId, String(ev.call_id));
    assert.equal(m.customerPhone, '09012345678');
    assert.equal(m.incomingNumber, '05017481234');
    assert.equal(m.isTest, false);
    assert.equal(m.state, 'ringing');
    assert.equal(m.store.name, '西船橋');
    assert.equal(m.customer.name, '山田 太郎');
    assert.equal(m.customer.memo, '平日夕方の来店が多い。駐車場利用。');
    assert.equal(m.customer.usage.visits, 12);
    assert.ok(Number.isInteger(m.seq));
    assert.match(m.timestamp, /^\d{4}-\d\d-\d\dT/);
  }
  assert.deepEqual(await kinshi.settle(), [], 'another store hears nothing');
  for (const s of [a1, a2, nishi, kinshi]) s.close();
});

test('unknown caller and unknown store', async () => {
  const a = await w.openSocket(admin);
  const ev = callEvent({ external_number: '+81 3-9999-0000', internal_number: '+81 3 0000 0000' });
  const res = await w.sendEvent(ev);
  assert.equal(res.status, 200);
  const m = await a.waitFor((m) => m.legId === String(ev.call_id));
  assert.equal(m.type, 'incoming_call');
  assert.equal(m.customer, null);
  assert.equal(m.customerPhone, '0399990000');
  assert.deepEqual(m.store, { id: null, name: '不明' });
  a.close();
});

test('longest prefix decides the store', async () => {
  await w.upsertStore('特設窓口', ['05017489']);
  const a = await w.openSocket(admin);
  const ev = callEvent({ internal_number: '050-1748-9999' });
  await w.sendEvent(ev);
  const m = await a.waitFor((m) => m.legId === String(ev.call_id));
  assert.equal(m.store.name, '特設窓口');
  a.close();
});

test('bad signature: 401, no broadcast, nothing stored', async () => {
  const a = await w.openSocket(admin);
  const ev = callEvent();
  const rowsBefore = await w.count('SELECT * FROM call_events');
  const res = await w.postWebhook(signHS256(ev, 'wrong-secret-wrong-secret'));
  assert.equal(res.status, 401);
  assert.equal(res.body.error.code, 'bad_signature');
  const alg = await w.postWebhook(signRaw({ alg: 'none' }, ev, WEBHOOK_SECRET));
  assert.equal(alg.status, 401);
  assert.equal(alg.body.error.code, 'unsupported_alg');
  assert.deepEqual(await a.settle(), []);
  assert.equal(await w.count('SELECT * FROM call_events'), rowsBefore);
  a.close();
});

test('unsigned JSON is refused unless allowed; oversized bodies are refused', async () => {
  const res = await w.postWebhook(JSON.stringify(callEvent()), {
    'content-type': 'application/json',
  });
  assert.equal(res.status, 401);
  assert.equal(res.body.error.code, 'unsigned_webhook');
  const huge = await w.postWebhook('a'.repeat(70 * 1024));
  assert.equal(huge.status, 413);
  assert.equal(huge.body.error.code, 'payload_too_large');
  // A verified event without a state is still a genuine event: recorded with state `unknown`.
  const noState = await w.sendEvent({ call_id: 1, direction: 'inbound' });
  assert.equal(noState.status, 200, JSON.stringify(noState.body));
  assert.equal(
    await w.count("SELECT 1 FROM call_events WHERE call_id = '1' AND state = 'unknown'"),
    1,
  );
  // Without a call id there is no call to record it on (see src/domain/dialpad.rs): genuine,
  // so 200, logged as unattributable, and nothing stored.
  const missing = await w.sendEvent({ state: 'ringing', direction: 'inbound' });
  assert.equal(missing.status, 200);
  assert.equal(missing.body.status, 'unattributable');
  const expired = await w.sendEvent({ ...callEvent(), exp: Math.floor(Date.now() / 1000) - 3600 });
  assert.equal(expired.status, 401);
  assert.equal(expired.body.error.code, 'token_expired');
});

test('a replayed webhook is one call-log row and one broadcast', async () => {
  const a = await w.openSocket(admin);
  const ev = callEvent();
  const token = signHS256(ev, WEBHOOK_SECRET);
  const first = await w.postWebhook(token);
  const second = await w.postWebhook(token);
  assert.equal(first.body.status, 'broadcast');
  assert.equal(second.status, 200);
  assert.equal(second.body.status, 'duplicate');
  await a.waitFor((m) => m.legId === String(ev.call_id));
  const extra = await a.settle();
  assert.equal(
    a.messages.filter((m) => m.legId === String(ev.call_id)).length,
    1,
    JSON.stringify(extra),
  );
  assert.equal(
    await w.count('SELECT * FROM call_events WHERE call_id = ?1', String(ev.call_id)),
    1,
  );
  assert.equal(await w.count('SELECT * FROM calls WHERE id = ?1', String(ev.call_id)), 1);
  a.close();
});

test('ring, connect, hang up: one pop, then live state; out-of-order never regresses', async () => {
  const a = await w.openSocket(admin);
  const id = newCallId();
  const t0 = Date.now();
  const ring = callEvent({ call_id: id, date_started: t0 });
  const conn = {
    ...ring,
    state: 'connected',
    date_connected: t0 + 3000,
    event_timestamp: t0 + 3000,
  };
  const hang = {
    ...conn,
    state: 'hangup',
    date_ended: t0 + 63000,
    duration: 60000,
    event_timestamp: t0 + 63000,
  };
  await w.sendEvent(ring);
  await w.sendEvent(hang); // delivered before `connected`, as retries can be
  await w.sendEvent(conn);
  await w.sendEvent({ ...hang, state: 'recording' }); // post-call: logged, not broadcast
  const mine = () => a.messages.filter((m) => m.callId === String(id));
  await a.waitFor((m) => m.callId === String(id) && m.state === 'hangup');
  await a.settle();
  assert.deepEqual(
    mine().map((m) => m.type),
    ['incoming_call', 'call_state', 'call_state'],
  );
  assert.deepEqual(
    mine().map((m) => m.state),
    ['ringing', 'hangup', 'hangup'],
  );
  const last = mine().at(-1);
  assert.equal(last.phase, 'ended');
  assert.equal(last.durationMs, 60000);
  const row = await w.db
    .prepare('SELECT state, phase, connected_at, duration_ms FROM calls WHERE id = ?1')
    .bind(String(id))
    .first();
  assert.deepEqual(row, {
    state: 'hangup',
    phase: 'ended',
    connected_at: t0 + 3000,
    duration_ms: 60000,
  });
  assert.equal(await w.count('SELECT * FROM call_events WHERE call_id = ?1', String(id)), 4);
  a.close();
});

test('an unanswered hangup is a missed call', async () => {
  const id = newCallId();
  await w.sendEvent(callEvent({ call_id: id }));
  const r = await w.sendEvent(callEvent({ call_id: id, state: 'hangup', date_ended: Date.now() }));
  assert.equal(r.status, 200);
  const row = await w.db.prepare('SELECT phase FROM calls WHERE id = ?1').bind(String(id)).first();
  assert.equal(row.phase, 'missed');
});

test('legs of one call (ring group / transfer) pop once', async () => {
  const a = await w.openSocket(admin);
  const entry = newCallId();
  await w.sendEvent(callEvent({ call_id: entry }));
  await w.sendEvent(callEvent({ call_id: newCallId(), entry_point_call_id: entry }));
  await w.sendEvent(
    callEvent({ call_id: newCallId(), entry_point_call_id: entry, state: 'hangup' }),
  );
  await a.waitFor((m) => m.callId === String(entry));
  await a.settle();
  const mine = a.messages.filter((m) => m.callId === String(entry));
  assert.equal(mine.filter((m) => m.type === 'incoming_call').length, 1);
  assert.ok(
    mine.every((m) => m.phase === 'ringing'),
    'a child leg that was not answered does not end the call',
  );
  assert.equal(await w.count('SELECT * FROM calls WHERE id = ?1', String(entry)), 1);
  a.close();
});

test('socket refuses missing, bad and expired tokens and foreign origins before upgrading', async () => {
  await assert.rejects(w.openSocket(null), { status: 401 });
  await assert.rejects(w.openSocket({ token: 'nope' }), { status: 401 });
  const expired = signHS256(
    {
      uid: admin.user.id,
      login: admin.login,
      name: 'x',
      role: 'admin',
      store: null,
      tv: 0,
      exp: Math.floor(Date.now() / 1000) - 7200,
    },
    JWT_SECRET,
  );
  await assert.rejects(w.openSocket({ token: expired }), { status: 401, body: /token_expired/ });
  const forged = signHS256(
    { uid: admin.user.id, role: 'admin', exp: 9999999999 },
    'some-other-secret-entirely',
  );
  await assert.rejects(w.openSocket({ token: forged }), { status: 401 });
  await assert.rejects(w.openSocket(admin, { headers: { origin: 'https://evil.example' } }), {
    status: 403,
  });
  const ok = await w.openSocket(admin, { headers: { origin: w.url } });
  ok.close();
  // The session cookie works too (what the browser uses).
  const viaCookie = await w.openSocket(null, { headers: { cookie: admin.cookie } });
  viaCookie.close();
  const plain = await w.json('/api/cti/socket', {
    headers: { authorization: `Bearer ${admin.token}` },
  });
  assert.equal(plain.status, 426);
});

test('test-call: admin only, same pipeline, isTest', async () => {
  const a = await w.openSocket(admin);
  const body = JSON.stringify({ customerPhone: '09000000000', incomingNumber: '05017481234' });
  const denied = await w.json('/api/dialpad/test-call', {
    method: 'POST',
    headers: { authorization: `Bearer ${nishiStaff.token}`, 'content-type': 'application/json' },
    body,
  });
  assert.equal(denied.status, 403);
  const anon = await w.json('/api/dialpad/test-call', { method: 'POST', body });
  assert.equal(anon.status, 401);
  const res = await w.json('/api/dialpad/test-call', {
    method: 'POST',
    headers: { authorization: `Bearer ${admin.token}`, 'content-type': 'application/json' },
    body,
  });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(res.body.success, true);
  const m = await a.waitFor((m) => m.isTest === true);
  assert.equal(m.type, 'incoming_call');
  assert.equal(m.customerPhone, '09000000000');
  assert.equal(m.store.name, '西船橋');
  const bad = await w.json('/api/dialpad/test-call', {
    method: 'POST',
    headers: { authorization: `Bearer ${admin.token}` },
    body: JSON.stringify({ customerPhone: 'abc', incomingNumber: '0501748' }),
  });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.field, 'customerPhone');
  a.close();
});

test('login: wrong password, unknown id, disabled account', async () => {
  const post = (b) =>
    w.json('/api/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(b),
    });
  assert.equal((await post({ loginId: admin.login, password: 'wrong-password' })).status, 401);
  assert.equal(
    (await post({ loginId: 'nobody-here', password: 'whatever' })).body.error.code,
    'invalid_credentials',
  );
  assert.equal((await post({ loginId: '', password: 'x' })).status, 400);
  assert.equal((await w.json('/api/auth/login', { method: 'POST', body: '{oops' })).status, 400);
  const u = await w.login({ role: 'staff', store: '葛西' });
  assert.equal(
    (await w.json('/api/auth/me', { headers: { authorization: `Bearer ${u.token}` } })).status,
    200,
  );
  await w.db.prepare('UPDATE users SET disabled = 1 WHERE login_id = ?1').bind(u.login).run();
  const me = await w.json('/api/auth/me', { headers: { authorization: `Bearer ${u.token}` } });
  assert.equal(me.status, 401);
  assert.equal(me.body.error.code, 'session_revoked');
});

test('lookup returns what the popup shows; register an unknown caller', async () => {
  const auth = { authorization: `Bearer ${admin.token}` };
  /**
   * @param {object} body
   * @param {Record<string, string>} [headers]
   */
  const post = (body, headers = auth) =>
    w.json('/api/customers/lookup', {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const r = await post({ phone: '090-1234-5678', incoming: '05017481234' });
  assert.equal(r.status, 200);
  assert.equal(r.body.customer.name, '山田 太郎');
  assert.equal(r.body.store.name, '西船橋');
  assert.ok(Array.isArray(r.body.history));
  assert.equal((await post({ phone: 'abc' })).status, 400);
  assert.equal((await post({ phone: '09012345678' }, {})).status, 401);

  const ev = callEvent({ external_number: '+81 80 7777 1234' });
  await w.sendEvent(ev);
  const unknown = await post({ phone: '08077771234' });
  assert.equal(unknown.body.customer, null);
  assert.equal(unknown.body.history.length, 1);
  const created = await w.json('/api/customers', {
    method: 'POST',
    headers: { ...nishiHeaders(), 'content-type': 'application/json' },
    body: JSON.stringify({
      name: '新規 顧客',
      kana: 'シンキ コキャク',
      phone: '080-7777-1234',
      memo: '初回電話',
    }),
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.equal(
    created.body.customer.homeStore.name,
    '西船橋',
    'staff register for their own store',
  );
  assert.equal(created.body.customer.usage.calls, 1, 'the call made before registering counts');
  const noName = await w.json('/api/customers', {
    method: 'POST',
    headers: nishiHeaders(),
    body: JSON.stringify({ name: ' ', phone: '0801234' }),
  });
  assert.equal(noName.status, 400);
  assert.equal(noName.body.error.field, 'name');
});

function nishiHeaders() {
  return { authorization: `Bearer ${nishiStaff.token}` };
}

test("recent calls are scoped to the staff member's store", async () => {
  await w.sendEvent(callEvent({ internal_number: '+815017491111' })); // 錦糸町
  const all = await w.json('/api/calls/recent?limit=100', {
    headers: { authorization: `Bearer ${admin.token}` },
  });
  const mine = await w.json('/api/calls/recent?limit=100', { headers: nishiHeaders() });
  assert.ok(all.body.calls.some((c) => c.storeName === '錦糸町'));
  assert.ok(mine.body.calls.length > 0);
  assert.ok(mine.body.calls.every((c) => c.storeName === '西船橋'));
});

test('health, security headers, unknown routes', async () => {
  const h = await w.json('/api/health');
  assert.equal(h.status, 200);
  assert.deepEqual({ ...h.body, version: 'x' }, { ok: true, version: 'x' });
  const page = await w.fetch('/admin/');
  assert.equal(page.status, 200);
  const apiRes = await w.fetch('/api/auth/me');
  for (const res of [page, apiRes]) {
    const csp = res.headers.get('content-security-policy');
    assert.match(csp, /script-src 'self'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
  }
  assert.equal(apiRes.status, 401);
  assert.match(await page.text(), /CTI/);
  const root = await w.fetch('/', { redirect: 'manual' });
  assert.equal(root.status, 302);
  assert.equal((await w.json('/api/nope')).status, 404);
  assert.equal((await w.json('/api/dialpad/webhook')).status, 405);
  const login = await w.json('/api/auth/login', {
    method: 'POST',
    body: JSON.stringify({ loginId: admin.login, password: admin.password }),
  });
  assert.match(login.headers.get('set-cookie'), /HttpOnly; Secure; SameSite=Strict/);
});
