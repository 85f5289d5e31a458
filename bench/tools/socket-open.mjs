// @ts-check
// Time to open WebSockets, ours against baseline C, as `npm run bench`'s latency section opens
// them (1, +99, +900, 50 at a time, ?since= resume, one Bearer login per 10 sockets) but
// without its latency series: between the steps a few webhooks are sent so that seq > 0 and
// every later socket resumes with nothing missed, as in the bench. Each stack gets a fresh
// workerd; the builds and C are run in turn, `--rounds` times, so that a comparison shares
// the machine's state. Also prints the workerd process's CPU time per step (all isolates and
// its D1). Not part of `npm run bench`.
//
//   node bench/tools/socket-open.mjs [--build=DIR,DIR2,...] [--rounds=2] [--no-c] [--events=20]
//                                    [--profile[=TOP]]  V8 CPU profile of every isolate during
//                                    the +900 step (named builds: index_bg.names.wasm)
//                                    [--isolate=NAME]  only the isolates whose title has NAME
//                                    [--probe]  instead: the CPU of 900 upgrades of ours that
//                                    stop early (bad token: the console only; revoked session:
//                                    + the D1 read; full: + the hub), for a breakdown
//                                    [--no-assets]  ours without the console's static assets
//                                    (Miniflare's asset router in front of the console)
import { Miniflare } from 'miniflare';
import WebSocket from 'ws';
import { cpSync, readFileSync, readdirSync, rmSync, mkdirSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { miniflareOptions, WorkerClient } from '../../tests/helpers/worker.mjs';
import { applyMigrations } from '../../scripts/lib/sql.mjs';
import { seedDemo } from '../../scripts/lib/seed.mjs';
import { webhookSender } from '../lib/ours.mjs';
import { FanIn } from '../lib/fanin.mjs';
import { WsFleet } from '../lib/wsclients.mjs';
import { likeOptions, likeSessions } from '../baselines/c-like-for-like/driver.mjs';

const val = (k) => process.argv.find((a) => a.startsWith(`--${k}=`))?.split('=')[1];
const builds = (val('build') ?? 'build').split(',');
const rounds = Number(val('rounds') ?? 2);
const events = Number(val('events') ?? 20);
const withC = !process.argv.includes('--no-c');
const steps = [1, 100, 1000];
const profileArg = process.argv.find((a) => a.startsWith('--profile'));
const top = Number(profileArg?.split('=')[1] ?? 25);
const port = 9241;

/** Starts the V8 profiler in every isolate of the workerd behind `port`; stop() returns each
 * target's profile. */
async function profileAll() {
  const only = process.argv.find((a) => a.startsWith('--isolate='))?.slice(10);
  const targets = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()).filter(
    (t) => !only || (t.title ?? t.url ?? '').includes(only),
  );
  const sessions = await Promise.all(
    targets.map(async (t) => {
      const cdp = new WebSocket(t.webSocketDebuggerUrl);
      await new Promise((r) => cdp.once('open', r));
      let id = 1;
      const waiting = new Map();
      cdp.on('message', (d) => {
        const m = JSON.parse(d.toString());
        if (m.id && waiting.has(m.id)) waiting.get(m.id)(m);
      });
      const call = (method, params = {}) =>
        new Promise((r) => {
          const i = id++;
          waiting.set(i, r);
          cdp.send(JSON.stringify({ id: i, method, params }));
        });
      await call('Profiler.enable');
      await call('Profiler.setSamplingInterval', { interval: 200 });
      await call('Profiler.start');
      return { t, cdp, call };
    }),
  );
  return async (n) => {
    for (const { t, cdp, call } of sessions) {
      const { result } = await call('Profiler.stop');
      cdp.close();
      const p = result.profile;
      const byId = new Map(p.nodes.map((x) => [x.id, x]));
      const parent = new Map();
      for (const x of p.nodes) for (const c of x.children ?? []) parent.set(c, x.id);
      const dt = new Map();
      for (const [i, s] of p.samples.entries())
        dt.set(s, (dt.get(s) ?? 0) + (p.timeDeltas[i] ?? 0));
      let busy = 0;
      const self = new Map();
      const incl = new Map();
      for (const [nid, us] of dt) {
        const name = byId.get(nid).callFrame.functionName || '(anon)';
        if (name === '(idle)' || name === '(program)') continue;
        busy += us;
        self.set(name, (self.get(name) ?? 0) + us);
        const seen = new Set();
        for (let cur = nid; cur !== undefined; cur = parent.get(cur)) {
          const f = byId.get(cur).callFrame.functionName;
          if (!f || seen.has(f) || f === '(root)') continue;
          seen.add(f);
          incl.set(f, (incl.get(f) ?? 0) + us);
        }
      }
      console.log(
        `\n== ${t.title ?? t.url}: busy ${(busy / 1000).toFixed(0)} ms = ${(busy / n).toFixed(0)} µs/socket`,
      );
      const show = (m, what) => {
        console.log(` ${what}:`);
        for (const [name, us] of [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, top))
          console.log(
            `${(us / n).toFixed(0).padStart(7)} µs  ${name.replace(/::h[0-9a-f]{16}$/, '').slice(0, 140)}`,
          );
      };
      show(self, 'self');
      show(incl, 'inclusive');
    }
  };
}

/** With --profile, a copy of `dir` inside build/ with its named module, as workerd needs it. */
function named(dir) {
  if (!profileArg) return dir;
  const to = resolve('build/profile-sockets');
  rmSync(to, { recursive: true, force: true });
  for (const sub of ['', 'pop']) {
    mkdirSync(join(to, sub), { recursive: true });
    for (const f of ['index.js', 'worker'])
      cpSync(join(dir, sub, f), join(to, sub, f), { recursive: true });
    const n = join(dir, sub, 'index_bg.names.wasm');
    cpSync(existsSync(n) ? n : join(dir, sub, 'index_bg.wasm'), join(to, sub, 'index_bg.wasm'));
  }
  return to;
}

/** The CPU seconds (user + system) of the workerd processes that are children of this one. */
function workerdCpu() {
  let ticks = 0;
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    let stat;
    try {
      stat = readFileSync(`/proc/${p}/stat`, 'utf8');
    } catch {
      continue;
    }
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    if (Number(rest[1]) !== process.pid || !comm.startsWith('workerd')) continue;
    ticks += Number(rest[11]) + Number(rest[12]);
  }
  return ticks * 10; // ms (USER_HZ 100)
}

async function oursStack(dir) {
  const ablate = val('ablate');
  const o = miniflareOptions({
    onLog: () => {},
    ...(ablate ? { bindings: { ABLATE: ablate } } : {}),
  });
  dir = named(dir);
  if (profileArg) o.inspectorPort = port;
  o.workers[0].scriptPath = join(dir, 'index.js');
  if (process.argv.includes('--no-assets')) delete o.workers[0].assets;
  o.workers[1].scriptPath = join(dir, 'pop', 'index.js');
  const mf = new Miniflare(o);
  const url = (await mf.ready).toString().replace(/\/$/, '');
  const db = await mf.getD1Database('DB');
  await applyMigrations(db);
  await seedDemo(db);
  const w = new WorkerClient(mf, url, db);
  const tokens = [];
  for (let i = 0; i < 101; i++) tokens.push((await w.login({ role: 'admin' })).token);
  let opened = 0;
  const fanin = new FanIn();
  const fleet = new WsFleet({
    url: `${url.replace('http', 'ws')}/api/cti/socket`,
    headers: () => ({ authorization: `Bearer ${tokens[Math.floor(opened++ / 10) % 101]}` }),
    fanin,
    resume: true,
  });
  return { url, w, tokens, fanin, fleet, close: () => mf.dispose() };
}

/** 900 upgrades, 50 at a time, each with `headers()`; resolves with the statuses seen. */
async function upgrades(url, headers, count = 900) {
  const statuses = new Map();
  for (let done = 0; done < count; done += 50) {
    await Promise.all(
      Array.from(
        { length: 50 },
        () =>
          new Promise((res) => {
            const ws = new WebSocket(url, { headers: headers() });
            const end = (st) => {
              statuses.set(st, (statuses.get(st) ?? 0) + 1);
              ws.terminate();
              res(null);
            };
            ws.on('unexpected-response', (_q, r) => {
              r.resume();
              end(r.statusCode);
            });
            ws.on('message', () => end(101));
            ws.on('error', () => end('error'));
          }),
      ),
    );
  }
  return [...statuses].map(([k, v]) => `${k}x${v}`).join(',');
}

async function probe(dir) {
  const s = await oursStack(resolve(dir));
  const url = `${s.url.replace('http', 'ws')}/api/cti/socket`;
  const bad = `${s.tokens[0].slice(0, -4)}AAAA`;
  // A revoked session: logged out (its D1 row deleted), its token still well signed.
  const revoked = s.tokens[100];
  await s.w.fetch('/api/auth/logout', {
    method: 'POST',
    headers: { authorization: `Bearer ${revoked}` },
  });
  let i = 0;
  const variants = {
    'bad signature': () => ({ authorization: `Bearer ${bad}` }),
    'revoked session': () => ({ authorization: `Bearer ${revoked}` }),
    full: () => ({ authorization: `Bearer ${s.tokens[Math.floor(i++ / 10) % 90]}` }),
  };
  const out = [];
  for (const [name, h] of Object.entries(variants)) {
    await upgrades(url, h, 100); // warm-up
    if (name === 'full') i = 0;
    const c0 = workerdCpu();
    const t0 = performance.now();
    const st = await upgrades(url, h);
    out.push(`${name}: ${Math.round(performance.now() - t0)} ms cpu ${workerdCpu() - c0} (${st})`);
  }
  await s.close();
  console.log(`probe ${dir}: ${out.join('; ')}`);
}

async function cStack() {
  const mf = new Miniflare({ ...likeOptions(), ...(profileArg ? { inspectorPort: port } : {}) });
  const url = (await mf.ready).toString().replace(/\/$/, '');
  const db = await mf.getD1Database('DB');
  await applyMigrations(db);
  await seedDemo(db);
  const tokens = await likeSessions(db);
  const fanin = new FanIn();
  let opened = 0;
  const fleet = new WsFleet({
    url: `${url.replace('http', 'ws')}/ws`,
    headers: () => ({ authorization: `Bearer ${tokens[Math.floor(opened++ / 10) % 101]}` }),
    fanin,
    resume: true,
  });
  return { url, fanin, fleet, close: () => mf.dispose() };
}

async function run(label, stack) {
  const s = await stack();
  const out = [];
  try {
    const prepare = webhookSender(s.url);
    for (const n of steps) {
      const c0 = workerdCpu();
      const stop = profileArg && n === 1000 ? await profileAll() : null;
      const t0 = performance.now();
      await s.fleet.open(n - s.fleet.sockets.length, { batch: 50 });
      await stop?.(900);
      out.push(`+${Math.round(performance.now() - t0)} ms (cpu ${workerdCpu() - c0})`);
      for (let i = 0; i < events; i++) {
        const { id, send } = prepare();
        const d = s.fanin.expect(id, n, 30000);
        await (await send()).text();
        await d;
      }
    }
  } finally {
    s.fleet.close();
    await s.close();
  }
  console.log(`${label.padEnd(28)} ${steps.join('/')}: ${out.join('  ')}`);
}

if (process.argv.includes('--probe')) {
  for (let r = 0; r < rounds; r++) for (const b of builds) await probe(b);
  process.exit(0);
}
for (let r = 0; r < rounds; r++) {
  for (const b of builds) await run(`ours ${b}`, () => oursStack(resolve(b)));
  if (withC) await run('C', cStack);
}
