// @ts-check
// Requests (issue 11): bodies are limited while streaming and refused before they are read
// when the route or the session is wrong; browser writes need our origin and a JSON, multipart
// or CSV body; no phone number travels in a URL; health says little to the public; HSTS and
// secret-free error bodies; store ids are never reused; exports are streamed and rate-limited;
// unsigned webhooks need the hook key. And no cross-store leaks through numbers or usage.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, copyFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Miniflare } from 'miniflare';
import { startWorker, callEvent, signHS256, WEBHOOK_SECRET } from './helpers/worker.mjs';
import { applyMigrations } from '../scripts/lib/sql.mjs';
import { assetsVersion } from '../scripts/lib/assets-version.mjs';
import { popupUrl } from '../public/admin/lib/calls.js';

const MB = 1024 * 1024;

let w;
let admin;
let nishi; // staff of 西船橋 (line 0501748…)
let kinshi; // staff of 錦糸町 (line 0501749…)
before(async () => {
  w = await startWorker();
  admin = await w.login({ role: 'admin' });
  nishi = await w.login({ role: 'staff', store: '西船橋' });
  kinshi = await w.login({ role: 'staff', store: '錦糸町' });
});
after(() => w?.close());

/**
 * @param {import('./helpers/worker.mjs').Auth} who
 * @param {string} path
 * @param {import('./helpers/worker.mjs').ApiOptions} [opts]
 * @returns {Promise<import('./helpers/worker.mjs').JsonResponse>}
 */
const api = (who, path, { method = 'GET', body, headers = {} } = {}) =>
  w.json(path, {
    method,
    headers: {
      authorization: `Bearer ${who.token}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

/**
 * POSTs up to `total` bytes as a chunked upload (no Content-Length) over a raw socket, writing
 * only as fast as the connection takes them, and stops at the first byte of the answer.
 * Resolves with the status and how many bytes had been handed to the socket by then (which
 * includes what the kernel's buffers held: a few MB on loopback); status null and reset true
 * when the connection was reset before the answer could be read.
 */
function chunkedPost(path, headers = {}, total = 50 * MB) {
  return new Promise((resolve, reject) => {
    const url = new URL(w.url);
    const s = net.connect(Number(url.port), url.hostname);
    let sent = 0;
    let got = '';
    let answered = null;
    s.on('data', (d) => {
      got += d.toString('latin1');
      const m = /^HTTP\/1\.1 (\d{3})/.exec(got);
      if (m && !answered) {
        answered = { status: Number(m[1]), sent };
        resolve(answered);
        s.destroy();
      }
    });
    s.on('error', (/** @type {NodeJS.ErrnoException} */ e) => {
      // The Worker answers and then resets the connection it stopped reading; now and then
      // the reset wins the race with reading the answer. The bytes sent still tell.
      if (!answered && ['ECONNRESET', 'EPIPE'].includes(e.code)) {
        answered = { status: null, reset: true, sent };
        resolve(answered);
      } else if (!answered) reject(new Error(`no answer after ${sent} bytes: ${e.message}`));
    });
    s.on('close', () => {
      if (!answered) reject(new Error(`closed without an answer after ${sent} bytes`));
    });
    const head = {
      host: url.host,
      'content-type': 'application/json',
      ...headers,
      'transfer-encoding': 'chunked',
    };
    s.write(
      `POST ${path} HTTP/1.1\r\n${Object.entries(head)
        .map(([k, v]) => `${k}: ${v}\r\n`)
        .join('')}\r\n`,
    );
    const frame = Buffer.concat([
      Buffer.from('10000\r\n'),
      Buffer.alloc(0x10000, 0x61),
      Buffer.from('\r\n'),
    ]);
    (async () => {
      while (!answered && sent < total && !s.destroyed) {
        sent += 0x10000;
        if (!s.write(frame)) await Promise.race([once(s, 'drain'), once(s, 'close')]);
        // Let the answer be read before the next write can meet the connection's reset.
        await new Promise((r) => setImmediate(r));
      }
      if (!answered && !s.destroyed) s.write('0\r\n\r\n');
    })().catch(() => {});
  });
}

test('a 50 MB chunked upload is refused with 413 after at most the route limit (plus buffers)', async () => {
  const auth = { authorization: `Bearer ${admin.token}` };
  const big = await chunkedPost('/api/customers/import', { ...auth, 'content-type': 'text/csv' });
  assert.ok(big.status === 413 || big.reset, JSON.stringify(big));
  assert.ok(big.sent < 5 * MB + 10 * MB, `read ${big.sent} bytes of 50 MB`);
  const small = await chunkedPost('/api/customers/1/notes', auth);
  assert.ok(small.status === 413 || small.reset, JSON.stringify(small));
  assert.ok(small.sent < 10 * MB, `read ${small.sent} bytes`);
  // The Worker still answers normally afterwards.
  assert.equal((await api(admin, '/api/auth/me')).status, 200);
});

test('a webhook without Content-Length (chunked) takes the buffered way: a signed one is taken, an oversized one is 413', async () => {
  // Deliveries with a declared length skip the router's buffering (src/lib.rs); these do not.
  const body = new TextEncoder().encode(signHS256(callEvent(), WEBHOOK_SECRET));
  const stream = new ReadableStream({
    start(c) {
      c.enqueue(body);
      c.close();
    },
  });
  const res = await fetch(
    w.url + '/api/dialpad/webhook',
    /** @type {RequestInit} */ ({
      method: 'POST',
      headers: { 'content-type': 'application/jwt' },
      body: stream,
      duplex: 'half',
    }),
  );
  const answer = await res.json();
  assert.equal(res.status, 200, JSON.stringify(answer));
  assert.equal(answer.status, 'broadcast');
  const big = await chunkedPost(
    '/api/dialpad/webhook',
    { 'content-type': 'application/jwt' },
    128 * 1024,
  );
  assert.equal(big.status, 413, JSON.stringify(big));
  assert.equal((await w.json('/api/health')).status, 200);
});

test('unknown paths and requests without a valid session are refused before their body is read', async () => {
  const unknown = await chunkedPost('/api/nothing-here');
  assert.ok(unknown.status === 404 || unknown.reset, JSON.stringify(unknown));
  assert.ok(unknown.sent < 10 * MB, `read ${unknown.sent} bytes`);
  const anonymous = await chunkedPost('/api/customers/import', { 'content-type': 'text/csv' });
  assert.ok(anonymous.status === 401 || anonymous.reset, JSON.stringify(anonymous));
  assert.ok(anonymous.sent < 10 * MB, `read ${anonymous.sent} bytes`);
  const forged = await chunkedPost('/api/customers', {
    authorization: 'Bearer eyJhbGciOiJIUzI1NiJ9.e30.AAAA',
  });
  assert.ok(forged.status === 401 || forged.reset, JSON.stringify(forged));
  assert.ok(forged.sent < 10 * MB, `read ${forged.sent} bytes`);
  // A small refused request keeps the connection usable (its body is drained).
  const r = await w.json('/api/customers', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"name":"x"}',
  });
  assert.equal(r.status, 401);
  assert.equal((await w.json('/api/health')).status, 200);
});

test('cookie-authenticated writes need our Origin (or Sec-Fetch-Site: same-origin) and a JSON body', async () => {
  const cookie = admin.cookie;
  const post = (headers, body = JSON.stringify({ q: '' })) =>
    w.json('/api/customers/search', { method: 'POST', headers: { cookie, ...headers }, body });
  const plain = await post({ origin: w.url, 'content-type': 'text/plain' });
  assert.equal(plain.status, 415);
  assert.equal(plain.body.error.code, 'unsupported_media_type');
  const noOrigin = await post({ 'content-type': 'application/json' });
  assert.equal(noOrigin.status, 403, 'no Origin and no Sec-Fetch-Site');
  const crossSite = await post({
    'content-type': 'application/json',
    'sec-fetch-site': 'cross-site',
  });
  assert.equal(crossSite.status, 403);
  assert.equal(
    (await post({ 'content-type': 'application/json', 'sec-fetch-site': 'same-origin' })).status,
    200,
  );
  assert.equal(
    (await post({ 'content-type': 'application/json; charset=utf-8', origin: w.url })).status,
    200,
  );
  // CSV only where a CSV is taken.
  const csvElsewhere = await post({ origin: w.url, 'content-type': 'text/csv' }, 'a,b');
  assert.equal(csvElsewhere.status, 415);
  // A bodiless write (logout, delete) needs no content type, only the origin.
  const del = await w.json('/api/customers/999999', {
    method: 'DELETE',
    headers: { cookie, origin: w.url },
  });
  assert.equal(del.status, 404);
});

test('no phone number in a URL: the popup address carries the call id; lookups and searches take the number in the body', async () => {
  // (any: the number is passed on purpose, to see it left out of the address.)
  const url = popupUrl(
    /** @type {any} */ ({ callId: '6001', phone: '09012345678', incoming: '05017481234' }),
  );
  assert.equal(url, '/admin/popup/cti?callId=6001');
  // The old GET forms are gone.
  assert.equal((await api(admin, '/api/customers/lookup?phone=09012345678')).status, 405);
  assert.equal((await api(admin, '/api/customers?q=09012345678')).status, 405);
  assert.equal((await api(admin, '/api/calls?q=09012345678')).status, 404);
  // The popup's lookup resolves the numbers from the call.
  const ev = callEvent({ external_number: '+819012345678', internal_number: '+815017481234' });
  assert.equal((await w.sendEvent(ev)).status, 200);
  const pop = await api(nishi, '/api/customers/lookup', {
    method: 'POST',
    body: { callId: String(ev.call_id) },
  });
  assert.equal(pop.status, 200, JSON.stringify(pop.body));
  assert.equal(pop.body.phone, '09012345678');
  assert.equal(pop.body.customer.name, '山田 太郎');
  assert.equal(pop.body.store.name, '西船橋');
  // The pipeline writes the call's store after the broadcast: a popup that asks first still
  // gets its call, the store decided from the dialled line.
  await w.db
    .prepare('UPDATE calls SET store_id = NULL WHERE id = ?1')
    .bind(String(ev.call_id))
    .run();
  const early = await api(nishi, '/api/customers/lookup', {
    method: 'POST',
    body: { callId: String(ev.call_id) },
  });
  assert.equal(early.status, 200, JSON.stringify(early.body));
  assert.equal(early.body.customer.name, '山田 太郎');
  await w.db
    .prepare(
      "UPDATE calls SET store_id = (SELECT id FROM stores WHERE name = '西船橋') WHERE id = ?1",
    )
    .bind(String(ev.call_id))
    .run();
  // Another store's staff cannot read a call that is not theirs by guessing its id.
  assert.equal(
    (
      await api(kinshi, '/api/customers/lookup', {
        method: 'POST',
        body: { callId: String(ev.call_id) },
      })
    ).status,
    404,
  );
  assert.equal(
    (await api(admin, '/api/customers/lookup', { method: 'POST', body: { callId: 'nope' } }))
      .status,
    404,
  );
  assert.equal(
    (await api(admin, '/api/customers/lookup', { method: 'POST', body: { callId: [1] } })).status,
    400,
  );
  // A withheld caller: the call's line, no customer.
  const withheld = callEvent({ external_number: '', contact: null });
  await w.sendEvent(withheld);
  const anon = await api(admin, '/api/customers/lookup', {
    method: 'POST',
    body: { callId: String(withheld.call_id) },
  });
  assert.equal(anon.status, 200, JSON.stringify(anon.body));
  assert.equal(anon.body.phone, null);
  assert.equal(anon.body.customer, null);
  // Searches by number.
  const found = await api(nishi, '/api/customers/search', {
    method: 'POST',
    body: { q: '090-1234-5678' },
  });
  assert.ok(found.body.customers.some((c) => c.name === '山田 太郎'));
  const log = await api(nishi, '/api/calls/search', {
    method: 'POST',
    body: { q: '09012345678', perPage: 100 },
  });
  assert.equal(log.status, 200);
  assert.ok(log.body.calls.some((c) => c.id === String(ev.call_id)));
  const bad = await api(nishi, '/api/calls/search', {
    method: 'POST',
    body: { q: 'x'.repeat(101) },
  });
  assert.deepEqual([bad.status, bad.body.error.field], [400, 'q']);
  const unknownField = await api(nishi, '/api/calls/search', {
    method: 'POST',
    body: { phone: '0901' },
  });
  assert.equal(unknownField.status, 400);
});

test("staff may give their own store's customer a number of another store's customer (claimed in two stores); admins too", async () => {
  // 佐藤 花子 (08011112222) is 錦糸町's.
  // Another store's customer has the number: 西船橋 may still record its own caller, told
  // nothing of who the other is (issue 23: a store is never locked out of its own caller).
  const create = await api(nishi, '/api/customers', {
    method: 'POST',
    body: { name: '横取り 太郎', phone: '080-1111-2222' },
  });
  assert.equal(create.status, 201, JSON.stringify(create.body));
  assert.deepEqual(create.body.duplicates, [{ phone: '08011112222', customer: null }]);
  assert.ok(!JSON.stringify(create.body).includes('佐藤'));
  const yamada = (
    await api(nishi, '/api/customers/search', { method: 'POST', body: { q: '09012345678' } })
  ).body.customers[0];
  const patch = await api(nishi, `/api/customers/${yamada.id}`, {
    method: 'PATCH',
    body: { version: yamada.version, phones: ['09012345678', '08011112222'] },
  });
  assert.equal(patch.status, 200, JSON.stringify(patch.body));
  assert.equal(await w.count("SELECT 1 FROM customer_phones WHERE phone = '08011112222'"), 3);
  yamada.version = patch.body.customer.version;
  // Keeping its own numbers, or adding a fresh one, is fine.
  const own = await api(nishi, `/api/customers/${yamada.id}`, {
    method: 'PATCH',
    body: { version: yamada.version, phones: ['09012345678', '09088887777'] },
  });
  assert.equal(own.status, 200, JSON.stringify(own.body));
  // A number of a customer with no home store is everyone's.
  await w.addCustomer({ name: '店なし 共有', phone: '09066660000' });
  const shared = await api(nishi, '/api/customers', {
    method: 'POST',
    body: { name: '家族 共有', phone: '09066660000' },
  });
  assert.equal(shared.status, 201, JSON.stringify(shared.body));
  // An admin may attach another store's number.
  const byAdmin = await api(admin, '/api/customers', {
    method: 'POST',
    body: { name: '管理者 登録', phone: '08011112222', homeStoreId: yamada.homeStore.id },
  });
  assert.equal(byAdmin.status, 201, JSON.stringify(byAdmin.body));
});

test('usage figures a staff member sees count only the calls they may see', async () => {
  const phone = '09044443333';
  const id = await w.addCustomer({ name: '利用 集計', phone, store: '西船橋' });
  await w.sendEvent(
    callEvent({ external_number: '+819044443333', internal_number: '+815017481234' }),
  ); // 西船橋
  for (let n = 0; n < 2; n++)
    await w.sendEvent(
      callEvent({ external_number: '+819044443333', internal_number: '+815017491234' }),
    ); // 錦糸町
  const staff = await api(nishi, `/api/customers/${id}`);
  assert.equal(staff.status, 200);
  assert.equal(staff.body.customer.usage.calls, 1, "the other store's calls are not counted");
  const all = await api(admin, `/api/customers/${id}`);
  assert.equal(all.body.customer.usage.calls, 3);
  const search = await api(nishi, '/api/customers/search', { method: 'POST', body: { q: phone } });
  assert.equal(search.body.customers[0].usage.calls, 1);
  const lookup = await api(nishi, '/api/customers/lookup', { method: 'POST', body: { phone } });
  assert.equal(lookup.body.customer.usage.calls, 1);
  assert.equal(lookup.body.customer.usage.missed30d, 0);
});

test('usage figures: every number of the customer, first and last call, missed in 30 days, per viewer', async () => {
  const [phone, other] = ['09044445555', '09044446666'];
  const id = await w.addCustomer({ name: '集計 二番号', phone }); // no home store: both stores' staff see the card
  const me = await api(admin, `/api/customers/${id}`);
  const patched = await api(admin, `/api/customers/${id}`, {
    method: 'PATCH',
    body: { version: me.body.customer.version, phones: [phone, other] },
  });
  assert.equal(patched.status, 200, JSON.stringify(patched.body));
  const day = 24 * 3600 * 1000;
  const hour = 3600 * 1000;
  const now = Date.now();
  const at = (ms) => ({ date_started: ms, date_rang: ms }); // delivered now (a replay window applies), started then
  const e164 = (p) => `+81${p.slice(1)}`;
  const nishiLine = '+815017481234';
  const kinshiLine = '+815017491234';
  const calls = [
    {
      external_number: e164(phone),
      internal_number: nishiLine,
      ...at(now - 40 * day),
      state: 'missed',
    }, // the first
    {
      external_number: e164(phone),
      internal_number: nishiLine,
      ...at(now - 30 * day - hour),
      state: 'missed',
    }, // just outside 30 days
    {
      external_number: e164(other),
      internal_number: kinshiLine,
      ...at(now - 30 * day + hour),
      state: 'missed',
    }, // just inside
    {
      external_number: e164(other),
      internal_number: nishiLine,
      ...at(now - 3 * day),
      state: 'voicemail',
    },
    { external_number: e164(phone), internal_number: kinshiLine, ...at(now - 2 * day) }, // 錦糸町's last
    { external_number: e164(other), internal_number: nishiLine, ...at(now - day) }, // the last
  ];
  for (const c of calls) {
    const r = await w.sendEvent(callEvent(c));
    assert.equal(r.status, 200, JSON.stringify(r.body));
  }
  // A test call (テスト着信) from the customer's number counts nowhere.
  const trial = await api(admin, '/api/dialpad/test-call', {
    method: 'POST',
    body: {
      customerPhone: phone,
      incomingNumber: '0501748XXXX'.replace(/X/g, '9'),
      state: 'missed',
    },
  });
  assert.equal(trial.status, 200, JSON.stringify(trial.body));
  const usage = async (who) => (await api(who, `/api/customers/${id}`)).body.customer.usage;
  const all = await usage(admin);
  assert.deepEqual(
    [all.calls, all.firstContact, all.lastCall, all.missed30d],
    [6, now - 40 * day, now - day, 2],
    'the missed call just inside 30 days and the voicemail',
  );
  const n = await usage(nishi);
  assert.deepEqual(
    [n.calls, n.firstContact, n.lastCall, n.missed30d],
    [4, now - 40 * day, now - day, 1],
  );
  const k = await usage(kinshi);
  assert.deepEqual(
    [k.calls, k.firstContact, k.lastCall, k.missed30d],
    [2, now - 30 * day + hour, now - 2 * day, 1],
  );
  // The pop's card, read from the hub's own index, counts the same (and this call once more):
  // the admins' card over every call, each store's staff card over that store's calls (one
  // statement reads both figures in the hub).
  const s = await w.openSocket(admin);
  const ns = await w.openSocket(nishi);
  const ks = await w.openSocket(kinshi);
  const popOf = (sock, ev) =>
    sock.waitFor((m) => m.callId === String(ev.call_id) && m.type === 'incoming_call');
  const ev = callEvent({ external_number: e164(phone), internal_number: nishiLine });
  assert.equal((await w.sendEvent(ev)).status, 200);
  const pop = await popOf(s, ev);
  const u = pop.customer.usage;
  assert.deepEqual(
    [u.calls, u.firstContact, u.missed30d],
    [7, now - 40 * day, 2],
    JSON.stringify(u),
  );
  assert.ok(u.lastCall >= ev.date_started, 'the last call is this one');
  const nu = (await popOf(ns, ev)).customer.usage;
  assert.deepEqual(
    [nu.calls, nu.firstContact, nu.missed30d],
    [5, now - 40 * day, 1],
    JSON.stringify(nu),
  );
  assert.equal(nu.lastCall, u.lastCall);
  const kev = callEvent({ external_number: e164(other), internal_number: kinshiLine });
  assert.equal((await w.sendEvent(kev)).status, 200);
  const ku = (await popOf(ks, kev)).customer.usage;
  assert.deepEqual(
    [ku.calls, ku.firstContact, ku.missed30d],
    [3, now - 30 * day + hour, 1],
    JSON.stringify(ku),
  );
  assert.ok(ku.lastCall >= kev.date_started, "錦糸町's last call is this one");
  s.close();
  ns.close();
  ks.close();
  assert.deepEqual(await usage(nishi), nu, "D1 answers what 西船橋's pop showed");
  assert.deepEqual(await usage(kinshi), ku, "D1 answers what 錦糸町's pop showed");
  const au = await usage(admin);
  assert.equal(au.calls, 8, 'both pops counted for the admins');
});

test('/api/health says ok and version to the public; D1 and hub detail are for admins', async () => {
  const pub = await w.json('/api/health');
  assert.equal(pub.status, 200);
  assert.deepEqual(Object.keys(pub.body).sort(), ['ok', 'version']);
  const staff = await api(nishi, '/api/health');
  assert.deepEqual(Object.keys(staff.body).sort(), ['ok', 'version']);
  const full = await api(admin, '/api/health');
  assert.equal(full.body.d1, true);
  assert.equal(full.body.hub, true);
  assert.ok('hubStats' in full.body);
});

test('HSTS on every response: API, errors, pages, redirects', async () => {
  const want = 'max-age=31536000; includeSubDomains';
  for (const [path, status] of /** @type {[string, number][]} */ ([
    ['/api/health', 200],
    ['/api/nope', 404],
    ['/api/auth/me', 401],
    ['/admin/', 200],
    ['/admin/lib/api.js', 200],
    ['/', 302],
  ])) {
    const res = await w.fetch(path, { redirect: 'manual' });
    await res.arrayBuffer();
    assert.equal(res.status, status, path);
    assert.equal(res.headers.get('strict-transport-security'), want, path);
  }
});

test('the popup moved to /admin/popup/: its old addresses answer 301 to the same page, query kept', async () => {
  for (const [old, now] of [
    ['/admin/customer-management/cti?callId=6001&desk=1', '/admin/popup/cti?callId=6001&desk=1'],
    ['/admin/customer-management/cti.html?callId=6001', '/admin/popup/cti.html?callId=6001'],
    ['/admin/customer-management/cti.js', '/admin/popup/cti.js'],
  ]) {
    const res = await w.fetch(old, { redirect: 'manual' });
    await res.arrayBuffer();
    assert.equal(res.status, 301, old);
    assert.equal(res.headers.get('location'), w.url + now, old);
    assert.equal(
      res.headers.get('strict-transport-security'),
      'max-age=31536000; includeSubDomains',
      old,
    );
  }
  // Followed, the old address opens the popup page itself.
  const page = await w.fetch('/admin/customer-management/cti?callId=6001');
  assert.equal(page.status, 200);
  assert.equal(new URL(page.url).pathname, '/admin/popup/cti');
  // (its scripts under the version of public/: src/domain/assets.rs)
  assert.ok((await page.text()).includes(`src="/v/${assetsVersion()}/admin/popup/cti.js"`));
});

test('store ids are never reused: a store created after one was deleted gets a new id', async () => {
  const a = await api(admin, '/api/stores', {
    method: 'POST',
    body: { name: '閉店予定店', prefixes: ['0509990'] },
  });
  assert.equal(a.status, 201, JSON.stringify(a.body));
  const aId = a.body.store?.id ?? a.body.id;
  assert.ok(aId > 0, JSON.stringify(a.body));
  assert.equal((await api(admin, `/api/stores/${aId}`, { method: 'DELETE' })).status, 200);
  const b = await api(admin, '/api/stores', {
    method: 'POST',
    body: { name: '新店', prefixes: ['0509991'] },
  });
  const bId = b.body.store?.id ?? b.body.id;
  assert.ok(bId > aId, `new store got id ${bId}, the deleted one had ${aId}`);
});

test('a socket tagged with a deleted store does not hear the calls of a store created after it', async () => {
  const a = await api(admin, '/api/stores', {
    method: 'POST',
    body: { name: '旧店舗', prefixes: ['0509993'] },
  });
  assert.equal(a.status, 201, JSON.stringify(a.body));
  const staff = await w.login({ role: 'staff', store: '旧店舗' });
  const s = await w.openSocket(staff);
  const closed = new Promise((resolve) => s.ws.once('close', () => resolve([])));
  // A store with an account is not deleted (409 store_in_use) until the account is moved.
  assert.equal(
    (await api(admin, `/api/stores/${a.body.store.id}`, { method: 'DELETE' })).status,
    409,
  );
  const uid = (
    await w.db.prepare('SELECT id FROM users WHERE login_id = ?1').bind(staff.login).first()
  ).id;
  await w.db
    .prepare(
      "UPDATE users SET store_id = (SELECT id FROM stores WHERE name = '西船橋') WHERE id = ?1",
    )
    .bind(uid)
    .run();
  assert.equal(
    (await api(admin, `/api/stores/${a.body.store.id}`, { method: 'DELETE' })).status,
    200,
  );
  const b = await api(admin, '/api/stores', {
    method: 'POST',
    body: { name: '新店舗', prefixes: ['0509994'] },
  });
  assert.equal(b.status, 201, JSON.stringify(b.body));
  const ev = callEvent({ internal_number: '+81509994000' });
  assert.equal((await w.sendEvent(ev)).status, 200);
  // Either the socket was closed (revocation) or it settles without the new store's call.
  const after = s.closed ? [] : await Promise.race([s.settle(), closed]);
  const heard = [...s.messages, ...after].filter((m) => m.callId === String(ev.call_id));
  assert.deepEqual(heard, [], `store ids ${a.body.store.id} → ${b.body.store.id}`);
  s.close();
});

test('migration 0006 keeps every store id and every reference to it', async () => {
  const mf = new Miniflare({
    modules: true,
    script: 'export default { fetch() { return new Response("") } }',
    d1Databases: { DB: 'm6' },
  });
  try {
    const db = await mf.getD1Database('DB');
    const before = mkdtempSync(join(tmpdir(), 'm6-'));
    for (const f of readdirSync('migrations'))
      if (f < '0006') copyFileSync(join('migrations', f), join(before, f));
    await applyMigrations(db, before);
    rmSync(before, { recursive: true, force: true });
    await db.batch([
      db.prepare("INSERT INTO stores (id, name) VALUES (1, 'A'), (2, 'B'), (3, 'C')"),
      db.prepare("INSERT INTO store_prefixes VALUES ('0501', 2), ('0502', 3)"),
      db.prepare(
        "INSERT INTO users (login_id, display_name, role, store_id, password_hash) VALUES ('u', 'u', 'staff', 3, 'x')",
      ),
      db.prepare("INSERT INTO customers (name, home_store_id) VALUES ('c', 2)"),
      db.prepare(
        "INSERT INTO calls (id, direction, store_id, state, phase, started_at, updated_at) VALUES ('k', 'inbound', 3, 'ringing', 'ringing', 1, 1)",
      ),
    ]);
    await applyMigrations(db);
    const all = async (sql) => (await db.prepare(sql).all()).results;
    assert.deepEqual(await all('SELECT id, name FROM stores ORDER BY id'), [
      { id: 1, name: 'A' },
      { id: 2, name: 'B' },
      { id: 3, name: 'C' },
    ]);
    assert.deepEqual(await all('SELECT prefix, store_id FROM store_prefixes ORDER BY prefix'), [
      { prefix: '0501', store_id: 2 },
      { prefix: '0502', store_id: 3 },
    ]);
    assert.deepEqual(await all('SELECT store_id FROM users'), [{ store_id: 3 }]);
    assert.deepEqual(await all('SELECT home_store_id FROM customers'), [{ home_store_id: 2 }]);
    assert.deepEqual(await all('SELECT store_id FROM calls'), [{ store_id: 3 }]);
    assert.deepEqual(await all('PRAGMA foreign_key_check'), []);
    // The foreign keys still act on the new table, and the deleted id is not handed out again.
    await db.prepare('DELETE FROM stores WHERE id = 3').run();
    assert.deepEqual(await all('SELECT store_id FROM users'), [{ store_id: null }]);
    assert.deepEqual(await all("SELECT prefix FROM store_prefixes WHERE prefix = '0502'"), []);
    const { meta } = await db.prepare("INSERT INTO stores (name) VALUES ('D')").run();
    assert.equal(meta.last_row_id, 4);
  } finally {
    await mf.dispose();
  }
});

test('export is streamed page by page, staff get their store only, and exports are rate-limited', async () => {
  const exporter = await w.login({ role: 'admin' });
  // More rows than one page of the stream.
  const stmts = [];
  for (let n = 0; n < 1100; n++)
    stmts.push(
      w.db.prepare("INSERT INTO customers (name, kana) VALUES (?1, 'バルク')").bind(`一括 ${n}`),
    );
  await w.db.batch(stmts);
  const get = (who) =>
    w.fetch('/api/customers/export', { headers: { authorization: `Bearer ${who.token}` } });
  const res = await get(exporter);
  assert.equal(res.status, 200);
  const text = await res.text();
  const total = await w.count('SELECT 1 FROM customers');
  assert.equal(text.trim().split('\n').length, total + 1, 'every customer once, plus the header');
  const ids = text
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => Number(l.split(',')[0]));
  assert.equal(new Set(ids).size, ids.length, 'no row twice across pages');
  const staff = await (await get(kinshi)).text();
  assert.ok(!staff.includes('山田 太郎'), "another store's customer is not exported to staff");
  assert.ok(staff.includes('佐藤 花子'), `staff export: ${staff.slice(0, 300)}`);
  for (let n = 0; n < 2; n++) assert.equal((await get(exporter)).status, 200);
  const limited = await get(exporter);
  assert.equal(limited.status, 429);
  assert.ok(Number(limited.headers.get('retry-after')) > 0);
  await limited.text();
  assert.equal((await get(admin)).status, 200, 'the limit is per user');
  await w.db.prepare("DELETE FROM customers WHERE kana = 'バルク'").run();
});

test("unsigned webhooks also need the hook key; an unsigned event never shows staff another store's customer", async () => {
  const KEY = 'unsigned-hook-key-'.padEnd(40, 'x');
  const open = await startWorker({
    bindings: { ALLOW_UNSIGNED_WEBHOOKS: 'true', UNSIGNED_WEBHOOK_KEY: KEY },
  });
  try {
    const post = (q, ev) =>
      open.json(`/api/dialpad/webhook${q}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(ev),
      });
    assert.equal((await post('', callEvent())).status, 401);
    assert.equal((await post('?key=wrong', callEvent())).status, 401);
    assert.equal((await post(`?key=${KEY.slice(0, -1)}y`, callEvent())).status, 401);
    // 佐藤 花子 (錦糸町) "calls" 西船橋 in a forged unsigned event.
    const ev = callEvent({ external_number: '+818011112222', internal_number: '+815017481234' });
    assert.equal((await post(`?key=${KEY}`, ev)).status, 200);
    const staff = await open.login({ role: 'staff', store: '西船橋' });
    const pop = await open.json('/api/customers/lookup', {
      method: 'POST',
      headers: { authorization: `Bearer ${staff.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ callId: String(ev.call_id) }),
    });
    assert.equal(pop.status, 200);
    assert.equal(pop.body.customer, null);
    assert.deepEqual(pop.body.candidates, []);
  } finally {
    await open.close();
  }
  // Allowed but no (or a short) key configured: refused, and the answer names no secret.
  const nokey = await startWorker({
    seed: false,
    bindings: { ALLOW_UNSIGNED_WEBHOOKS: 'true', UNSIGNED_WEBHOOK_KEY: 'short' },
  });
  try {
    const r = await nokey.json('/api/dialpad/webhook?key=short', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(callEvent()),
    });
    assert.equal(r.status, 500);
    assert.doesNotMatch(JSON.stringify(r.body), /UNSIGNED_WEBHOOK_KEY|short/);
  } finally {
    await nokey.close();
  }
});

test('error bodies never name a secret', async () => {
  const bad = await startWorker({ seed: false, bindings: { JWT_SECRET: 'too-short' } });
  try {
    const r = await bad.json('/api/auth/me', { headers: { authorization: 'Bearer a.b.c' } });
    assert.equal(r.status, 500);
    assert.equal(r.body.error.code, 'server_misconfigured');
    assert.doesNotMatch(JSON.stringify(r.body), /JWT_SECRET|too-short/);
  } finally {
    await bad.close();
  }
});
