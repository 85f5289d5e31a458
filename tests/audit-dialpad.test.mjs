// @ts-check
// 操作履歴 of what goes through Dialpad's API (against the stand-in of
// tests/helpers/dialpad-fake.mjs): playing a call's recording is an access to the caller's
// personal data, recorded with the call and its customer; a refused one (another store's
// call) is not. Switching the Dialpad settings is a settings change on record.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorker, callEvent } from './helpers/worker.mjs';
import { startDialpadFake } from './helpers/dialpad-fake.mjs';

let fake;
let w;
let admin;
before(async () => {
  fake = await startDialpadFake({ minuteMs: 4000 });
  w = await startWorker({
    bindings: { DIALPAD_API_KEY: fake.key, DIALPAD_API_BASE: fake.url, DIALPAD_MINUTE_MS: '1000' },
  });
  admin = await w.login({ role: 'admin' });
});
after(async () => {
  await w?.close();
  await fake?.close();
});

/**
 * @param {{ token: string }} who
 * @param {string} path
 * @param {string} [method]
 * @param {any} [body]
 */
const api = (who, path, method = 'GET', body = undefined) =>
  w.json(path, {
    method,
    headers: {
      authorization: `Bearer ${who.token}`,
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });

/** The audit rows matching `filters` once `pred` holds (they are written after the answer). */
async function waitFor(filters, pred) {
  const deadline = Date.now() + 10_000;
  let rows = [];
  while (Date.now() < deadline) {
    rows = (await api(admin, '/api/audit/search', 'POST', { perPage: 100, ...filters })).body
      .entries;
    if (pred(rows)) return rows;
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.fail(`not in the audit log: ${JSON.stringify(rows.slice(0, 5))}`);
}

test('a played recording is on record with its call and customer; a refused one is not', async () => {
  const cur = (await api(admin, '/api/settings/dialpad')).body.settings;
  assert.equal(
    (
      await api(admin, '/api/settings/dialpad', 'PUT', {
        ...cur,
        recordings: true,
        recordingPrivacy: 'company',
      })
    ).status,
    200,
  );
  await waitFor({ action: 'settings_change' }, (rows) =>
    rows.some((e) => e.detail.area === 'dialpad'),
  );

  const ev = callEvent();
  fake.addCall({
    call_id: ev.call_id,
    recording_details: [{ id: 'rec-1', recording_type: 'callrecording', duration: 1000 }],
  });
  assert.equal((await w.sendEvent(ev)).status, 200);
  const callId = String(ev.call_id);
  const other = await w.login({ role: 'staff', store: '錦糸町' });
  assert.equal(
    (await api(other, '/api/dialpad/recording', 'POST', { callId, kind: 'recording' })).status,
    404,
  );
  const staff = await w.login({ role: 'staff', store: '西船橋' });
  assert.equal(
    (await api(staff, '/api/dialpad/recording', 'POST', { callId, kind: 'recording' })).status,
    200,
  );

  const rows = await waitFor({ action: 'recording_play' }, (r) =>
    r.some((e) => e.callId === callId),
  );
  const row = rows.find((e) => e.callId === callId);
  assert.equal(row.userId, staff.user.id);
  assert.equal(row.customerName, '山田 太郎');
  assert.equal(row.actionLabel, '録音・留守電の再生');
  assert.equal(row.detail.kind, 'recording');
  assert.ok(!rows.some((e) => e.userId === other.user.id), 'the refused request is not on record');
});
