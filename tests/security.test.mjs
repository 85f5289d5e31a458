// @ts-check
// Authentication hardening: login throttling, room isolation on replay, cookie-CSRF defence.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorker, callEvent } from './helpers/worker.mjs';
import { upsertUser } from '../scripts/lib/seed.mjs';

let w;
before(async () => {
  w = await startWorker();
});
after(() => w?.close());

const login = (loginId, password, ip = '198.51.100.7') =>
  w.json('/api/auth/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'cf-connecting-ip': ip },
    body: JSON.stringify({ loginId, password }),
  });

test('five wrong passwords lock the account (even the right one gets 429) until the window ends', async () => {
  await upsertUser(w.db, {
    login: 'victim',
    role: 'staff',
    store: '西船橋',
    password: 'right-password',
  });
  for (let i = 0; i < 5; i++) assert.equal((await login('victim', `guess-${i}`)).status, 401);
  const locked = await login('victim', 'right-password');
  assert.equal(locked.status, 429);
  assert.equal(locked.body.error.code, 'rate_limited');
  const retry = Number(locked.headers.get('retry-after'));
  assert.ok(retry > 0 && retry <= 900, `Retry-After ${retry}`);
  // The lock is per account: another account logs in fine from the same client.
  await upsertUser(w.db, { login: 'bystander', role: 'admin', password: 'bystander-password' });
  assert.equal((await login('bystander', 'bystander-password')).status, 200);
});

test('a successful login clears the account counter', async () => {
  await upsertUser(w.db, { login: 'forgetful', role: 'admin', password: 'the-password' });
  for (let i = 0; i < 4; i++)
    assert.equal((await login('forgetful', 'wrong', '198.51.100.8')).status, 401);
  assert.equal((await login('forgetful', 'the-password', '198.51.100.8')).status, 200);
  for (let i = 0; i < 4; i++)
    assert.equal((await login('forgetful', 'wrong', '198.51.100.8')).status, 401);
  assert.equal((await login('forgetful', 'the-password', '198.51.100.8')).status, 200);
});

test('one client spraying many accounts is throttled per IP', async () => {
  const ip = '203.0.113.99';
  let last;
  for (let i = 0; i < 31; i++) last = await login(`spray-${i}`, 'password123', ip);
  assert.equal(last.status, 429);
  assert.equal(
    (await login('spray-x', 'password123', '203.0.113.100')).status,
    401,
    'other clients unaffected',
  );
});

test('a staff socket asking for a replay gets its own store only', async () => {
  const admin = await w.login({ role: 'admin' });
  const staff = await w.login({ role: 'staff', store: '葛西' });
  const a = await w.openSocket(admin);
  await w.sendEvent(callEvent({ internal_number: '+815017481111' })); // 西船橋
  const kasai = callEvent({ internal_number: '+815017501111' }); // 葛西
  await w.sendEvent(kasai);
  await a.waitFor((m) => m.legId === String(kasai.call_id));
  const s = await w.openSocket(staff);
  s.ws.send(JSON.stringify({ type: 'sync', since: 0 }));
  await s.waitFor((m) => m.type === 'hello' && s.of('hello').length === 2);
  await s.settle();
  const calls = s.messages.filter((m) => m.callId);
  assert.ok(calls.length >= 1);
  assert.ok(
    calls.every((m) => m.store.name === '葛西'),
    JSON.stringify(calls.map((m) => m.store.name)),
  );
  a.close();
  s.close();
});

test('cookie-authenticated writes from another site are refused', async () => {
  const admin = await w.login({ role: 'admin' });
  const body = JSON.stringify({ name: 'CSRF', phone: '0311112222' });
  const cross = await w.json('/api/customers', {
    method: 'POST',
    headers: {
      cookie: admin.cookie,
      origin: 'https://evil.example',
      'content-type': 'application/json',
    },
    body,
  });
  assert.equal(cross.status, 403);
  assert.equal(cross.body.error.code, 'bad_origin');
  const same = await w.json('/api/customers', {
    method: 'POST',
    headers: { cookie: admin.cookie, origin: w.url, 'content-type': 'application/json' },
    body,
  });
  assert.equal(same.status, 201);
});

test('ALLOW_UNSIGNED_WEBHOOKS=true accepts a plain-JSON event with the hook key (and still validates it)', async () => {
  const KEY = 'k'.repeat(20) + 'unsigned-hook-key-0123456789';
  const open = await startWorker({
    bindings: { ALLOW_UNSIGNED_WEBHOOKS: 'true', UNSIGNED_WEBHOOK_KEY: KEY },
  });
  try {
    const admin = await open.login({ role: 'admin' });
    const s = await open.openSocket(admin);
    const ev = callEvent();
    open.postWebhook = (body, headers = {}) =>
      open.json(`/api/dialpad/webhook?key=${KEY}`, {
        method: 'POST',
        headers: { 'content-type': 'application/jwt', ...headers },
        body,
      });
    const r = await open.postWebhook(JSON.stringify(ev), { 'content-type': 'application/json' });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal((await s.waitFor((m) => m.legId === String(ev.call_id))).store.name, '西船橋');
    const bad = await open.postWebhook(JSON.stringify({ ...ev, call_id: 1.5 }), {
      'content-type': 'application/json',
    });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, 'invalid_call_id');
    s.close();
  } finally {
    await open.close();
  }
});
