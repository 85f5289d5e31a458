// @ts-check
// A/B of the webhook path's CPU, made to hold on a shared machine: one workerd per build, all
// started at once with the same sockets (10 admin consoles) and the bench's webhooks (new
// ringing calls of one seeded caller); batches of `--batch` webhooks at `--concurrency` go to
// each in turn, many times, and each batch's CPU is read from its own workerd process
// (/proc utime + stime). Other work on the machine can only add CPU time to a batch, so the
// lowest batches say what a webhook costs; the median is printed beside it. Every build's call
// log grows alike (the caller's card reads more calls as the run goes on). Not part of
// `npm run bench`.
//
//   node bench/tools/ab-cpu.mjs DIR_A DIR_B … [--rounds=12] [--batch=300] [--concurrency=8]
//                                             [--sockets=10] (admin consoles; 0: none, no fan-out)
//
// `C` as a DIR runs baseline C (bench/baselines/c-like-for-like) under the same load, for the
// ratio ours / C; `C:FILE` runs C's driver with another worker module (a variant of C's
// worker.mjs inside the project, e.g. one cut short to take its cost apart).
import { Miniflare } from 'miniflare';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { miniflareOptions, WorkerClient } from '../../tests/helpers/worker.mjs';
import { applyMigrations } from '../../scripts/lib/sql.mjs';
import { seedDemo } from '../../scripts/lib/seed.mjs';
import { webhookSender } from '../lib/ours.mjs';
import { likeOptions, likeSessions } from '../baselines/c-like-for-like/driver.mjs';
import { FanIn } from '../lib/fanin.mjs';
import { WsFleet } from '../lib/wsclients.mjs';

const arg = (k, d) => Number(process.argv.find((a) => a.startsWith(`--${k}=`))?.split('=')[1] ?? d);
const dirs = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const rounds = arg('rounds', 12);
const batch = arg('batch', 300);
const concurrency = arg('concurrency', 8);
const sockets = arg('sockets', 10);

function workerdPids() {
  const out = new Set();
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('workerd'))
        out.add(Number(pid));
    } catch {
      /* gone */
    }
  }
  return out;
}
function ticks(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}

const stacks = [];
try {
  for (const dir of dirs) {
    const before = workerdPids();
    const like = dir === 'C' || dir.startsWith('C:');
    let o = likeOptions();
    if (dir.startsWith('C:')) o.scriptPath = dir.slice(2);
    if (!like) {
      o = miniflareOptions({ onLog: () => {} });
      o.workers[0].scriptPath = join(resolve(dir), 'index.js');
      o.workers[1].scriptPath = join(resolve(dir), 'pop', 'index.js');
    }
    const mf = new Miniflare(o);
    const url = (await mf.ready).toString().replace(/\/$/, '');
    const pid = [...workerdPids()].find((p) => !before.has(p));
    const db = await mf.getD1Database('DB');
    await applyMigrations(db);
    await seedDemo(db);
    const fanin = new FanIn();
    // One login per 10 sockets (a user may hold 10).
    const tokens = like ? await likeSessions(db) : [];
    for (let i = 0; !like && i < Math.ceil(sockets / 10); i++)
      tokens.push((await new WorkerClient(mf, url, db).login({ role: 'admin' })).token);
    let opened = 0;
    const fleet = new WsFleet({
      url: url.replace('http', 'ws') + (like ? '/ws' : '/api/cti/socket'),
      headers: () => ({ authorization: `Bearer ${tokens[Math.floor(opened++ / 10)]}` }),
      fanin,
      resume: true,
    });
    await fleet.open(sockets);
    stacks.push({ dir, mf, pid, fanin, fleet, prepare: webhookSender(url), ms: [] });
  }
  const run = async (s, n) => {
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next++ < n) {
          const { id, send } = s.prepare();
          const d = sockets ? s.fanin.expect(id, sockets, 30000) : null;
          const res = await send();
          await res.text();
          if (res.status !== 200) throw new Error(`${s.dir}: ${res.status}`);
          if (d) await d;
        }
      }),
    );
  };
  for (const s of stacks) await run(s, 200); // warm-up: JIT, wasm tiering, statement caches
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 ? [...stacks].reverse() : stacks;
    for (const s of order) {
      await new Promise((res) => setTimeout(res, 300)); // the last batch's drain to D1
      const t0 = ticks(s.pid);
      await run(s, batch);
      await new Promise((res) => setTimeout(res, 300));
      s.ms.push(((ticks(s.pid) - t0) * 10) / batch);
    }
    process.stderr.write('.');
  }
  process.stderr.write('\n');
} finally {
  for (const s of stacks) {
    s.fleet.close();
    await s.mf.dispose();
  }
}
const q = (v, p) => [...v].sort((a, b) => a - b)[Math.floor((v.length - 1) * p)];
for (const s of stacks)
  console.log(
    `${s.dir.padEnd(16)} workerd CPU per webhook: min ${q(s.ms, 0).toFixed(2)}  p25 ${q(s.ms, 0.25).toFixed(2)}  median ${q(s.ms, 0.5).toFixed(2)} ms  (${s.ms.length} batches of ${batch}; ${s.ms.map((x) => x.toFixed(2)).join(' ')})`,
  );
