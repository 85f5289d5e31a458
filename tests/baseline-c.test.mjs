// @ts-check
// Baseline C (bench/baselines/c-like-for-like) must do the work ours does when a console opens
// its socket and when a call is broadcast, or the bench's ours / C ratios compare different
// work (docs/benchmarks.md, "Baseline C's sockets made like ours"): a socket without a valid
// session is refused before the hub, a revoked one too, and a call reaches only the rooms that
// may see it (the admins', the called store's), as ours.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Miniflare } from 'miniflare';
import WebSocket from 'ws';
import {
  likeOptions,
  likeSession,
  likeSessions,
} from '../bench/baselines/c-like-for-like/driver.mjs';
import { applyMigrations } from '../scripts/lib/sql.mjs';
import { seedDemo } from '../scripts/lib/seed.mjs';
import { WEBHOOK_SECRET, callEvent, signHS256 } from './helpers/worker.mjs';

/** Opens C's socket: the first message (the hello), or the refusal's status and body. */
function open(url, token) {
  return new Promise((resolve) => {
    const headers = token ? { authorization: `Bearer ${token}` } : {};
    const ws = new WebSocket(`${url.replace('http', 'ws')}/ws`, { headers });
    /** @type {any[]} */
    const messages = [];
    const waiters = [];
    ws.on('message', (d) => {
      messages.push(JSON.parse(d.toString()));
      for (const w of waiters.splice(0)) w();
      if (messages.length === 1) resolve({ ws, messages, next: waitFor });
    });
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode, body: JSON.parse(body) }));
    });
    /** The first message after index `from` that `pred` accepts (10 s at most). */
    async function waitFor(pred, from = 1) {
      const deadline = Date.now() + 10000;
      for (;;) {
        const m = messages.slice(from).find(pred);
        if (m) return m;
        if (Date.now() > deadline) throw new Error('no such message');
        await new Promise((r) => waiters.push(r));
      }
    }
  });
}

/** A staff account of `storeName` with a session; its uid and token. */
async function staff(db, storeName) {
  const { id } = await db.prepare('SELECT id FROM stores WHERE name = ?1').bind(storeName).first();
  return likeSession(db, { login: `c-staff-${id}`, role: 'staff', store: id });
}

test('baseline C checks the session before the upgrade and sends a call only to its rooms', async () => {
  const mf = new Miniflare(likeOptions());
  try {
    const url = (await mf.ready).toString().replace(/\/$/, '');
    const db = await mf.getD1Database('DB');
    await applyMigrations(db);
    await seedDemo(db);
    const [admin] = await likeSessions(db);
    const nishi = await staff(db, '西船橋');
    const kinshi = await staff(db, '錦糸町');

    assert.deepEqual(await open(url, null), { status: 401, body: { error: 'not_logged_in' } });
    assert.deepEqual(await open(url, `${admin.slice(0, -4)}AAAA`), {
      status: 401,
      body: { error: 'bad_signature' },
    });

    const a = await open(url, admin);
    const n = await open(url, nishi.token);
    const k = await open(url, kinshi.token);
    for (const s of [a, n, k]) assert.equal(s.messages[0].type, 'hello');

    const post = async (ev) =>
      (
        await fetch(`${url}/api/dialpad/webhook`, {
          method: 'POST',
          headers: { 'content-type': 'application/jwt' },
          body: signHS256(ev, WEBHOOK_SECRET),
        })
      ).json();
    // A call to 西船橋: the admin and 西船橋's staff, not 錦糸町's.
    const first = callEvent();
    assert.equal((await post(first)).delivered, 2);
    await a.next((m) => m.legId === String(first.call_id));
    await n.next((m) => m.legId === String(first.call_id));
    // A call to 錦糸町 next: the first message 錦糸町's staff gets after its hello is this one.
    const second = callEvent({
      internal_number: '+815017491234',
      target: { id: 1, name: '錦糸町店', phone: '+815017491234', type: 'office' },
    });
    assert.equal((await post(second)).delivered, 2);
    assert.equal((await k.next(() => true)).legId, String(second.call_id));

    // The account changed in D1 (a password reset): its token no longer opens a socket.
    await db.prepare('UPDATE users SET token_version = 1 WHERE id = ?1').bind(kinshi.uid).run();
    assert.deepEqual(await open(url, kinshi.token), {
      status: 401,
      body: { error: 'session_revoked' },
    });
    for (const s of [a, n, k]) s.ws.close();
  } finally {
    await mf.dispose();
  }
});
