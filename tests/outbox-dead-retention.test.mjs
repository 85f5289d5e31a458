// @ts-check
// The hub's `outbox_dead` (call events D1 refused, set aside so they cannot hold up the rest)
// holds call data too: it goes with the call-log retention (issue 23). A trigger in D1 refuses
// one caller's call the way a constraint would; after the outbox's attempts the event is set
// aside (health: `hubStats.outbox.setAside`), and the retention sweep the daily cron runs
// through the hub (`/sweep` with the retention cutoff) deletes what was set aside before the
// cutoff, and nothing after it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorker, callEvent } from './helpers/worker.mjs';

const REFUSED = '0312349999';
let w;
let admin;
before(async () => {
  w = await startWorker();
  admin = await w.login({ role: 'admin' });
});
after(() => w?.close());

const setAside = async () => {
  const r = await w.json('/api/health', { headers: { authorization: `Bearer ${admin.token}` } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.hubStats.outbox.setAside;
};

test('events D1 refused are set aside, then deleted by the retention sweep once older than its cutoff', async () => {
  await w.rawDb
    .prepare(
      `CREATE TRIGGER refuse_for_test BEFORE INSERT ON calls WHEN NEW.caller = '${REFUSED}' ` +
        "BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: refused for the test'); END",
    )
    .run();
  assert.equal(await setAside(), 0);
  const ev = callEvent({ external_number: `+81${REFUSED.slice(1)}` });
  assert.equal((await w.sendEvent(ev)).status, 200);
  // Each flush is one more attempt; after the last one the event is set aside.
  for (let i = 0; i < 20 && (await setAside()) === 0; i++) await w.flush();
  assert.equal(await setAside(), 1, 'the refused event is set aside');
  await w.rawDb.prepare('DROP TRIGGER refuse_for_test').run();

  // A sweep whose cutoff is before the event was set aside keeps it…
  const setAsideAt = Date.now();
  await w.hub('/sweep', { now: Date.now(), retentionCutoff: setAsideAt - 3600_000 });
  assert.equal(await setAside(), 1, 'kept while younger than the retention');
  // …one after it deletes it, as it deletes the calls of that age.
  await w.hub('/sweep', { now: Date.now(), retentionCutoff: Date.now() + 1000 });
  assert.equal(await setAside(), 0, 'outbox_dead pruned with the retention');
});
