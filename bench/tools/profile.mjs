// @ts-check
// CPU profile of the webhook path: the built Worker (with its wasm name section, so functions
// have names) in workerd, 10 consoles connected, signed webhooks sent at a fixed concurrency
// while the V8 profiler samples workerd through its inspector. Prints the self time of the
// heaviest functions and where the time goes by category. Not part of `npm run bench`.
//
//   node bench/tools/profile.mjs [--seconds=5] [--concurrency=8] [--sockets=10] [--top=40] [--ours] [--like]
//                                [--build=DIR]  another release build than build/ (inside the project)
//                                [--save=FILE]  also write the raw profile as JSON
import { Miniflare } from 'miniflare';
import WebSocket from 'ws';
import { cpSync, rmSync, mkdirSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { miniflareOptions, WorkerClient } from '../../tests/helpers/worker.mjs';
import { applyMigrations } from '../../scripts/lib/sql.mjs';
import { seedDemo } from '../../scripts/lib/seed.mjs';
import { webhookSender } from '../lib/ours.mjs';
import { FanIn } from '../lib/fanin.mjs';
import { likeOptions, likeSessions } from '../baselines/c-like-for-like/driver.mjs';
import { WsFleet } from '../lib/wsclients.mjs';

const arg = (k, d) => Number(process.argv.find((a) => a.startsWith(`--${k}=`))?.split('=')[1] ?? d);
const seconds = arg('seconds', 5);
const concurrency = arg('concurrency', 8);
const sockets = arg('sockets', 10);
const top = arg('top', 40);
const port = 9239;

// `--like`: baseline C (bench/baselines/c-like-for-like) instead, for the same breakdown of the
// same work in JavaScript.
const like = process.argv.includes('--like');
const from = process.argv.find((a) => a.startsWith('--build='))?.split('=')[1] ?? 'build';
if (!like && !existsSync(join(from, 'pop/index_bg.names.wasm')))
  throw new Error('run `npm run build` first');
let o;
if (like) {
  o = { ...likeOptions(), inspectorPort: port };
} else {
  // Inside the project: workerd refuses modules outside its starting directory. Both Workers
  // with their names (the webhook and the hub run in the pop Worker).
  const dir = 'build/profile';
  rmSync(dir, { recursive: true, force: true });
  for (const sub of ['', 'pop']) {
    mkdirSync(join(dir, sub), { recursive: true });
    for (const f of ['index.js', 'worker'])
      cpSync(join(from, sub, f), join(dir, sub, f), { recursive: true });
    cpSync(join(from, sub, 'index_bg.names.wasm'), join(dir, sub, 'index_bg.wasm'));
  }
  o = miniflareOptions({
    onLog: (l) => {
      if (!l.startsWith('{')) process.stderr.write(l);
    },
  });
  o.workers[0].scriptPath = join(dir, 'index.js');
  o.workers[1].scriptPath = join(dir, 'pop', 'index.js');
  o.inspectorPort = port;
}
const mf = new Miniflare(o);
const url = (await mf.ready).toString().replace(/\/$/, '');
const db = await mf.getD1Database('DB');
await applyMigrations(db);
await seedDemo(db);

const fanin = new FanIn();
const tokens = like ? await likeSessions(db) : [];
if (!like) {
  const w = new WorkerClient(mf, url, db);
  for (let i = 0; i < Math.ceil(sockets / 10); i++)
    tokens.push((await w.login({ role: 'admin' })).token);
}
let opened = 0;
const fleet = new WsFleet({
  url: url.replace('http', 'ws') + (like ? '/ws' : '/api/cti/socket'),
  headers: () => ({ authorization: `Bearer ${tokens[Math.floor(opened++ / 10)]}` }),
  fanin,
  resume: true,
});
const openStarted = performance.now();
await fleet.open(sockets);
console.log(`${sockets} sockets open in ${Math.round(performance.now() - openStarted)} ms`);

const targets = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
// The pop Worker's isolate: the webhook and the hub run there (the console's is idle here).
const target =
  targets.find((t) => /core:user:pop/.test(t.webSocketDebuggerUrl ?? t.url ?? '')) ??
  targets.find((t) => /core:user/.test(t.webSocketDebuggerUrl ?? t.url ?? '')) ??
  targets[0];
const cdp = new WebSocket(target.webSocketDebuggerUrl);
await new Promise((r) => cdp.once('open', r));
let nextId = 1;
const waiting = new Map();
cdp.on('message', (d) => {
  const m = JSON.parse(d.toString());
  if (m.id && waiting.has(m.id)) {
    waiting.get(m.id)(m);
    waiting.delete(m.id);
  }
});
const call = (method, params = {}) =>
  new Promise((r) => {
    const id = nextId++;
    waiting.set(id, r);
    cdp.send(JSON.stringify({ id, method, params }));
  });

const prepare = webhookSender(url);
async function load(ms) {
  let n = 0;
  const deadline = performance.now() + ms;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        const { id, send } = prepare();
        const d = fanin.expect(id, sockets, 30000);
        const res = await send();
        await res.text();
        if (res.status === 200) n++;
        else fanin.cancel(id);
        await d;
      }
    }),
  );
  return n;
}
await load(2000); // warm-up
await call('Profiler.enable');
await call('Profiler.setSamplingInterval', { interval: 200 });
await call('Profiler.start');
const t0 = performance.now();
const n = await load(seconds * 1000);
const elapsed = (performance.now() - t0) / 1000;
const { result } = await call('Profiler.stop');
const profile = result.profile;
// `--save=FILE`: the raw V8 profile (nodes, samples, timeDeltas) with the webhook count, to
// take apart afterwards without profiling again.
const saveTo = process.argv.find((a) => a.startsWith('--save='))?.slice(7);
if (saveTo) writeFileSync(saveTo, JSON.stringify({ webhooks: n, seconds: elapsed, profile }));

const self = new Map();
const byId = new Map(profile.nodes.map((x) => [x.id, x]));
const dt = new Map();
for (let i = 0; i < profile.samples.length; i++) {
  const id = profile.samples[i];
  dt.set(id, (dt.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
}
let total = 0;
let idle = 0;
for (const [id, us] of dt) {
  const node = byId.get(id);
  const name =
    node.callFrame.functionName ||
    `(anon ${node.callFrame.url.split('/').pop()}:${node.callFrame.lineNumber})`;
  if (name === '(idle)') idle += us;
  else total += us;
  self.set(name, (self.get(name) ?? 0) + us);
}
console.log(
  `${n} webhooks in ${elapsed.toFixed(1)} s = ${(n / elapsed).toFixed(0)}/s; profiled busy ${(total / 1000).toFixed(0)} ms = ${(total / 1000 / n).toFixed(2)} ms/webhook (idle ${(idle / 1000).toFixed(0)} ms)`,
);
const rows = [...self.entries()]
  .filter(([k]) => k !== '(idle)')
  .sort((a, b) => b[1] - a[1])
  .slice(0, top);
for (const [name, us] of rows)
  console.log(
    `${((us / total) * 100).toFixed(1).padStart(5)}%  ${(us / n).toFixed(0).padStart(5)} µs/wh  ${name.slice(0, 150)}`,
  );

// Inclusive time per function (each sample's stack counted once per distinct function).
const parent = new Map();
for (const x of profile.nodes) for (const c of x.children ?? []) parent.set(c, x.id);
const incl = new Map();
for (const [id, us] of dt) {
  const seen = new Set();
  for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
    const name = byId.get(cur).callFrame.functionName;
    if (!name || seen.has(name)) continue;
    seen.add(name);
    incl.set(name, (incl.get(name) ?? 0) + us);
  }
}
console.log('\ninclusive:');
const filter = process.argv.find((a) => a.startsWith('--match='))?.slice(8);
for (const [name, us] of [...incl.entries()]
  .filter(([k]) => k !== '(idle)' && k !== '(root)' && (!filter || k.includes(filter)))
  .sort((a, b) => b[1] - a[1])
  .slice(0, top))
  console.log(
    `${((us / total) * 100).toFixed(1).padStart(5)}%  ${(us / n).toFixed(0).padStart(5)} µs/wh  ${name.slice(0, 150)}`,
  );
cdp.close();
fleet.close();
await mf.dispose();
// `--callers=NAME`: the self time of NAME grouped by its nearest caller in our crate.
const callersOf = process.argv.find((a) => a.startsWith('--callers='))?.slice(10);
if (callersOf) {
  const by = new Map();
  for (const [id, us] of dt) {
    if (byId.get(id).callFrame.functionName !== callersOf) continue;
    let cur = parent.get(id);
    let name = '?';
    for (; cur !== undefined; cur = parent.get(cur)) {
      const f = byId.get(cur).callFrame.functionName;
      if (f.includes('cti_edge') || f.includes('future_to_promise')) {
        name = f;
        break;
      }
    }
    by.set(name, (by.get(name) ?? 0) + us);
  }
  console.log(`\n${callersOf} by caller:`);
  for (const [name, us] of [...by.entries()].sort((a, b) => b[1] - a[1]))
    console.log(`${(us / n).toFixed(0).padStart(6)} µs/wh  ${name.slice(0, 140)}`);
}
// `--ours`: every sample's time given to the nearest function of our crate on its stack
// (itself included), so each of our functions carries what it calls outside the crate (the
// runtime, serde, SQLite); a sample with none of ours goes to the JS glue or runtime frame
// nearest the root (the event loop, the request's entry, microtasks).
if (process.argv.includes('--ours')) {
  const by = new Map();
  for (const [id, us] of dt) {
    const f0 = byId.get(id).callFrame.functionName;
    if (f0 === '(idle)') continue;
    let name = null;
    let outer = f0;
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const f = byId.get(cur).callFrame.functionName;
      if (f.includes('cti_edge')) {
        name = f;
        break;
      }
      if (f && f !== '(root)') outer = f;
    }
    name = name ? name.replace(/::h[0-9a-f]{16}$/, '') : `(no frame of ours) ${outer}`;
    by.set(name, (by.get(name) ?? 0) + us);
  }
  console.log('\nby nearest function of ours:');
  for (const [name, us] of [...by.entries()].sort((a, b) => b[1] - a[1]).slice(0, top))
    console.log(
      `${((us / total) * 100).toFixed(1).padStart(5)}%  ${(us / n).toFixed(0).padStart(6)} µs/wh  ${name.slice(0, 150)}`,
    );
}
