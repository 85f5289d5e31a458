// @ts-check
// Property test (issue #12): for random sequences of edits, through every write path (create,
// edit, delete, merge, store prefixes, CSV import, a change made straight in D1 then rebuilt),
// the pop — answered by the hub from its own index — shows exactly what a D1 read shows: the
// same customer or candidates with the same card and figures, and the same store.
// The seed is printed; `INDEX_SEED=n` replays a sequence.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorker, callEvent } from './helpers/worker.mjs';

const seed = Number(process.env.INDEX_SEED ?? Math.floor(Math.random() * 2 ** 31));
function mulberry32(a) {
  return () => {
    a |= 0;
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rnd = mulberry32(seed);
const pick = (xs) => xs[Math.floor(rnd() * xs.length)];
const POOL = [
  '09070000001',
  '09070000002',
  '09070000003',
  '09070000004',
  '08070000005',
  '0312345006',
];
const LINES = ['+815017481234', '+815017491234', '+815017501234', '+815017489999', '+815017519999'];
const NAMES = ['青木 一郎', '井上 花', 'うえだ まこと', 'ｴﾝﾄﾞｳ', '小川 次郎', '加藤 三四郎'];

let w;
let admin;
let sock;
let stores;
before(async () => {
  w = await startWorker();
  admin = await w.login({ role: 'admin' });
  sock = await w.openSocket(admin);
  stores = (await api('/api/stores')).body.stores;
});
after(() => w?.close());

/**
 * @param {string} path
 * @param {import('./helpers/worker.mjs').ApiOptions} [opts]
 * @returns {Promise<import('./helpers/worker.mjs').JsonResponse>}
 */
const api = (path, { method = 'GET', body, type = 'application/json' } = {}) =>
  w.json(path, {
    method,
    headers: {
      authorization: `Bearer ${admin.token}`,
      ...(body !== undefined ? { 'content-type': type } : {}),
    },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });

async function customerIds() {
  const r = await w.db.prepare('SELECT id FROM customers ORDER BY id').all();
  return r.results.map((x) => x.id);
}

const ops = {
  async create() {
    const r = await api('/api/customers', {
      method: 'POST',
      body: {
        name: pick(NAMES),
        kana: pick(['', 'アオキ', 'いのうえ']),
        memo: pick(['', '常連', '駐車場']),
        phone: pick(POOL),
        homeStoreId: pick([null, ...stores.map((s) => s.id)]),
      },
    });
    return `create ${r.status}`;
  },
  async edit() {
    const id = pick(await customerIds());
    if (!id) return 'edit: none';
    const cur = (await api(`/api/customers/${id}`)).body.customer;
    const patch = { version: cur.version };
    if (rnd() < 0.5) patch.name = pick(NAMES);
    if (rnd() < 0.5)
      patch.phones = [...new Set([pick(POOL), ...(rnd() < 0.5 ? [pick(POOL)] : [])])];
    if (rnd() < 0.4) patch.homeStoreId = pick([null, ...stores.map((s) => s.id)]);
    if (rnd() < 0.3) patch.flag = pick([null, '要注意', 'ブロック']);
    if (rnd() < 0.3) patch.visits = Math.floor(rnd() * 50);
    if (rnd() < 0.3) patch.customerType = pick(['新規', '会員', 'VIP']);
    const r = await api(`/api/customers/${id}`, { method: 'PATCH', body: patch });
    return `edit ${id} ${r.status}`;
  },
  async remove() {
    const id = pick(await customerIds());
    if (!id) return 'delete: none';
    return `delete ${id} ${(await api(`/api/customers/${id}`, { method: 'DELETE' })).status}`;
  },
  async merge() {
    const ids = await customerIds();
    if (ids.length < 2) return 'merge: none';
    const a = pick(ids);
    const b = pick(ids.filter((x) => x !== a));
    return `merge ${b}→${a} ${(await api(`/api/customers/${a}/merge`, { method: 'POST', body: { from: b } })).status}`;
  },
  async prefixes() {
    const s = pick(stores);
    const prefixes = [
      ...new Set([
        pick(['0501748', '05017481', '0501749', '0501750', '0501751', '050174899']),
        pick(['0501751', '05017512']),
      ]),
    ];
    const r = await api(`/api/stores/${s.id}`, { method: 'PATCH', body: { prefixes } });
    return `prefixes ${s.name} ${prefixes} ${r.status}`;
  },
  async csv() {
    const csv = `名前,フリガナ,電話番号,店舗\n${pick(NAMES)},,${pick(POOL)},${pick(stores).name}\n`;
    const r = await api('/api/customers/import', { method: 'POST', body: csv, type: 'text/csv' });
    return `csv ${r.status}`;
  },
  async direct() {
    // What the CLI or a migration does: straight into D1, then the documented rebuild.
    const id = pick(await customerIds());
    if (!id) return 'direct: none';
    await w.db
      .prepare(
        "UPDATE customers SET memo = 'D1で直接', version = version + 1, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?1",
      )
      .bind(id)
      .run();
    const r = await api('/api/admin/index/rebuild', { method: 'POST', body: {} });
    return `direct ${id} rebuild ${r.status}`;
  },
};

async function check(step, log) {
  const phone = pick(POOL);
  const line = pick(LINES);
  const ev = callEvent({ external_number: `+81${phone.slice(1)}`, internal_number: line });
  const r = await w.sendEvent(ev);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const pop = await sock.waitFor((m) => m.callId === String(ev.call_id));
  const d1 = await api('/api/customers/lookup', {
    method: 'POST',
    body: { phone, incoming: line },
  });
  assert.equal(d1.status, 200, JSON.stringify(d1.body));
  const where = `seed ${seed}, step ${step} (${log.slice(-4).join('; ')}), caller ${phone}, line ${line}`;
  assert.deepEqual(pop.customer, d1.body.customer, `customer: ${where}`);
  assert.deepEqual(pop.candidates, d1.body.candidates, `candidates: ${where}`);
  assert.deepEqual(pop.store, d1.body.store, `store: ${where}`);
}

test(`the pop index answers what D1 answers, for random edits (seed ${seed})`, async () => {
  const names = Object.keys(ops);
  const log = [];
  for (let step = 0; step < 40; step++) {
    log.push(await ops[pick(names)]());
    if (process.env.INDEX_LOG) console.log(log.at(-1));
    await check(step, log);
    if (rnd() < 0.5) await check(step, log);
  }
});
