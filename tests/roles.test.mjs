// @ts-check
// Integration (issue 25): each role, route by route, against the README's table of what each
// role may do. The table's data is tests/corpus/roles.json; the README's table (between the
// roles markers) must say the same, and every row is driven through its route for every role:
// a check answers whether the role got the thing (a pop with the card, a list with the row, a
// 2xx), and it must match the table.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startWorker, callEvent } from './helpers/worker.mjs';

const TABLE = JSON.parse(readFileSync('tests/corpus/roles.json', 'utf8'));
const LINES = { 西船橋: '+815017481234', 葛西: '+815017501234' };

let w;
const users = {}; // role key → login
const ids = {};
const fixtures = {};

/**
 * @param {import('./helpers/worker.mjs').Auth} who
 * @param {string} path
 * @param {import('./helpers/worker.mjs').ApiOptions} [opts]
 */
const api = (who, path, { method = 'GET', body } = {}) =>
  w.json(path, {
    method,
    headers: { authorization: `Bearer ${who.token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

let n = 0;
function number() {
  const d = String(72000000 + (process.pid % 1000) * 10000 + n++).slice(-8);
  return { e164: `+8180${d}`, domestic: `080${d}` };
}

async function missedCall(caller, line) {
  const ev = callEvent({ external_number: caller, internal_number: line, contact: null });
  await w.sendEvent(ev);
  const t = ev.date_started + 15000;
  await w.sendEvent({ ...ev, state: 'hangup', event_timestamp: t, date_ended: t });
  return String(ev.call_id);
}

const sockets = {};

before(async () => {
  w = await startWorker();
  for (const s of ['西船橋', '錦糸町', '葛西'])
    ids[s] = (await w.db.prepare('SELECT id FROM stores WHERE name = ?1').bind(s).first()).id;
  users.admin = await w.login({ role: 'admin' });
  users.area_manager = await w.login({ role: 'area_manager', stores: ['西船橋', '錦糸町'] });
  users.staff = await w.login({ role: 'staff', store: '西船橋' });
  users.reception = await w.login({ role: 'reception' });
  for (const [store, key] of [
    ['西船橋', 'own'],
    ['葛西', 'other'],
  ]) {
    const phone = number();
    const r = await api(users.admin, '/api/customers', {
      method: 'POST',
      body: {
        name: `権限 ${key === 'own' ? '自子' : '他子'}`,
        kana: 'ケンゲン',
        phone: phone.domestic,
        homeStoreId: ids[store],
      },
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    fixtures[key] = { customer: r.body.customer, phone, store };
  }
  for (const role of Object.keys(users)) sockets[role] = await w.openSocket(users[role]);
  for (const key of ['own', 'other']) {
    const f = fixtures[key];
    f.call = await missedCall(f.phone.e164, LINES[f.store]);
  }
  const all = (await api(users.admin, '/api/callbacks?status=all&perPage=100')).body.callbacks;
  for (const key of ['own', 'other']) {
    fixtures[key].callback = all.find(
      (c) => c.phone === fixtures[key].phone.domestic || c.phone === fixtures[key].phone.e164,
    );
    assert.ok(
      fixtures[key].callback,
      `a callback item for the ${key} call: ${JSON.stringify(all)}`,
    );
  }
  for (const s of Object.values(sockets)) await s.settle();
});

after(async () => {
  await w?.close();
});

const ok = (r) => r.status >= 200 && r.status < 300;
const heardPop = (role, key) => {
  const f = fixtures[key];
  return sockets[role].messages.some(
    (m) =>
      m.type === 'incoming_call' && m.callId === f.call && m.customer?.name === f.customer.name,
  );
};

/** One check per row: did this role get it? */
const CHECKS = {
  pop_own: async (role) => heardPop(role, 'own'),
  pop_other: async (role) => heardPop(role, 'other'),
  caller_card_other: async (_role, u) => {
    const r = await api(u, '/api/customers/lookup', {
      method: 'POST',
      body: { callId: fixtures.other.call },
    });
    return ok(r) && r.body.customer?.id === fixtures.other.customer.id;
  },
  calls_own: async (_role, u) => {
    const r = await api(u, '/api/calls/recent?limit=200');
    return ok(r) && r.body.calls.some((c) => c.id === fixtures.own.call);
  },
  calls_other: async (_role, u) => {
    const r = await api(u, '/api/calls/search', { method: 'POST', body: { perPage: 100 } });
    return ok(r) && r.body.calls.some((c) => c.id === fixtures.other.call);
  },
  customers_own: async (_role, u) => {
    const r = await api(u, '/api/customers/search', { method: 'POST', body: { q: '権限' } });
    return ok(r) && r.body.customers.some((c) => c.id === fixtures.own.customer.id);
  },
  customer_page_own: async (_role, u) =>
    ok(await api(u, `/api/customers/${fixtures.own.customer.id}`)),
  customer_edit_own: async (role, u) => {
    const current = (await api(users.admin, `/api/customers/${fixtures.own.customer.id}`)).body
      .customer;
    const r = await api(u, `/api/customers/${current.id}`, {
      method: 'PATCH',
      body: { version: current.version, memo: `by ${role}` },
    });
    return ok(r);
  },
  customer_create: async (role, u) =>
    ok(
      await api(u, '/api/customers', {
        method: 'POST',
        body: { name: `権限 登録 ${role}`, phone: number().domestic, homeStoreId: ids['西船橋'] },
      }),
    ),
  customer_page_other: async (_role, u) =>
    ok(await api(u, `/api/customers/${fixtures.other.customer.id}`)),
  export_own: async (_role, u) => {
    const r = await w.fetch('/api/customers/export', {
      headers: { authorization: `Bearer ${u.token}` },
    });
    return r.status === 200 && (await r.text()).includes(fixtures.own.customer.name);
  },
  callbacks_own: async (_role, u) => {
    const r = await api(u, '/api/callbacks?status=all&perPage=100');
    return ok(r) && r.body.callbacks.some((c) => c.id === fixtures.own.callback.id);
  },
  callbacks_other: async (_role, u) => {
    const r = await api(u, '/api/callbacks?status=all&perPage=100');
    const item = ok(r) && r.body.callbacks.find((c) => c.id === fixtures.other.callback.id);
    return Boolean(item) && item.customerName === fixtures.other.customer.name;
  },
  callback_take_other: async (_role, u) => {
    const r = await api(u, `/api/callbacks/${fixtures.other.callback.id}`, {
      method: 'PATCH',
      body: { assignee: 'me' },
    });
    return ok(r);
  },
  reports: async (_role, u) => {
    const today = new Date(Date.now() + 9 * 3600 * 1000).toISOString().slice(0, 10);
    return ok(
      await api(u, '/api/reports/calls', { method: 'POST', body: { from: today, to: today } }),
    );
  },
  accounts: async (_role, u) => ok(await api(u, '/api/users')),
  // Refused for the role (403), or let through to the body's own check (400 for an empty name).
  stores: async (_role, u) =>
    (await api(u, '/api/stores', { method: 'POST', body: { name: '', prefixes: [] } })).status !==
    403,
  settings: async (_role, u) =>
    (await api(u, '/api/settings/hours', { method: 'PUT', body: { businessDayCutoff: 'x' } }))
      .status !== 403,
};

test("the README's table of roles is tests/corpus/roles.json", () => {
  const readme = readFileSync('README.md', 'utf8');
  const block = readme.split('<!-- roles:begin -->')[1]?.split('<!-- roles:end -->')[0];
  assert.ok(block, 'the README has the roles table');
  const rows = block
    .trim()
    .split('\n')
    .map((l) =>
      l
        .split('|')
        .slice(1, -1)
        .map((c) => c.trim()),
    );
  assert.deepEqual(rows[0], ['操作', '経路', ...TABLE.roles.map((r) => r.label)]);
  const body = rows.slice(2);
  assert.equal(body.length, TABLE.rows.length);
  TABLE.rows.forEach((row, i) => {
    assert.deepEqual(
      body[i],
      [row.action, `\`${row.route}\``, ...TABLE.roles.map((r) => (row[r.key] ? '○' : '×'))],
      row.key,
    );
  });
  assert.deepEqual(
    Object.keys(CHECKS).sort(),
    TABLE.rows.map((r) => r.key).sort(),
    'every row has a check',
  );
});

for (const row of TABLE.rows) {
  test(`${row.action} (${row.route})`, async () => {
    for (const { key: role } of TABLE.roles) {
      const got = await CHECKS[row.key](role, users[role]);
      assert.equal(got, row[role], `${row.key}: ${role} ${row[role] ? 'may' : 'may not'}`);
    }
  });
}

test("a reception desk never hears a customer it is not handling, and its pops are the called store's cards", async () => {
  const own = sockets.reception.messages.find(
    (m) => m.type === 'incoming_call' && m.callId === fixtures.own.call,
  );
  assert.equal(own.store.name, '西船橋');
  assert.equal(
    own.customer.homeStore?.id ?? own.customer.homeStoreId ?? ids['西船橋'],
    ids['西船橋'],
  );
  // Handling the call: read-only.
  const card = await api(users.reception, '/api/customers/lookup', {
    method: 'POST',
    body: { callId: fixtures.own.call },
  });
  assert.equal(card.body.canEdit, false);
  // Not handling a call: nothing of any customer by number.
  const byNumber = await api(users.reception, '/api/customers/lookup', {
    method: 'POST',
    body: { phone: fixtures.own.phone.domestic },
  });
  assert.equal(byNumber.body.customer, null);
  // Notes of a customer need the customer's page.
  assert.ok(
    [403, 404].includes(
      (await api(users.reception, `/api/customers/${fixtures.own.customer.id}/notes`)).status,
    ),
  );
});

test('a reception desk registers an unknown caller for the store that was called, and only for a store it names', async () => {
  const phone = number().domestic;
  // No store named: the desk answers for every store, so it must say which one.
  const none = await api(users.reception, '/api/customers', {
    method: 'POST',
    body: { name: '受付 登録', phone },
  });
  assert.equal(none.status, 400, JSON.stringify(none.body));
  assert.equal(none.body.error.code, 'store_required');
  // For 葛西 (a store no other test account belongs to): registered, with 葛西 as home store.
  const made = await api(users.reception, '/api/customers', {
    method: 'POST',
    body: { name: '受付 登録', phone, homeStoreId: ids['葛西'] },
  });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  assert.equal(made.body.customer.homeStore?.id, ids['葛西']);
  assert.equal(made.body.canEdit, false, 'the desk registers, it never edits');
  // Registering is not seeing: the record stays with 葛西 (the desk sees it while handling a call).
  assert.ok(
    [403, 404].includes(
      (await api(users.reception, `/api/customers/${made.body.customer.id}`)).status,
    ),
  );
  assert.ok(
    [403, 404].includes((await api(users.staff, `/api/customers/${made.body.customer.id}`)).status),
  );
  const admin = await api(users.admin, `/api/customers/${made.body.customer.id}`);
  assert.equal(admin.status, 200);
  assert.equal(admin.body.customer.name, '受付 登録');
});
