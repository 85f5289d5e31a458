// @ts-check
// Sessions that end when they should (issue 23, "Revocation by key"): a logout closes the
// session's sockets at once, at most 20 live sessions per user (the oldest evicted, its sockets
// closed), an idle timeout (SESSION_IDLE_SECS here; SESSION_IDLE_MINUTES in production), admin
// sessions shorter than staff ones, successful logins limited per account, and the login guard
// split into one object per account and one per client network.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startWorker, JWT_SECRET } from './helpers/worker.mjs';
import { upsertUser } from '../scripts/lib/seed.mjs';
import { signHS256 } from '../scripts/lib/jwt.mjs';

const IDLE_SECS = 600;
let w;
before(async () => {
  // The hub re-reads connected sessions from D1 every second here (default 20 s).
  w = await startWorker({
    bindings: { HUB_RECHECK_SECS: '1', SESSION_IDLE_SECS: String(IDLE_SECS) },
  });
});
after(() => w?.close());

const bearer = (token) => ({ authorization: `Bearer ${token}` });
const nowSecs = () => Math.floor(Date.now() / 1000);

const login = (loginId, password, ip = '192.0.2.1') =>
  w.json('/api/auth/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'cf-connecting-ip': ip },
    body: JSON.stringify({ loginId, password }),
  });

const tokenOf = (r) => {
  const c = r.headers.get('set-cookie').split(';')[0];
  return c.slice(c.indexOf('=') + 1);
};

test("logout closes that session's socket with 4001 within a second", async () => {
  const a = await w.login({ role: 'staff', store: '西船橋' });
  const s = await w.openSocket(a);
  const started = Date.now();
  const out = await w.json('/api/auth/logout', { method: 'POST', headers: bearer(a.token) });
  assert.equal(out.status, 200);
  assert.equal(await s.closedWith(2000), 4001);
  const took = Date.now() - started;
  assert.ok(took < 2000, `closed after ${took} ms`);
});

test('the 21st session evicts the oldest: its token stops working and its socket closes with 4001', async () => {
  const password = 'twenty-one-sessions-pw';
  const u = await upsertUser(w.db, {
    login: 'many-devices',
    role: 'staff',
    store: '西船橋',
    password,
  });
  const row = await w.db
    .prepare('SELECT token_version AS tv FROM users WHERE id = ?1')
    .bind(u.id)
    .first();
  // Twenty earlier logins (rows as the Worker writes them, oldest first), each a valid token.
  const now = nowSecs();
  const sids = [];
  for (let i = 0; i < 20; i++) {
    const sid = randomBytes(16).toString('hex');
    sids.push(sid);
    await w.db
      .prepare(
        'INSERT INTO sessions (id, user_id, created_at, expires_at, last_seen) VALUES (?1, ?2, ?3, ?4, ?3)',
      )
      .bind(sid, u.id, now - 100 + i, now + 3600)
      .run();
  }
  const token = (sid) =>
    signHS256(
      {
        uid: u.id,
        login: 'many-devices',
        name: 'many-devices',
        role: 'staff',
        store: u.store_id,
        tv: row.tv,
        sid,
        iat: now,
        exp: now + 3600,
      },
      JWT_SECRET,
    );
  const oldest = await w.openSocket({ token: token(sids[0]) });
  const second = await w.openSocket({ token: token(sids[1]) });
  const r = await login('many-devices', password);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(await oldest.closedWith(2000), 4001);
  const gone = await w.json('/api/auth/me', { headers: bearer(token(sids[0])) });
  assert.equal(gone.status, 401);
  assert.equal((await w.json('/api/auth/me', { headers: bearer(token(sids[1])) })).status, 200);
  assert.equal((await w.json('/api/auth/me', { headers: bearer(tokenOf(r)) })).status, 200);
  const { n } = await w.db
    .prepare('SELECT count(*) AS n FROM sessions WHERE user_id = ?1')
    .bind(u.id)
    .first();
  assert.equal(n, 20);
  assert.equal(second.ws.readyState, 1, 'the second oldest stays open');
  second.close();
});

test('an idle session ends (SESSION_IDLE_SECS); activity keeps it alive, written at most now and then', async () => {
  const a = await w.login({ role: 'staff', store: '葛西' });
  const sid = JSON.parse(Buffer.from(a.token.split('.')[1], 'base64url').toString()).sid;
  const seen = async () =>
    (await w.db.prepare('SELECT last_seen FROM sessions WHERE id = ?1').bind(sid).first())
      .last_seen;
  // Used a moment ago: no write.
  const first = await seen();
  assert.equal((await w.json('/api/auth/me', { headers: bearer(a.token) })).status, 200);
  assert.equal(await seen(), first);
  // Used long enough ago (but within the timeout): the request refreshes it.
  await w.db
    .prepare('UPDATE sessions SET last_seen = ?2 WHERE id = ?1')
    .bind(sid, nowSecs() - IDLE_SECS + 30)
    .run();
  assert.equal((await w.json('/api/auth/me', { headers: bearer(a.token) })).status, 200);
  assert.ok((await seen()) >= nowSecs() - 5, 'refreshed');
  // Left alone longer than the timeout: refused, and the open console is sent back to login.
  const s = await w.openSocket(a);
  await w.db
    .prepare('UPDATE sessions SET last_seen = ?2 WHERE id = ?1')
    .bind(sid, nowSecs() - IDLE_SECS - 1)
    .run();
  const idle = await w.json('/api/auth/me', { headers: bearer(a.token) });
  assert.equal(idle.status, 401);
  assert.equal(idle.body.error.code, 'session_idle');
  assert.equal(await s.closedWith(5000), 4001);
});

test('admin sessions last 12 hours, staff sessions 30 days', async () => {
  /** @type {[string, string | null, number][]} */
  const lifetimes = [
    ['admin', null, 12 * 3600],
    ['staff', '西船橋', 30 * 24 * 3600],
  ];
  for (const [role, store, secs] of lifetimes) {
    const password = `${role}-lifetime-password`;
    await upsertUser(w.db, { login: `life-${role}`, role, store, password });
    const r = await login(`life-${role}`, password);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('set-cookie'), new RegExp(`Max-Age=${secs}(;|$)`));
    const exp = Date.parse(r.body.expiresAt) / 1000;
    assert.ok(Math.abs(exp - (nowSecs() + secs)) < 10, `${role}: ${r.body.expiresAt}`);
  }
});

test('successful logins are limited per account: the 11th in a minute is 429 rate_limited with Retry-After', async () => {
  const password = 'login-loop-password';
  await upsertUser(w.db, { login: 'looper', role: 'staff', store: '西船橋', password });
  for (let i = 0; i < 10; i++) {
    const r = await login('looper', password);
    assert.equal(r.status, 200, `login ${i + 1}`);
    await w.json('/api/auth/logout', { method: 'POST', headers: bearer(tokenOf(r)) });
  }
  const refused = await login('looper', password);
  assert.equal(refused.status, 429);
  assert.equal(refused.body.error.code, 'rate_limited');
  assert.ok(Number(refused.headers.get('retry-after')) > 0);
  assert.equal(refused.headers.get('set-cookie'), null, 'no session');
  // Another account is not affected.
  await upsertUser(w.db, { login: 'bystander', role: 'staff', store: '西船橋', password });
  assert.equal((await login('bystander', password)).status, 200);
});

/** The counters a guard object holds (its storage is its own: one object per name). */
async function guardKeys(name) {
  const ns = await w.mf.getDurableObjectNamespace('GUARD');
  const res = await ns
    .get(ns.idFromName(`default/${name}`))
    .fetch('https://guard/keys', { method: 'POST' });
  assert.equal(res.status, 200);
  return (await res.json()).keys;
}

test('the login guard is one object per account and one per network; a spray over every account is slowed per network', async () => {
  const password = 'sprayed-one-password';
  const accounts = Array.from({ length: 31 }, (_, i) => `spray-${i}`);
  for (const a of accounts)
    await upsertUser(w.db, {
      login: a,
      role: 'staff',
      store: '西船橋',
      password: `real-${a}-password`,
    });
  // One network tries the same password on every account: 30 attempts, then refused at once.
  const net = '203.0.113.77';
  const statuses = [];
  for (const a of accounts) statuses.push((await login(a, password, net)).status);
  assert.deepEqual(statuses.slice(0, 30), Array(30).fill(401));
  assert.equal(statuses[30], 429, 'the network is slowed down');
  // Each account's object holds that account's counters only; the network's object its own.
  assert.deepEqual(await guardKeys('acct:spray-0'), [`acct:spray-0`, `an:spray-0|${net}`]);
  assert.deepEqual(await guardKeys(`net:${net}`), [`net:${net}`]);
  assert.deepEqual(
    await guardKeys('acct:spray-30'),
    [],
    'refused by the network before reaching the account',
  );
  // Another network still reaches the accounts.
  assert.equal((await login('spray-30', 'real-spray-30-password', '198.51.100.9')).status, 200);
});

test('the daily cron deletes expired and idle sessions, keeps live ones', async () => {
  const u = await upsertUser(w.db, {
    login: 'pruned-user',
    role: 'staff',
    store: '西船橋',
    password: 'pruned-user-password',
  });
  const now = nowSecs();
  const rows = {
    expired: [now - 7200, now - 1, now - 10],
    idle: [now - 7200, now + 3600, now - IDLE_SECS - 5],
    live: [now - 60, now + 3600, now - 30],
  };
  const ids = {};
  for (const [what, [created, expires, seen]] of Object.entries(rows)) {
    ids[what] = randomBytes(16).toString('hex');
    await w.db
      .prepare(
        'INSERT INTO sessions (id, user_id, created_at, expires_at, last_seen) VALUES (?1, ?2, ?3, ?4, ?5)',
      )
      .bind(ids[what], u.id, created, expires, seen)
      .run();
  }
  const worker = await w.mf.getWorker();
  assert.equal(
    (await worker.scheduled({ cron: '30 18 * * *', scheduledTime: new Date() })).outcome,
    'ok',
  );
  const left = (
    await w.db.prepare('SELECT id FROM sessions WHERE user_id = ?1').bind(u.id).all()
  ).results.map((r) => r.id);
  assert.deepEqual(left, [ids.live]);
});
