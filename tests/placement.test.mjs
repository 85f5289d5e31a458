// @ts-check
// Where the hub lives: HUB_LOCATION is the location hint the hub (and the login guard) are
// created with (domain::placement). A valid hint pops as usual; a value that is no hint is a
// configuration error said loudly in the log, never silently ignored.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startWorker, callEvent } from './helpers/worker.mjs';

test('HUB_LOCATION=apac: the hub is reached with the hint and a call pops', async () => {
  const w = await startWorker({ bindings: { HUB_LOCATION: 'apac' } });
  try {
    const admin = await w.login({ role: 'admin' });
    const s = await w.openSocket(admin);
    const ev = callEvent();
    const res = await w.sendEvent(ev);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    await s.waitFor((m) => m.type === 'incoming_call' && m.legId === String(ev.call_id));
    s.close();
  } finally {
    await w.close();
  }
});

test('HUB_LOCATION that is not a location hint: 503 and a log line naming the setting and the choices', async () => {
  let logs = '';
  const w = await startWorker({ bindings: { HUB_LOCATION: 'tokyo' }, onLog: (l) => (logs += l) });
  try {
    const res = await w.sendEvent(callEvent());
    assert.equal(res.status, 503, JSON.stringify(res.body));
    assert.match(
      logs,
      /HUB_LOCATION must be one of wnam, enam, sam, weur, eeur, apac, oc, afr, me/,
    );
  } finally {
    await w.close();
  }
});
