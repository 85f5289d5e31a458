// @ts-check
// Property test (issue 23): random stores' customers (numbers shared across stores), calls to
// random lines, moves and renames, by admins and by staff of every store; then every route
// that returns calls or customers, and every socket message, as each store's staff receive
// them. Property: a staff member never receives the name or the id of a customer their store
// may not see (home store another store's). The seed is printed; `BOUNDARY_SEED=n` replays.
// Issue 25: besides one account per store, a staff member and an area manager belong to random
// sets of two or more stores and must see exactly the union (never a customer of a store
// outside the set, every customer of each store of the set).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorker, callEvent } from './helpers/worker.mjs';

const seed = Number(process.env.BOUNDARY_SEED ?? Math.floor(Math.random() * 2 ** 31));
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

const STORES = ['西船橋', '錦糸町', '葛西', '松戸'];
// The stores' lines, and one that no store's prefix matches (admins only).
const LINES = ['+815017481234', '+815017491234', '+815017501234', '+815017511234', '+815099991234'];
const POOL = ['09071000001', '09071000002', '09071000003', '09071000004', '08071000005'];
const STEPS = 45;

let w;
let admin;
let staff; // [{ user, name, stores (ids), socket }]
let storeIds; // name → id
const customers = new Map(); // id → { tag, home, everHome: Set, phones }
const calls = [];
let tagSeq = 0;

before(async () => {
  w = await startWorker();
  admin = await w.login({ role: 'admin' });
  const listed = (await api(admin, '/api/stores')).body.stores;
  storeIds = Object.fromEntries(listed.map((s) => [s.name, s.id]));
  staff = [];
  for (const name of STORES) {
    const user = await w.login({ role: 'staff', store: name });
    staff.push({ user, name, stores: [storeIds[name]], socket: await w.openSocket(user) });
  }
  // Members of several stores: a random set of 2–3 of the four, a staff member and an area
  // manager (who sees exactly what their stores' staff see).
  for (const role of ['staff', 'area_manager']) {
    const set = [...STORES].sort(() => rnd() - 0.5).slice(0, 2 + Math.floor(rnd() * 2));
    const user = await w.login({ role, stores: set });
    staff.push({
      user,
      name: set.join('+'),
      stores: set.map((s) => storeIds[s]),
      socket: await w.openSocket(user),
    });
  }
});
after(() => w?.close());

/**
 * @param {import('./helpers/worker.mjs').Auth} user
 * @param {string} path
 * @param {import('./helpers/worker.mjs').ApiOptions} [opts]
 * @returns {Promise<import('./helpers/worker.mjs').JsonResponse>}
 */
async function api(user, path, { method = 'GET', body } = {}) {
  const headers = { authorization: `Bearer ${user.token}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  return w.json(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

const e164 = (n) => `+81${n.slice(1)}`;
// Every customer's name carries a unique ASCII tag, kept through renames, so a leak shows as
// the tag anywhere in what a staff member received.
const newTag = () => `ZQ${++tagSeq}X`;

function remember(card) {
  const home = card.homeStore?.id ?? null;
  const known = customers.get(card.id);
  const tag = card.name.match(/ZQ\d+X/)[0];
  customers.set(card.id, {
    tag,
    home,
    everHome: new Set([...(known?.everHome ?? []), home]),
    phones: card.phones,
    version: card.version,
  });
}

const live = () => [...customers].filter(([, c]) => !c.gone).map(([id]) => id);

const steps = {
  async staffCreates() {
    const s = pick(staff);
    const r = await api(s.user, '/api/customers', {
      method: 'POST',
      body: { name: `顧客 ${newTag()}`, phone: pick(POOL) },
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    remember(r.body.customer);
    return `staff ${s.name} creates ${r.body.customer.id}`;
  },
  async adminCreates() {
    const home = rnd() < 0.2 ? null : storeIds[pick(STORES)];
    const r = await api(admin, '/api/customers', {
      method: 'POST',
      body: { name: `顧客 ${newTag()}`, phone: pick(POOL), homeStoreId: home },
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    remember(r.body.customer);
    return `admin creates ${r.body.customer.id} at ${home}`;
  },
  async call() {
    const ev = callEvent({
      external_number: rnd() < 0.1 ? '' : e164(pick(POOL)),
      internal_number: pick(LINES),
      contact: null,
    });
    assert.equal((await w.sendEvent(ev)).status, 200);
    calls.push(String(ev.call_id));
    const t = Date.now();
    if (rnd() < 0.5) {
      assert.equal(
        (
          await w.sendEvent({
            ...ev,
            state: 'connected',
            date_connected: t,
            event_timestamp: t + 1,
          })
        ).status,
        200,
      );
    }
    if (rnd() < 0.7) {
      assert.equal(
        (await w.sendEvent({ ...ev, state: 'hangup', date_ended: t + 2, event_timestamp: t + 2 }))
          .status,
        200,
      );
    }
    return `call ${ev.external_number} → ${ev.internal_number}`;
  },
  async adminMoves() {
    if (!live().length) return 'no customer to move';
    const id = pick(live());
    const home = rnd() < 0.2 ? null : storeIds[pick(STORES)];
    const r = await api(admin, `/api/customers/${id}`, {
      method: 'PATCH',
      body: { version: customers.get(id).version, homeStoreId: home },
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    remember(r.body.customer);
    return `admin moves ${id} to ${home}`;
  },
  async adminRenames() {
    if (!live().length) return 'no customer to rename';
    const id = pick(live());
    const c = customers.get(id);
    const r = await api(admin, `/api/customers/${id}`, {
      method: 'PATCH',
      body: { version: c.version, name: `改名 ${c.tag} ${Math.floor(rnd() * 100)}` },
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    remember(r.body.customer);
    return `admin renames ${id}`;
  },
  async staffAddsNumber() {
    const s = pick(staff);
    const own = [...customers].filter(([, c]) => s.stores.includes(c.home) && !c.gone);
    if (!own.length) return 'no own customer';
    const [id, c] = pick(own);
    const phones = [...new Set([...c.phones, pick(POOL)])];
    const r = await api(s.user, `/api/customers/${id}`, {
      method: 'PATCH',
      body: { version: c.version, phones },
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    remember(r.body.customer);
    return `staff ${s.name} gives ${id} ${phones}`;
  },
  async adminMerges() {
    if (live().length < 2) return 'nothing to merge';
    const id = pick(live());
    const from = pick(live().filter((x) => x !== id));
    const r = await api(admin, `/api/customers/${id}/merge`, { method: 'POST', body: { from } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    remember(r.body.customer);
    customers.get(from).gone = true;
    return `admin merges ${from} into ${id}`;
  },
};
/** @type {[string, number][]} */
const WEIGHTS = [
  ['adminMerges', 1],
  ['staffCreates', 3],
  ['adminCreates', 2],
  ['call', 6],
  ['adminMoves', 1],
  ['adminRenames', 1],
  ['staffAddsNumber', 1],
];
const pickStep = () => {
  let r = rnd() * WEIGHTS.reduce((n, [, x]) => n + x, 0);
  for (const [name, x] of WEIGHTS) {
    r -= x;
    if (r < 0) return name;
  }
  return 'call';
};

/** Every customer id a JSON answer names, where a customer's id may appear. */
function customerIds(v, key = '', out = []) {
  if (Array.isArray(v)) {
    for (const x of v) customerIds(x, key, out);
  } else if (v && typeof v === 'object') {
    if (['customer', 'candidates', 'customers'].includes(key) && typeof v.id === 'number')
      out.push(v.id);
    for (const [k, x] of Object.entries(v)) customerIds(x, k, out);
  } else if ((key === 'customerId' || key === 'mergedFrom') && typeof v === 'number') {
    out.push(v);
  }
  return out;
}

function assertNothingOf(forbidden, body, what) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  for (const [id, c] of forbidden) {
    assert.ok(
      !text.includes(c.tag),
      `seed ${seed}: ${what} names customer ${id} (${c.tag}): ${text.slice(0, 400)}`,
    );
  }
  if (typeof body !== 'string') {
    for (const id of customerIds(body)) {
      assert.ok(
        !forbidden.has(id),
        `seed ${seed}: ${what} has the id of customer ${id}: ${text.slice(0, 400)}`,
      );
    }
  }
}

test(`staff never receive a customer their store may not see (seed ${seed})`, async () => {
  const log = [];
  for (let n = 0; n < STEPS; n++) log.push(await steps[pickStep()]());
  // Make sure the interesting cases are there whatever the seed: a number claimed in two
  // stores, called at both.
  log.push(
    await steps.staffCreates(),
    await steps.adminCreates(),
    await steps.call(),
    await steps.call(),
  );

  for (const s of staff) {
    const visible = (home) => home === null || s.stores.includes(home);
    // What this staff member may not see now: for the API.
    const hiddenNow = new Map([...customers].filter(([, c]) => !visible(c.home)));
    // What they could never see, whatever the moment: for the socket's messages (a message
    // sent while a customer was theirs may name them).
    const neverVisible = new Map([...customers].filter(([, c]) => ![...c.everHome].some(visible)));
    const what = (route) => `${s.name} staff, ${route} (after: ${log.join('; ')})`;

    await s.socket.settle();
    for (const m of s.socket.messages) assertNothingOf(neverVisible, m, what(`socket ${m.type}`));

    const u = s.user;
    const check = async (route, init) => {
      const r = await api(u, route, init);
      assert.ok(r.status < 500, `${route}: ${r.status}`);
      assertNothingOf(
        hiddenNow,
        r.body,
        what(`${init?.method ?? 'GET'} ${route} ${JSON.stringify(init?.body ?? '')}`),
      );
      return r;
    };
    await check('/api/calls/recent?limit=100');
    await check('/api/calls/search', { method: 'POST', body: { perPage: 100 } });
    await check('/api/customers/search', { method: 'POST', body: { q: '', perPage: 100 } });
    await check('/api/customers/duplicates', { method: 'POST', body: { phones: POOL } });
    for (const phone of POOL) {
      await check('/api/calls/search', { method: 'POST', body: { q: phone, perPage: 100 } });
      await check('/api/customers/search', { method: 'POST', body: { q: phone } });
      await check('/api/customers/lookup', { method: 'POST', body: { phone } });
    }
    for (const [id, c] of customers) {
      const byId = await check('/api/calls/search', {
        method: 'POST',
        body: { customer: id, perPage: 100 },
      });
      if (!visible(c.home)) assert.equal(byId.body.total, 0, what(`calls of customer ${id}`));
      const byName = await check('/api/calls/search', {
        method: 'POST',
        body: { q: c.tag, perPage: 100 },
      });
      if (!visible(c.home)) assert.equal(byName.body.total, 0, what(`calls by the name of ${id}`));
      const page = await check(`/api/customers/${id}`);
      // And everything of the union: every customer of each of their stores is theirs.
      if (visible(c.home) && !c.gone)
        assert.equal(page.status, 200, what(`customer ${id} of ${c.home}`));
      await check(`/api/customers/${id}/notes`);
    }
    for (const id of calls) {
      await check('/api/customers/lookup', { method: 'POST', body: { callId: id } });
      await check(`/api/calls/wrapup?callId=${id}`);
    }
    // 折り返し (the callback list and each item with its calls).
    const callbacks = await check('/api/callbacks?status=all&perPage=100');
    for (const cb of callbacks.body.callbacks ?? []) await check(`/api/callbacks/${cb.id}`);
    const csv = await (
      await w.fetch('/api/customers/export', { headers: { authorization: `Bearer ${u.token}` } })
    ).text();
    assertNothingOf(hiddenNow, csv, what('export'));
  }
});
