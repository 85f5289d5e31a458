// `npm run bench`: latency (webhook -> every socket) of the product and two baselines at
// 1/100/1000 sockets, the product's webhook throughput, its size and cold start. Prints a
// table and writes bench/results/latest.json. Loopback only; every loop is bounded in count
// and time, and a global deadline stops the run whatever happens. See docs/benchmarks.md.
//
//   node bench/run.mjs [--quick] [--only=latency,a,b,throughput,size,start] [--events=N]
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(ROOT); // the harness resolves build/ and public/ from the repository root

const { Cleanup } = await import('./lib/cleanup.mjs');
const { ratio } = await import('./lib/stats.mjs');

const args = process.argv.slice(2);
const flag = (name) => args.find((a) => a === `--${name}` || a.startsWith(`--${name}=`));
const value = (name) => flag(name)?.split('=')[1];
const quick = Boolean(flag('quick'));
const only = value('only')?.split(',') ?? ['latency', 'a', 'b', 'throughput', 'size', 'start'];
const cfg = {
  ns: quick ? [1, 10, 50] : [1, 100, 1000],
  events: Number(value('events') ?? (quick ? 20 : 200)),
  warmup: quick ? 5 : 20,
  batch: 50,
  throughput: { sockets: 10, concurrencies: [16, 64], seconds: quick ? 2 : 10 },
  starts: quick ? 2 : 5,
  deadlineMinutes: 15,
};

const log = (m) => process.stderr.write(m + '\n');
const cleanup = new Cleanup();
let finished = false;
async function abort(why, code) {
  if (finished) return;
  finished = true;
  log(`bench: ${why}; stopping everything`);
  await cleanup.runAll();
  process.exit(code);
}
const deadline = setTimeout(() => abort(`global deadline of ${cfg.deadlineMinutes} min reached`, 2), cfg.deadlineMinutes * 60000);
deadline.unref();
process.on('SIGINT', () => abort('interrupted', 130));
process.on('SIGTERM', () => abort('terminated', 143));

if (!existsSync('build/index.js') || !existsSync('build/index_bg.wasm')) {
  log('bench: build/ is missing: run `npm run build` first');
  process.exit(1);
}

function sh(cmd, argv) {
  try {
    return execFileSync(cmd, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}
const pkgVersion = (p) => {
  try {
    return JSON.parse(readFileSync(p, 'utf8')).version;
  } catch {
    return null;
  }
};

const meta = {
  date: new Date().toISOString(),
  quick,
  config: cfg,
  machine: {
    nproc: Number(sh('nproc', [])) || os.availableParallelism(),
    cpu: (readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/) ?? [])[1] ?? os.cpus()[0]?.model,
    memTotalGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    kernel: os.release(),
  },
  runtime: {
    node: process.version,
    miniflare: pkgVersion('node_modules/miniflare/package.json'),
    workerd: sh('node_modules/.bin/workerd', ['--version'])?.replace(/^workerd /, '') ?? pkgVersion('node_modules/workerd/package.json'),
    ws: pkgVersion('node_modules/ws/package.json'),
    network: 'loopback (127.0.0.1), driver and server on the same machine',
  },
  git: { commit: sh('git', ['rev-parse', '--short', 'HEAD']), dirty: Boolean(sh('git', ['status', '--porcelain', '--', 'src', 'Cargo.toml', 'Cargo.lock'])) },
};

const results = { meta, latency: {}, ratios: {}, throughput: null, size: null, coldStart: {} };

async function main() {
  const started = performance.now();
  const ours = await import('./lib/ours.mjs');
  const common = { ns: cfg.ns, events: cfg.events, warmup: cfg.warmup, batch: cfg.batch, log, cleanup };

  if (only.includes('size')) results.size = ours.oursSize();
  if (only.includes('latency')) {
    log(`bench: latency, ours (Rust Worker, full path) — N=${cfg.ns.join('/')}, ${cfg.warmup}+${cfg.events} events each`);
    results.latency.ours = await ours.oursLatency(common);
  }
  if (only.includes('a')) {
    log('bench: latency, baseline A (thinnest JS Durable Object, same workerd)');
    const { baselineLatency } = await import('./lib/baseline-js.mjs');
    results.latency.baselineA = await baselineLatency(common);
  }
  if (only.includes('b')) {
    log('bench: latency, baseline B (Express + Socket.IO + jsonwebtoken, the seed stack)');
    const { peerLatency } = await import('./lib/peer.mjs');
    results.latency.baselineB = await peerLatency(common);
    results.latency.baselineB.versions = {
      express: pkgVersion('bench/peer/node_modules/express/package.json'),
      'socket.io': pkgVersion('bench/peer/node_modules/socket.io/package.json'),
      'socket.io-client': pkgVersion('bench/peer/node_modules/socket.io-client/package.json'),
      jsonwebtoken: pkgVersion('bench/peer/node_modules/jsonwebtoken/package.json'),
    };
  }
  if (only.includes('throughput')) {
    log(`bench: throughput, ours — ${cfg.throughput.sockets} sockets, concurrency ${cfg.throughput.concurrencies.join('/')}, ${cfg.throughput.seconds} s each`);
    results.throughput = await ours.oursThroughput({ ...cfg.throughput, log, cleanup });
  }
  if (only.includes('start')) {
    log(`bench: cold start (${cfg.starts} fresh Miniflare/workerd instances each)`);
    results.coldStart.ours = await ours.oursColdStart({ starts: cfg.starts, log, cleanup });
    const { baselineColdStart } = await import('./lib/baseline-js.mjs');
    results.coldStart.baselineA = await baselineColdStart({ starts: cfg.starts, log, cleanup });
  }

  for (const [key, name] of [
    ['baselineA', 'oursOverA'],
    ['baselineB', 'oursOverB'],
  ]) {
    const o = results.latency.ours?.series;
    const t = results.latency[key]?.series;
    if (!o || !t) continue;
    results.ratios[name] = o.map((s, i) => ({ n: s.n, p50: ratio(s.p50, t[i]?.p50), p99: ratio(s.p99, t[i]?.p99) }));
  }
  results.meta.seconds = Math.round((performance.now() - started) / 100) / 10;
}

// ---- output ---------------------------------------------------------------------------
const pad = (s, n) => String(s).padEnd(n);
const lpad = (s, n) => String(s).padStart(n);
const f = (x) => (x === null || x === undefined ? '—' : x >= 100 ? x.toFixed(0) : x.toFixed(1));
const kib = (b) => `${(b / 1024).toFixed(1)} KiB`;

function table() {
  const out = [];
  const L = results.latency;
  const stacks = [
    ['ours', 'ours: Rust Worker, full path'],
    ['baselineA', 'A: thinnest JS Durable Object'],
    ['baselineB', 'B: Express + Socket.IO (seed)'],
  ].filter(([k]) => L[k]);
  if (stacks.length) {
    out.push(`Webhook -> every socket has the message, ms: p50 / p99 / max  (${cfg.events} sequential events per N, after ${cfg.warmup} warm-up)`);
    out.push(pad('stack', 32) + cfg.ns.map((n) => lpad(`N=${n}`, 22)).join('') + lpad('POST->200 p50 (N=1)', 22));
    for (const [k, label] of stacks) {
      const row = L[k].series.map((s) => `${f(s.p50)} / ${f(s.p99)} / ${f(s.max)}`);
      out.push(pad(label, 32) + row.map((r) => lpad(r, 22)).join('') + lpad(f(L[k].series[0]?.response.p50), 22));
    }
    for (const [k, label] of [
      ['oursOverA', 'ratio ours / A  (p50, p99)'],
      ['oursOverB', 'ratio ours / B  (p50, p99)'],
    ]) {
      const r = results.ratios[k];
      if (r) out.push(pad(label, 32) + r.map((x) => lpad(`${x.p50 ?? '—'}x, ${x.p99 ?? '—'}x`, 22)).join(''));
    }
    const problems = stacks.flatMap(([k, label]) =>
      L[k].series.filter((s) => s.lost || s.errors || s.deliveredMismatch).map((s) => `${label} N=${s.n}: lost ${s.lost}, errors ${s.errors}, delivered!=N ${s.deliveredMismatch}`),
    );
    out.push(problems.length ? 'problems: ' + problems.join('; ') : 'every measured event reached every socket; no errors');
    out.push('');
  }
  if (results.throughput) {
    out.push(`Throughput, ours (signed webhooks, full path, ${cfg.throughput.sockets} admin sockets, ${cfg.throughput.seconds} s per row)`);
    out.push(['concurrency', 'webhooks/s', 'accepted', 'errors', 'lost', 'POST p50 ms', 'POST p99 ms'].map((h) => lpad(h, 13)).join(''));
    for (const t of results.throughput) {
      out.push([t.concurrency, t.perSecond, t.accepted, t.errors, t.lost, f(t.response.p50), f(t.response.p99)].map((h) => lpad(h, 13)).join(''));
    }
    out.push('lost = accepted (200) but not received by every socket within 30 s, or no row in D1 `calls`');
    out.push('');
  }
  if (results.size) {
    const s = results.size;
    out.push(`Size: index_bg.wasm ${s.wasmBytes} B (${kib(s.wasmBytes)}), gzip ${s.wasmGzipBytes} B (${kib(s.wasmGzipBytes)}); index.js ${s.jsBytes} B, gzip ${s.jsGzipBytes} B`);
  }
  for (const [k, label] of [
    ['ours', 'ours (GET /api/health)'],
    ['baselineA', 'baseline A (GET /health)'],
  ]) {
    const c = results.coldStart[k];
    if (c) out.push(`Cold start to first 200, ${label}: median ${f(c.firstResponse.p50)} ms (min ${f(c.firstResponse.min)}, max ${f(c.firstResponse.max)}, ${c.starts} starts; workerd ready after ${f(c.ready.p50)} ms)`);
  }
  const m = results.meta;
  out.push(`Machine: ${m.machine.nproc} cores (${m.machine.cpu}), ${m.machine.memTotalGiB} GiB; node ${m.runtime.node}, miniflare ${m.runtime.miniflare}, workerd ${m.runtime.workerd}; ${m.seconds ?? '?'} s`);
  return out.join('\n');
}

try {
  await main();
} catch (e) {
  log(`bench: failed: ${e.stack ?? e}`);
  results.error = String(e.message ?? e);
  process.exitCode = 1;
} finally {
  await cleanup.runAll();
  clearTimeout(deadline);
}
if (!finished) {
  finished = true;
  mkdirSync('bench/results', { recursive: true });
  const file = quick ? 'bench/results/quick.json' : 'bench/results/latest.json';
  writeFileSync(file + '.tmp', JSON.stringify(results, null, 2) + '\n');
  renameSync(file + '.tmp', file);
  console.log('\n' + table() + `\n\nSaved ${file}`);
}
