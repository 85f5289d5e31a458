// @ts-check
// Operations: retention cron, data export, structured logs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorker, callEvent, newCallId } from './helpers/worker.mjs';
import { exportAll, toCsv } from '../scripts/lib/export.mjs';

let w;
let logs = '';
before(async () => {
  w = await startWorker({ bindings: { CALL_LOG_RETENTION_DAYS: '30' }, onLog: (t) => (logs += t) });
});
after(() => w?.close());

test('the daily cron deletes calls older than the retention, keeps the rest', async () => {
  const day = 24 * 3600 * 1000;
  const old = newCallId();
  const recent = newCallId();
  await w.sendEvent(
    callEvent({
      call_id: old,
      date_started: Date.now() - 45 * day,
      date_rang: Date.now() - 45 * day,
    }),
  );
  await w.sendEvent(callEvent({ call_id: recent }));
  const worker = await w.mf.getWorker();
  const r = await worker.scheduled({ cron: '30 18 * * *', scheduledTime: new Date() });
  assert.equal(r.outcome, 'ok');
  assert.equal(await w.count('SELECT * FROM calls WHERE id = ?1', String(old)), 0);
  // Its events are the dedupe keys of the replay window: kept 15 minutes after they arrived.
  assert.equal(await w.count('SELECT * FROM call_events WHERE group_id = ?1', String(old)), 1);
  await w.db
    .prepare('UPDATE call_events SET received_at = ?1 WHERE group_id = ?2')
    .bind(Date.now() - 16 * 60 * 1000, String(old))
    .run();
  await worker.scheduled({ cron: '30 18 * * *', scheduledTime: new Date() });
  assert.equal(await w.count('SELECT * FROM call_events WHERE group_id = ?1', String(old)), 0);
  assert.equal(await w.count('SELECT * FROM calls WHERE id = ?1', String(recent)), 1);
});

test('export has stores with prefixes, customers with phones, calls; CSV is safe for Excel', async () => {
  const data = await exportAll(w.db);
  const nishi = data.stores.find((s) => s.name === '西船橋');
  assert.equal(nishi.prefixes, '0501748');
  const yamada = data.customers.find((c) => c.name === '山田 太郎');
  assert.equal(yamada.phones, '09012345678');
  assert.ok(data.calls.length >= 1);
  const csv = toCsv([{ name: '=HYPERLINK("x")', memo: 'a,"b"\nc', n: -5 }]);
  assert.ok(csv.startsWith('\ufeffname,memo,n\r\n'));
  assert.match(csv, /'=HYPERLINK/);
  assert.match(csv, /"a,""b""\nc"/);
  assert.match(csv, /,-5\r\n$/);
  // Numbers keep their leading 0 through Excel: written as the text formula ="0…".
  const numbers = toCsv([
    { phones: '09012345678 0312345678', caller: '+819012345678', dialled: '05017481234' },
  ]);
  assert.ok(
    numbers.endsWith(
      '\r\n"=""09012345678 0312345678""","=""+819012345678""","=""05017481234"""\r\n',
    ),
    numbers,
  );
});

test('one JSON log line per webhook and per rejection, phone numbers masked', async () => {
  const ev = callEvent({ external_number: '+819012345678' });
  await w.sendEvent(ev);
  await w.postWebhook('garbage');
  const lines = () =>
    logs
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l));
  const deadline = Date.now() + 5000;
  while (!lines().some((l) => l.event === 'webhook_rejected') && Date.now() < deadline)
    await new Promise((r) => setImmediate(r));
  const accepted = lines().find((l) => l.event === 'webhook' && l.leg === String(ev.call_id));
  assert.ok(accepted, logs);
  assert.equal(accepted.caller, '*******5678');
  assert.equal(accepted.store, '西船橋');
  assert.equal(accepted.customer, 'found');
  assert.equal(accepted.decision, 'pop');
  assert.equal(typeof accepted.ms, 'number');
  assert.equal(typeof accepted.sockets, 'number');
  const rejected = lines().find((l) => l.event === 'webhook_rejected');
  assert.deepEqual([rejected.status, rejected.code], [400, 'malformed_token']);
  assert.ok(!logs.includes('09012345678') && !logs.includes('819012345678'), 'no number in clear');
  await w.json('/api/customers/lookup', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ phone: '09012345678' }),
  });
  const deadline2 = Date.now() + 5000;
  while (!lines().some((l) => l.event === 'request_rejected') && Date.now() < deadline2)
    await new Promise((r) => setImmediate(r));
  const other = lines().find((l) => l.event === 'request_rejected');
  assert.deepEqual(
    [other.method, other.path, other.status, other.code],
    ['POST', '/api/customers/lookup', 401, 'not_logged_in'],
  );
  assert.ok(!logs.includes('09012345678'), 'the number (in the body) is not logged');
});
