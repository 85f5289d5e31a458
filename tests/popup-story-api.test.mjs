// @ts-check
// The popup's lookup tells the story (issue 22, items 2 and 10): the number's last 3 wrap-ups
// (`wrapups`), wrap-ups on history rows, and `otherStore` for a number of another store's
// customer — and staff never get another store's wrap-ups or that customer's name.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorker, callEvent } from './helpers/worker.mjs';

let w;
let admin;
let nishi; // staff of 西船橋
let kinshi; // staff of 錦糸町
before(async () => {
  w = await startWorker();
  admin = await w.login({ role: 'admin', name: '管理 太郎' });
  nishi = await w.login({ role: 'staff', store: '西船橋', name: '西船橋 花子' });
  kinshi = await w.login({ role: 'staff', store: '錦糸町', name: '錦糸町 次郎' });
});
after(() => w?.close());

/**
 * @param {import('./helpers/worker.mjs').Auth} who
 * @param {string} path
 * @param {import('./helpers/worker.mjs').ApiOptions} [opts]
 * @returns {Promise<import('./helpers/worker.mjs').JsonResponse>}
 */
const api = (who, path, { method = 'GET', body } = {}) =>
  w.json(path, {
    method,
    headers: {
      authorization: `Bearer ${who.token}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

const NISHI_LINE = '+815017481234';
const KINSHI_LINE = '+815017491234';
const SATO = '+818011112222'; // the seed's 佐藤 花子, a customer of 錦糸町

/** A call from `from` to `line`, started `minutesAgo` minutes ago; resolves with its id. */
async function call(from, line, minutesAgo, extra = {}) {
  const t = Date.now() - minutesAgo * 60_000;
  const ev = callEvent({
    external_number: from,
    internal_number: line,
    contact: null,
    date_started: t,
    date_rang: t,
    event_timestamp: t,
    ...extra,
  });
  const r = await w.sendEvent(ev);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return String(ev.call_id);
}

async function wrapup(who, callId, category, outcome, note) {
  const r = await api(who, '/api/calls/wrapup', {
    method: 'PUT',
    body: { callId, category, outcome, note },
  });
  assert.equal(r.status, 200, JSON.stringify(r.body));
}

const lookup = async (who, body) => {
  const r = await api(who, '/api/customers/lookup', { method: 'POST', body });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body;
};

test("wrapups: the number's last 3, newest first, without the call asked about or empty ones; history rows carry theirs", async () => {
  const from = '+819011110001'; // nobody's number: an unregistered caller has a story too
  const a = await call(from, NISHI_LINE, 12);
  const b = await call(from, NISHI_LINE, 10);
  const c = await call(from, NISHI_LINE, 8);
  const d = await call(from, NISHI_LINE, 6);
  const empty = await call(from, NISHI_LINE, 4);
  const now = await call(from, NISHI_LINE, 0);
  await wrapup(nishi, a, '予約', '対応済み', '最初の記録');
  await wrapup(nishi, b, '問い合わせ', '', '二番目');
  await wrapup(nishi, c, '注文', '担当者へ引継ぎ', '三番目');
  await wrapup(nishi, d, '問い合わせ', '折り返し予定', '料金を確認して午後に折り返す');
  await wrapup(nishi, empty, '', '', '');
  await wrapup(nishi, now, 'その他', '', 'この通話の記録');

  const r = await lookup(nishi, { callId: now });
  assert.equal(r.customer, null);
  assert.equal(
    r.otherStore,
    false,
    "nobody has the number: an unregistered caller, not another store's",
  );
  assert.deepEqual(
    r.wrapups.map((x) => x.callId),
    [d, c, b],
    'the last 3 written, newest call first; not this call, not an empty one',
  );
  const latest = r.wrapups[0];
  assert.equal(latest.category, '問い合わせ');
  assert.equal(latest.outcome, '折り返し予定');
  assert.equal(latest.note, '料金を確認して午後に折り返す');
  assert.equal(latest.by, '西船橋 花子');
  assert.equal(latest.storeName, '西船橋');
  assert.equal(typeof latest.startedAt, 'number');
  assert.ok(typeof latest.at === 'number' && latest.at >= latest.startedAt, 'when it was written');
  const row = r.history.find((h) => h.id === d);
  assert.equal(row.wrapupCategory, '問い合わせ');
  assert.equal(row.wrapupOutcome, '折り返し予定');
  assert.equal(row.wrapupNote, '料金を確認して午後に折り返す');
  assert.equal(row.wrapupBy, '西船橋 花子');

  // By number (no call asked about): every call counts.
  const byPhone = await lookup(nishi, { phone: '09011110001' });
  assert.deepEqual(
    byPhone.wrapups.map((x) => x.callId),
    [now, d, c],
  );

  // A withheld caller has no story.
  const withheld = await call('anonymous', NISHI_LINE, 0);
  const wh = await lookup(nishi, { callId: withheld });
  assert.equal(wh.phone, null);
  assert.deepEqual(wh.wrapups, []);
  assert.equal(wh.otherStore, false);
});

test("another store's customer: staff are told otherStore, never who, nor the other store's wrap-ups", async () => {
  const k1 = await call(SATO, KINSHI_LINE, 9);
  const n1 = await call(SATO, NISHI_LINE, 7);
  const n2 = await call(SATO, NISHI_LINE, 0);
  await wrapup(kinshi, k1, '予約', '対応済み', '錦糸町だけの記録');
  await wrapup(nishi, n1, '問い合わせ', '折り返し予定', '西船橋の記録');
  // The pipeline links a call to 佐藤 花子 only where the call's store may see her (issue 23):
  // 錦糸町's call, not 西船橋's.
  const linked = await w.db
    .prepare('SELECT count(*) AS n FROM calls WHERE id IN (?1, ?2) AND customer_id IS NOT NULL')
    .bind(n1, n2)
    .first();
  assert.equal(linked.n, 0);
  assert.equal(
    (
      await w.db
        .prepare('SELECT count(*) AS n FROM calls WHERE id = ?1 AND customer_id IS NOT NULL')
        .bind(k1)
        .first()
    ).n,
    1,
  );

  const staff = await lookup(nishi, { callId: n2 });
  assert.equal(staff.otherStore, true);
  assert.equal(staff.customer, null);
  assert.deepEqual(staff.candidates, []);
  assert.deepEqual(staff.notes, []);
  assert.equal(staff.canEdit, false);
  assert.deepEqual(
    staff.wrapups.map((x) => x.callId),
    [n1],
    'only the wrap-ups of calls to their store',
  );
  assert.ok(staff.history.length >= 2 && staff.history.every((h) => h.storeName === '西船橋'));
  assert.ok(
    staff.history.every((h) => h.customerName === null && h.customerId === null),
    'history rows do not name her',
  );
  const text = JSON.stringify(staff);
  for (const secret of ['佐藤', 'サトウ', '錦糸町だけの記録', '錦糸町', k1])
    assert.ok(!text.includes(secret), `staff's lookup leaks ${secret}`);
  // By number as well.
  const staffByPhone = await lookup(nishi, { phone: '08011112222' });
  assert.equal(staffByPhone.otherStore, true);
  assert.ok(!JSON.stringify(staffByPhone).includes('佐藤'));

  // Her own store's staff see her, and only their store's wrap-ups.
  const own = await lookup(kinshi, { phone: '08011112222' });
  assert.equal(own.otherStore, false);
  assert.equal(own.customer.name, '佐藤 花子');
  assert.deepEqual(
    own.wrapups.map((x) => x.callId),
    [k1],
  );

  // An admin sees everything.
  const all = await lookup(admin, { callId: n2 });
  assert.equal(all.otherStore, false);
  assert.equal(all.customer.name, '佐藤 花子');
  assert.deepEqual(
    all.wrapups.map((x) => x.callId),
    [n1, k1],
  );
  assert.equal(all.history.find((h) => h.id === k1).customerName, '佐藤 花子');

  // A number shared by a customer staff may see and another store's: the one they see, no flag.
  const shared = '+819011110002';
  await w.addCustomer({ name: '共有 一郎', phone: '09011110002', store: '西船橋' });
  await w.addCustomer({ name: '共有 二郎', phone: '09011110002', store: '錦糸町' });
  const mixed = await lookup(nishi, { phone: shared.replace('+81', '0') });
  assert.equal(mixed.otherStore, false);
  assert.equal(mixed.customer.name, '共有 一郎');
  assert.ok(!JSON.stringify(mixed).includes('共有 二郎'));
});
