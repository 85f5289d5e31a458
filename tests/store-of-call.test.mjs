// @ts-check
// The store of a call is decided once (`domain::store::of_call`): the hub pops a call to the
// store whose prefix, Dialpad office or entry number it came in on, and the popup's lookup
// (`POST /api/customers/lookup` with the call's id) lets exactly that store's staff read it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorker, callEvent } from './helpers/worker.mjs';

let w;
let admin;
let kasai; // staff of 葛西 (lines 0501750…, Dialpad office 7012345678901234)
let kinshi; // staff of 錦糸町 (lines 0501749…)

const OFFICE = '7012345678901234';

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

before(async () => {
  w = await startWorker();
  admin = await w.login({ role: 'admin' });
  kasai = await w.login({ role: 'staff', store: '葛西' });
  kinshi = await w.login({ role: 'staff', store: '錦糸町' });
  const stores = await api(admin, '/api/stores');
  const id = stores.body.stores.find((s) => s.name === '葛西').id;
  const set = await api(admin, `/api/stores/${id}`, {
    method: 'PATCH',
    body: { dialpadOfficeId: OFFICE },
  });
  assert.equal(set.status, 200, JSON.stringify(set.body));
});
after(() => w?.close());

/** Sends `ev`, waits for 葛西's staff to be shown it, then asks the lookup as each user. */
async function shownThenLookedUp(ev) {
  const sock = await w.openSocket(kasai);
  try {
    assert.equal((await w.sendEvent(ev)).status, 200);
    const pop = await sock.waitFor(
      (m) => m.type === 'incoming_call' && m.callId === String(ev.call_id),
    );
    assert.equal(pop.store.name, '葛西');
  } finally {
    sock.close();
  }
  const body = { callId: String(ev.call_id) };
  const mine = await api(kasai, '/api/customers/lookup', { method: 'POST', body });
  assert.equal(mine.status, 200, JSON.stringify(mine.body));
  const other = await api(kinshi, '/api/customers/lookup', { method: 'POST', body });
  assert.equal(other.status, 404, "another store's staff are not shown the call");
  const row = await w.db
    .prepare('SELECT s.name FROM calls k JOIN stores s ON s.id = k.store_id WHERE k.id = ?1')
    .bind(String(ev.call_id))
    .first();
  assert.equal(row?.name, '葛西', 'the call log keeps the store the hub decided');
}

test('a call matched by its Dialpad office (dialled number hidden): shown to the store, and its lookup answers', async () => {
  await shownThenLookedUp(
    callEvent({
      internal_number: 'blocked',
      external_number: '+819011110001',
      target: { id: 9, name: '受付', type: 'user', office_id: Number(OFFICE) },
    }),
  );
});

test('a call matched by its entry number (dialled line unknown): shown to the store, and its lookup answers', async () => {
  await shownThenLookedUp(
    callEvent({
      internal_number: '+815099990000',
      external_number: '+819011110002',
      target: { id: 10, name: '受付', type: 'user' },
      entry_point_target: { id: 11, name: '葛西店', phone: '+815017501234', type: 'office' },
    }),
  );
});

test('a call whose store the hub recorded: the lookup takes that store, not one the numbers suggest now', async () => {
  // The call came in on 錦糸町's line and was recorded there; 葛西 then claims the same prefix
  // range more specifically. The recorded store stands for both the hub and the lookup.
  const ev = callEvent({ internal_number: '+815017491111', external_number: '+819011110003' });
  assert.equal((await w.sendEvent(ev)).status, 200);
  await w.flush();
  const stores = await api(admin, '/api/stores');
  const k = stores.body.stores.find((s) => s.name === '葛西');
  const more = await api(admin, `/api/stores/${k.id}`, {
    method: 'PATCH',
    body: { prefixes: [...k.prefixes, '05017491111'] },
  });
  assert.equal(more.status, 200, JSON.stringify(more.body));
  const body = { callId: String(ev.call_id) };
  assert.equal((await api(kinshi, '/api/customers/lookup', { method: 'POST', body })).status, 200);
  assert.equal((await api(kasai, '/api/customers/lookup', { method: 'POST', body })).status, 404);
});
