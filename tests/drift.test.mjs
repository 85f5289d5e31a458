// @ts-check
// One owner per rule: rules that used to be restated (and disagreed) in several places now
// have one owner; each test here failed while the copies disagreed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorker } from './helpers/worker.mjs';

let w;
let admin;
before(async () => {
  w = await startWorker();
  admin = await w.login({ role: 'admin' });
});
after(() => w?.close());

const as = (method, path, body) =>
  w.json(path, {
    method,
    headers: {
      authorization: `Bearer ${admin.token}`,
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });

test('a call id longer than the hub records (64) is refused alike by the wrap-up and the lookup', async () => {
  const long = '9'.repeat(80); // the wrap-up used to take up to 100, then answer 404
  const put = await as('PUT', '/api/calls/wrapup', {
    callId: long,
    category: '予約',
    outcome: '対応済み',
    note: '',
  });
  assert.equal(put.status, 400, JSON.stringify(put.body));
  assert.equal(put.body.error.code, 'invalid_call_id');
  const get = await as('GET', `/api/calls/wrapup?callId=${long}`);
  assert.equal(get.status, 400);
  const look = await as('POST', '/api/customers/lookup', { callId: long });
  assert.equal(look.status, 400);
  assert.equal(look.body.error.code, 'invalid_call_id');
  // 64 is a well-formed id: not found, never refused as malformed.
  const ok = await as('GET', `/api/calls/wrapup?callId=${'9'.repeat(64)}`);
  assert.equal(ok.status, 404);
});

/** A customer with `n` numbers 0311110000+k (k from `base`), through the API. */
async function customerWith(name, base, n) {
  const phones = Array.from(
    { length: n },
    (_, k) => `03${String(11110000 + base + k).padStart(8, '0')}`,
  );
  const created = await as('POST', '/api/customers', { name, phone: phones[0] });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const c = created.body.customer;
  const patched = await as('PATCH', `/api/customers/${c.id}`, { version: c.version, phones });
  assert.equal(patched.status, 200, JSON.stringify(patched.body));
  return { ...patched.body.customer, phones };
}

test('at most 10 numbers: a merge that would exceed it is refused and changes nothing', async () => {
  const keep = await customerWith('統合 先', 0, 6);
  const from = await customerWith('統合 元', 100, 5);
  const res = await as('POST', `/api/customers/${keep.id}/merge`, { from: from.id });
  assert.equal(res.status, 400, JSON.stringify(res.body));
  assert.equal(res.body.error.code, 'too_many_phones');
  assert.match(res.body.error.message, /11件/);
  // Both records are as they were.
  const a = await as('GET', `/api/customers/${keep.id}`);
  const b = await as('GET', `/api/customers/${from.id}`);
  assert.equal(a.status, 200);
  assert.equal(b.status, 200);
  assert.equal(a.body.customer.phones.length, 6);
  assert.equal(b.body.customer.phones.length, 5);
  // Within the limit the merge goes through.
  const small = await customerWith('統合 小', 200, 4);
  const ok = await as('POST', `/api/customers/${keep.id}/merge`, { from: small.id });
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  assert.equal(ok.body.customer.phones.length, 10);
});

test('at most 10 numbers: a CSV row that would add numbers past it is refused with the row named', async () => {
  const c = await customerWith('取込 先', 300, 8);
  const extra = ['0311119901', '0311119902', '0311119903'].join(' / ');
  const csv = `\ufeffID,氏名,電話番号\r\n${c.id},取込 先,${extra}\r\n`;
  const res = await w.json('/api/customers/import', {
    method: 'POST',
    headers: { authorization: `Bearer ${admin.token}`, 'content-type': 'text/csv' },
    body: csv,
  });
  assert.equal(res.status, 400, JSON.stringify(res.body));
  assert.equal(res.body.error.code, 'invalid_rows');
  const row = res.body.error.rows.find((r) => r.field === 'phones');
  assert.ok(row, JSON.stringify(res.body.error.rows));
  assert.equal(row.line, 2);
  assert.match(row.message, /10件まで/);
  const after = await as('GET', `/api/customers/${c.id}`);
  assert.equal(after.body.customer.phones.length, 8);
});
