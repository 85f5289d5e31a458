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
    headers: { authorization: `Bearer ${admin.token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });

test('a call id longer than the hub records (64) is refused alike by the wrap-up and the lookup', async () => {
  const long = '9'.repeat(80); // the wrap-up used to take up to 100, then answer 404
  const put = await as('PUT', '/api/calls/wrapup', { callId: long, category: '予約', outcome: '対応済み', note: '' });
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
