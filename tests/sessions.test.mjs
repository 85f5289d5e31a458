// @ts-check
// Sessions end when they should (issue 11, "Sessions and sockets"): the cookie, server-side
// logout and "log out everywhere", revocation reaching open sockets (through the Worker at
// once; straight in D1 through the hub's re-check), and the per-user and per-socket limits.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { startWorker, callEvent } from './helpers/worker.mjs';
import { upsertUser } from '../scripts/lib/seed.mjs';

let w;
before(async () => {
  // The hub re-reads connected users from D1 every second here (default 20 s), so a change
  // made straight in D1 shows within the tests' usual waits.
  w = await startWorker({ bindings: { HUB_RECHECK_SECS: '1' } });
});
after(() => w?.close());

/** The hub re-check's read of the connected sessions (src/db/users.rs `states`). */
const RECHECK_SESSIONS_SQL =
  'SELECT id FROM sessions WHERE id IN (SELECT value FROM json_each(?1))';

const bearer = (auth) => ({ authorization: `Bearer ${auth.token}` });
const me = (auth) => w.json('/api/auth/me', { headers: bearer(auth) });

/** Logs in once more as an existing account (a second device). */
async function loginAgain(first) {
  const r = await w.json('/api/auth/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ loginId: first.login, password: first.password }),
  });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const cookie = r.headers.get('set-cookie').split(';')[0];
  return { ...first, cookie, token: cookie.slice(cookie.indexOf('=') + 1) };
}

const closed = (probe, ms) => probe.closedWith(ms);

test('the session cookie is __Host-, Secure, HttpOnly, SameSite=Strict; the login body carries no token', async () => {
  const password = 'a-long-enough-password';
  await upsertUser(w.db, { login: 'cookie-user', role: 'admin', password });
  const r = await w.json('/api/auth/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ loginId: 'cookie-user', password }),
  });
  assert.equal(r.status, 200);
  assert.equal(r.body.token, undefined, 'no token for page scripts');
  assert.equal(r.body.user.loginId, 'cookie-user');
  const c = r.headers.get('set-cookie');
  assert.match(c, /^__Host-cti_session=[\w-]+\.[\w-]+\.[\w-]+;/);
  for (const attr of ['Path=/', 'HttpOnly', 'Secure', 'SameSite=Strict'])
    assert.ok(c.split('; ').includes(attr), `${attr} in ${c}`);
  assert.doesNotMatch(c, /Domain=/i);
  // The old cookie name no longer authenticates.
  const token = c.split(';')[0].split('=')[1];
  assert.equal(
    (await w.json('/api/auth/me', { headers: { cookie: `cti_session=${token}` } })).status,
    401,
  );
  assert.equal(
    (await w.json('/api/auth/me', { headers: { cookie: `__Host-cti_session=${token}` } })).status,
    200,
  );
});

test('logout is server-side: the token stops working everywhere and its sockets close with 4001; other devices stay', async () => {
  const a = await w.login({ role: 'staff', store: '西船橋' });
  const b = await loginAgain(a);
  const sa = await w.openSocket(a);
  const sb = await w.openSocket(b);
  const out = await w.json('/api/auth/logout', { method: 'POST', headers: bearer(a) });
  assert.equal(out.status, 200);
  assert.match(out.headers.get('set-cookie'), /^__Host-cti_session=;.*Max-Age=0/);
  assert.equal(await closed(sa), 4001);
  const after = await me(a);
  assert.equal(after.status, 401);
  assert.equal(after.body.error.code, 'session_revoked');
  // The same token through the cookie, and on a new socket: refused too.
  assert.equal((await w.json('/api/auth/me', { headers: { cookie: a.cookie } })).status, 401);
  await assert.rejects(w.openSocket(a), { status: 401 });
  // The other device is untouched and still hears calls.
  assert.equal((await me(b)).status, 200);
  const ev = callEvent();
  await w.sendEvent(ev);
  await sb.waitFor((m) => m.legId === String(ev.call_id));
  sb.close();
});

test('log out everywhere: every session and socket of the user ends before the answer; nothing is sent after', async () => {
  const a = await w.login({ role: 'admin' });
  const b = await loginAgain(a);
  const other = await w.login({ role: 'admin' });
  const sa = await w.openSocket(a);
  const sb = await w.openSocket(b);
  const so = await w.openSocket(other);
  const r = await w.json('/api/auth/logout-all', { method: 'POST', headers: bearer(a) });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  // Sent after the change: must reach the bystander only.
  const ev = callEvent();
  await w.sendEvent(ev);
  await so.waitFor((m) => m.legId === String(ev.call_id));
  assert.equal(await closed(sa), 4001);
  assert.equal(await closed(sb), 4001);
  for (const s of [sa, sb])
    assert.ok(!s.messages.some((m) => m.legId === String(ev.call_id)), 'nothing after the change');
  assert.equal((await me(a)).status, 401);
  assert.equal((await me(b)).status, 401);
  assert.equal((await me(other)).status, 200);
  // Logging in again works.
  assert.equal((await me(await loginAgain(a))).status, 200);
  so.close();
});

test("an admin ends another user's sessions; staff may not", async () => {
  const admin = await w.login({ role: 'admin' });
  const staff = await w.login({ role: 'staff', store: '葛西' });
  const s = await w.openSocket(staff);
  const denied = await w.json(`/api/users/${admin.user.id}/logout-all`, {
    method: 'POST',
    headers: bearer(staff),
  });
  assert.equal(denied.status, 403);
  const r = await w.json(`/api/users/${staff.user.id}/logout-all`, {
    method: 'POST',
    headers: bearer(admin),
  });
  assert.equal(r.status, 200);
  assert.equal(r.body.socketsClosed, 1);
  assert.equal(await closed(s), 4001);
  assert.equal((await me(staff)).status, 401);
  assert.equal(
    (await w.json('/api/users/999999/logout-all', { method: 'POST', headers: bearer(admin) }))
      .status,
    404,
  );
});

test("changes made straight in D1 (the user CLI) close the user's sockets with 4001", async () => {
  const changes = {
    disable: (u) =>
      w.db
        .prepare(
          'UPDATE users SET disabled = 1, token_version = token_version + 1 WHERE login_id = ?1',
        )
        .bind(u.login)
        .run(),
    'password reset': (u) =>
      upsertUser(w.db, {
        login: u.login,
        role: 'staff',
        store: '西船橋',
        password: 'a-brand-new-password',
      }),
    'role change': (u) =>
      upsertUser(w.db, { login: u.login, role: 'admin', store: null, password: u.password }),
    'store change': (u) =>
      upsertUser(w.db, { login: u.login, role: 'staff', store: '松戸', password: u.password }),
    // Even without a version bump: the hub compares role, store and disabled too.
    'raw store edit': (u) =>
      w.db
        .prepare(
          'UPDATE users SET store_id = (SELECT id FROM stores WHERE name = ?2) WHERE login_id = ?1',
        )
        .bind(u.login, '錦糸町')
        .run(),
  };
  for (const [what, change] of Object.entries(changes)) {
    const u = await w.login({ role: 'staff', store: '西船橋' });
    const s = await w.openSocket(u);
    await change(u);
    assert.equal(await closed(s, 15000), 4001, what);
  }
});

test('at most 10 sockets per user; another user is unaffected', async () => {
  const u = await w.login({ role: 'staff', store: '西船橋' });
  const open = [];
  for (let i = 0; i < 10; i++) open.push(await w.openSocket(u));
  await assert.rejects(w.openSocket(u), { status: 429 });
  const other = await w.openSocket(await w.login({ role: 'staff', store: '西船橋' }));
  other.close();
  for (const s of open) s.close();
});

test('a flood of sync, an oversized or a binary message closes that socket only', async () => {
  const u = await w.login({ role: 'admin' });
  const bystander = await w.openSocket(await w.login({ role: 'admin' }));
  const flood = await w.openSocket(u);
  for (let i = 0; i < 50; i++) flood.ws.send(JSON.stringify({ type: 'sync', since: 0 }));
  assert.equal(await closed(flood), 1008);
  assert.ok(
    flood.of('hello').length <= 6,
    `at most the burst was served: ${flood.of('hello').length}`,
  );
  const big = await w.openSocket(u);
  big.ws.send(JSON.stringify({ type: 'sync', since: 0, pad: 'x'.repeat(4096) }));
  assert.equal(await closed(big), 1009);
  const bin = await w.openSocket(u);
  bin.ws.send(Buffer.from([1, 2, 3]));
  assert.equal(await closed(bin), 1003);
  // A few syncs are fine, and the others never noticed.
  const calm = await w.openSocket(u);
  calm.ws.send(JSON.stringify({ type: 'sync', since: 0 }));
  await calm.waitFor(() => calm.of('hello').length === 2);
  const ev = callEvent();
  await w.sendEvent(ev);
  await bystander.waitFor((m) => m.legId === String(ev.call_id));
  await calm.waitFor((m) => m.legId === String(ev.call_id));
  calm.close();
  bystander.close();
});

test('a socket opened with a pre-session token (no sid) is refused', async () => {
  const { signHS256, JWT_SECRET } = await import('./helpers/worker.mjs');
  const u = await w.login({ role: 'admin' });
  const old = signHS256(
    {
      uid: u.user.id,
      login: u.login,
      name: 'x',
      role: 'admin',
      store: null,
      tv: 0,
      exp: Math.floor(Date.now() / 1000) + 3600,
    },
    JWT_SECRET,
  );
  const ws = new WebSocket(`${w.url.replace('http', 'ws')}/api/cti/socket`, {
    headers: { authorization: `Bearer ${old}` },
  });
  const status = await new Promise((resolve) =>
    ws.once('unexpected-response', (_q, res) => resolve(res.statusCode)),
  );
  assert.equal(status, 401);
});

test('a console stays served across lease renewals: a call after several re-checks still reaches it', async () => {
  // The hub keeps each room's sockets (and their leases) in memory between broadcasts; the
  // re-check that renews a lease must reach that copy too, or the socket would be judged
  // expired (lease: 3 re-checks, 3 s here) and told to reconnect.
  // The re-checks are counted, not waited for: each one's D1 read of the sessions is held
  // (tests/helpers/d1-fault.mjs) until the test has seen it, then let through. Re-checks run
  // at least HUB_RECHECK_SECS apart (the next is scheduled when one ends), so after
  // LEASE_RECHECKS + 1 of them the lease given at connect has expired: only renewals remain.
  const f = await startWorker({ d1Fault: true, bindings: { HUB_RECHECK_SECS: '1' } });
  try {
    const u = await f.login({ role: 'admin' });
    const s = await f.openSocket(u);
    const first = callEvent();
    assert.equal((await f.sendEvent(first)).status, 200);
    await s.waitFor((m) => m.legId === String(first.call_id));
    for (let i = 0; i < 4; i++) {
      const held = await f.holdD1(RECHECK_SESSIONS_SQL);
      assert.match(await held.reached(), /FROM sessions/, `re-check ${i + 1} reached D1`);
      await held.release();
    }
    assert.equal(s.ws.readyState, WebSocket.OPEN, 'the socket stayed open');
    const second = callEvent();
    const res = await f.sendEvent(second);
    assert.equal(res.status, 200);
    assert.equal(res.body.delivered >= 1, true, JSON.stringify(res.body));
    await s.waitFor((m) => m.legId === String(second.call_id));
    s.close();
  } finally {
    await f.close();
  }
});

test('concurrent requests are each answered for their own session (their D1 checks are read together)', async () => {
  const { signHS256, JWT_SECRET } = await import('./helpers/worker.mjs');
  const a = await w.login({ role: 'admin' });
  const gone = await loginAgain(a);
  const b = await w.login({ role: 'admin' });
  assert.equal(
    (await w.json('/api/auth/logout', { method: 'POST', headers: bearer(gone) })).status,
    200,
  );
  // A well-signed token naming b's account with a's live session: someone else's session.
  const claims = JSON.parse(Buffer.from(a.token.split('.')[1], 'base64url').toString());
  const forged = { token: signHS256({ ...claims, uid: b.user.id }, JWT_SECRET) };
  const kinds = [
    [a, 200, a.user.id],
    [b, 200, b.user.id],
    [gone, 401],
    [forged, 401],
  ];
  const asks = Array.from({ length: 48 }, (_, i) => kinds[i % kinds.length]);
  const answers = await Promise.all(asks.map(([auth]) => me(auth)));
  for (const [i, r] of answers.entries()) {
    const [, status, uid] = asks[i];
    assert.equal(r.status, status, `request ${i}: ${JSON.stringify(r.body)}`);
    if (uid !== undefined) assert.equal(r.body.user.id, uid, `request ${i}`);
  }
});
