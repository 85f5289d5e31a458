// Does the Durable Object output gate hold a message sent after a SQLite write? One JS
// object broadcasts each POSTed body to one socket, with no write, one write before the send,
// or one write after it; 200 sequential events each (after 50 warm-up), twice, p50/p90 in ms.
// Optional, not part of `npm run bench`:  node bench/gate-probe.mjs
import { Miniflare } from 'miniflare';
import WebSocket from 'ws';
const mf = new Miniflare({ modules: true, scriptPath: 'bench/gate-probe/worker.mjs', compatibilityDate: '2026-04-01',
  durableObjects: { HUB: { className: 'Hub', useSQLite: true } }, host: '127.0.0.1', port: 0 });
const url = (await mf.ready).toString().replace(/\/$/, '');
const ws = new WebSocket(url.replace('http', 'ws') + '/ws', { headers: { Upgrade: 'websocket' } });
await new Promise((r) => ws.once('open', r));
let waiter = null;
ws.on('message', (d) => waiter?.(d.toString()));
for (const mode of ['none', 'before', 'after', 'none', 'before', 'after']) {
  const t = [];
  for (let i = 0; i < 250; i++) {
    const body = JSON.stringify({ i, pad: 'x'.repeat(800) });
    const got = new Promise((r) => (waiter = r));
    const t0 = performance.now();
    const res = fetch(url + '/broadcast?mode=' + mode, { method: 'POST', body });
    await got;
    if (i >= 50) t.push(performance.now() - t0);
    await (await res).text();
  }
  t.sort((a, b) => a - b);
  console.log(mode.padEnd(7), 'p50', t[t.length >> 1].toFixed(2), 'p90', t[Math.floor(t.length * 0.9)].toFixed(2));
}
ws.close();
await mf.dispose();
