// @ts-check
// The hub keeps each room's checked sockets ready for its one-loop fan-out (fanout.js) until
// one of them could lose access by itself. A socket whose lease runs out (D1 could not confirm
// it) must still be sent nothing and told to reconnect, although the room's list was checked
// and kept before.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startWorker, callEvent } from './helpers/worker.mjs';

test('a kept room list does not outlive a lease: the socket is closed with 1013, sent nothing', async () => {
  const f = await startWorker({ d1Fault: true, bindings: { HUB_RECHECK_SECS: '1' } });
  try {
    const u = await f.login({ role: 'admin' });
    const s = await f.openSocket(u);
    const first = callEvent();
    const ok = await f.sendEvent(first);
    assert.equal(ok.body.delivered, 1, 'the room list is checked and kept');
    await s.waitFor((m) => m.legId === String(first.call_id));
    // The re-checks cannot reach D1 now: the lease given at connect (3 re-checks, 3 s here)
    // is never renewed.
    await f.setD1('down');
    const deadline = Date.now() + 15000;
    let res = ok;
    while (res.body.delivered !== 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      res = await f.sendEvent(callEvent());
      assert.equal(res.status, 200);
    }
    assert.equal(res.body.delivered, 0, 'past its lease the socket is sent nothing');
    assert.equal(await s.closedWith(5000), 1013);
  } finally {
    await f.close();
  }
});
