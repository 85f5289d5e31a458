// @ts-check
// Integration (issue 27): 着信分析's weekly summary — the destination set on 設定 (https://
// only, admins), a test send, and the cron sending last week's figures once, from Monday 09:00
// Japan time. The Worker's outbound fetches go to a recorder (Miniflare's outboundService).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorker, callEvent } from './helpers/worker.mjs';

let w;
let admin;
let staff;
const sent = [];

before(async () => {
  w = await startWorker({
    configure(options) {
      const consoleWorker = options.workers.find((x) => x.name === 'console');
      consoleWorker.outboundService = async (req) => {
        sent.push({ url: req.url, body: await req.json() });
        return new Response('ok');
      };
    },
  });
  admin = await w.login({ role: 'admin' });
  staff = await w.login({
    role: 'staff',
    store: (await w.db.prepare("SELECT id FROM stores WHERE name = '西船橋'").first()).id,
  });
});

after(() => w?.close());

const call = (who, method, path, body) =>
  w.json(path, {
    method,
    headers: { authorization: `Bearer ${who.token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

/** Last week (Monday to Sunday, Japan time) as seen at `now`. */
function lastWeek(now) {
  const day = Math.floor((now + 9 * 3600e3) / 86400e3);
  const monday = day - ((day + 3) % 7) - 7;
  return monday;
}

test('the destination: admins only, https:// only, cleared with null', async () => {
  assert.equal(
    (await call(staff, 'PUT', '/api/settings/reports', { webhookUrl: 'https://hooks.example/a' }))
      .status,
    403,
  );
  for (const bad of [
    'http://hooks.example/a',
    'hooks.example',
    'https://',
    'javascript:alert(1)',
  ]) {
    const r = await call(admin, 'PUT', '/api/settings/reports', { webhookUrl: bad });
    assert.equal(r.status, 400, bad);
    assert.equal(r.body.error.code, 'invalid_webhook_url');
  }
  const none = await call(admin, 'POST', '/api/settings/reports/test', {});
  assert.equal(none.status, 400);
  assert.equal(none.body.error.code, 'no_webhook_url');
  const ok = await call(admin, 'PUT', '/api/settings/reports', {
    webhookUrl: 'https://hooks.example/T000/B000',
  });
  assert.equal(ok.status, 200);
  assert.equal(
    (await call(admin, 'GET', '/api/settings/reports')).body.webhookUrl,
    'https://hooks.example/T000/B000',
  );
});

test('a test send and the Monday cron post last week by store, once', async () => {
  // A missed call and an answered one at 西船橋, last week (Wednesday 10:00 JST).
  const monday = lastWeek(Date.now());
  const t0 = (monday + 2) * 86400e3 - 9 * 3600e3 + 10 * 3600e3;
  for (const answered of [true, false]) {
    const ev = callEvent({ contact: null, date_started: t0, date_rang: t0 });
    await w.sendEvent({ ...ev, event_timestamp: Date.now() });
    if (answered) {
      await w.sendEvent({
        ...ev,
        state: 'connected',
        date_connected: t0 + 3000,
        event_timestamp: Date.now() + 1,
      });
      await w.sendEvent({
        ...ev,
        state: 'hangup',
        date_connected: t0 + 3000,
        date_ended: t0 + 60000,
        event_timestamp: Date.now() + 2,
      });
    } else {
      await w.sendEvent({
        ...ev,
        state: 'hangup',
        date_ended: t0 + 20000,
        event_timestamp: Date.now() + 1,
      });
    }
  }
  await w.flush();
  const r = await call(admin, 'POST', '/api/settings/reports/test', {});
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.deepEqual(r.body, { sent: true, status: 200 });
  assert.equal(sent.length, 1);
  assert.equal(sent[0].url, 'https://hooks.example/T000/B000');
  const from = new Date(monday * 86400e3).toISOString().slice(0, 10);
  assert.match(sent[0].body.text, new RegExp(`^着信分析 週次サマリー ${from}〜`));
  assert.match(sent[0].body.text, /・西船橋: 着信 2 \/ 応答 1 \(50%\) \/ 不在着信 1 \/ 留守電 0/);
  assert.match(sent[0].body.text, /未完了の折り返し: 1件$/);

  // The cron: not before Monday 09:00 JST, then once for the week.
  const worker = await w.mf.getWorker('console');
  const thisMonday = (monday + 7) * 86400e3 - 9 * 3600e3;
  await worker.scheduled({
    cron: '*/15 * * * *',
    scheduledTime: new Date(thisMonday + 8 * 3600e3 + 45 * 60e3),
  });
  assert.equal(sent.length, 1, 'not at 08:45');
  await worker.scheduled({
    cron: '*/15 * * * *',
    scheduledTime: new Date(thisMonday + 9 * 3600e3),
  });
  assert.equal(sent.length, 2, 'at 09:00');
  assert.equal(sent[1].body.text, sent[0].body.text);
  await worker.scheduled({
    cron: '*/15 * * * *',
    scheduledTime: new Date(thisMonday + 9 * 3600e3 + 15 * 60e3),
  });
  assert.equal(sent.length, 2, 'once a week');
  const s = await call(admin, 'GET', '/api/settings/reports');
  assert.equal(s.body.lastSentWeek, from);
});
