// @ts-check
// `npm run bench`: latency (webhook -> every socket) of the product and three baselines at
// 1/100/1000 sockets, the webhook throughput of the product, of the like-for-like baseline and
// of the thinnest object (the platform's ceiling),
// the product's size and cold start. Prints a table and writes bench/results/latest.{json,md}
// (quick and partial runs: quick.*, partial.*, git-ignored). Loopback only; every loop is
// bounded in count and time, and a global deadline stops the run whatever happens. Builds
// build/ first (scripts/build.sh) when it is missing. See docs/benchmarks.md.
// The baselines live in bench/baselines/ (a-thinnest, b-seed-stack, c-like-for-like,
// r-rust-floor), each with its worker (or server) and its driver; bench/lib/ holds what they
// and the product's driver (lib/ours.mjs) share.
//
//   node bench/run.mjs [--quick] [--only=latency,a,like,b,deflate,throughput,size,start] [--events=N]
//                      [--only=a,r]    baseline R (A in Rust) beside A: not in the default run;
//                                      builds R first when its build/ is missing (~1 min)
//                      [--build=DIR]   another worker-build output than build/ (index.js + wasm)
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
const only = value('only')?.split(',') ?? [
  'latency',
  'a',
  'like',
  'b',
  'deflate',
  'throughput',
  'size',
  'start',
];
const cfg = {
  ns: quick ? [1, 10, 50] : [1, 100, 1000],
  events: Number(value('events') ?? (quick ? 20 : 200)),
  warmup: quick ? 5 : 50,
  batch: 50,
  throughput: { sockets: 10, concurrencies: [16, 64], seconds: quick ? 2 : 10 },
  starts: quick ? 2 : 5,
  deadlineMinutes: 15,
  // A latency series disturbed by other work on the machine is measured once more, within
  // this total budget.
  retry: { attempts: quick ? 0 : 1, budgetMs: quick ? 0 : 120000 },
  buildDir: value('build') ? resolve(value('build')) : undefined,
};

const log = (m) => process.stderr.write(m + '\n');

// The sections that run the product need its build. A fresh clone has none: build it first
// (before the global deadline starts; the build's own output goes to stderr).
const buildDir = cfg.buildDir ?? 'build';
const built = () =>
  ['', '/pop'].every(
    (d) => existsSync(`${buildDir}${d}/index.js`) && existsSync(`${buildDir}${d}/index_bg.wasm`),
  );
if (
  ['latency', 'deflate', 'throughput', 'size', 'start'].some((s) => only.includes(s)) &&
  !built()
) {
  if (cfg.buildDir) {
    log(`bench: ${buildDir}/index.js or index_bg.wasm is missing`);
    process.exit(1);
  }
  log(
    'bench: build/ is missing: building the Worker first (bash scripts/build.sh, release; a few minutes)',
  );
  try {
    execFileSync('bash', ['scripts/build.sh'], { stdio: ['ignore', 2, 2] });
  } catch {
    log(
      'bench: the build failed (see above); fix it or run `npm run build`, then run the bench again',
    );
    process.exit(1);
  }
  if (!built()) {
    log('bench: scripts/build.sh finished but build/index.js or index_bg.wasm is still missing');
    process.exit(1);
  }
}
// Baseline R is Rust too: its own build, also before the deadline starts.
if (only.includes('r')) {
  const { ensureRustFloorBuilt } = await import('./baselines/r-rust-floor/driver.mjs');
  try {
    ensureRustFloorBuilt(log);
  } catch (e) {
    log(`bench: baseline R's build failed (${e.message}); see above`);
    process.exit(1);
  }
}
const cleanup = new Cleanup();
let finished = false;
async function abort(why, code) {
  if (finished) return;
  finished = true;
  log(`bench: ${why}; stopping everything`);
  await cleanup.runAll();
  process.exit(code);
}
const deadline = setTimeout(
  () => abort(`global deadline of ${cfg.deadlineMinutes} min reached`, 2),
  cfg.deadlineMinutes * 60000,
);
deadline.unref();
process.on('SIGINT', () => abort('interrupted', 130));
process.on('SIGTERM', () => abort('terminated', 143));

function sh(cmd, argv) {
  try {
    return execFileSync(cmd, argv, {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
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
    cpu:
      (readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/) ?? [])[1] ??
      os.cpus()[0]?.model,
    memTotalGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    kernel: os.release(),
    loadAverageAtStart: os.loadavg().map((x) => Math.round(x * 100) / 100),
  },
  runtime: {
    node: process.version,
    miniflare: pkgVersion('node_modules/miniflare/package.json'),
    workerd:
      sh('node_modules/.bin/workerd', ['--version'])?.replace(/^workerd /, '') ??
      pkgVersion('node_modules/workerd/package.json'),
    ws: pkgVersion('node_modules/ws/package.json'),
    network: 'loopback (127.0.0.1), driver and server on the same machine',
  },
  git: {
    commit: sh('git', ['rev-parse', '--short', 'HEAD']),
    dirty: Boolean(sh('git', ['status', '--porcelain', '--', 'src', 'Cargo.toml', 'Cargo.lock'])),
  },
};

const results = {
  meta,
  latency: {},
  ratios: {},
  throughput: null,
  throughputC: null,
  throughputA: null,
  throughputR: null,
  size: null,
  coldStart: {},
};

const { waitQuiet } = await import('./lib/cpu.mjs');
results.meta.otherLoadBeforeSection = {};
/** Other people's builds and tests share these 2 cores: wait (bounded) for a quiet moment. */
async function quiet(section) {
  const other = await waitQuiet({ maxMs: 30000 });
  results.meta.otherLoadBeforeSection[section] = other;
  if (other >= 0.25)
    log(
      `bench: the machine is busy with other work (${other} cores) before ${section}; going on anyway`,
    );
}

async function main() {
  const started = performance.now();
  const ours = await import('./lib/ours.mjs');
  const retry = { ...cfg.retry };
  const common = {
    ns: cfg.ns,
    events: cfg.events,
    warmup: cfg.warmup,
    batch: cfg.batch,
    log,
    cleanup,
    buildDir: cfg.buildDir,
    retry,
  };

  if (only.includes('size')) results.size = ours.oursSize(cfg.buildDir);
  if (only.includes('latency')) {
    await quiet('latency');
    log(
      `bench: latency, ours (Rust Worker, full path) — N=${cfg.ns.join('/')}, ${cfg.warmup}+${cfg.events} events each`,
    );
    results.latency.ours = await ours.oursLatency(common);
  }
  if (only.includes('a')) {
    await quiet('a');
    log('bench: latency, baseline A (thinnest JS Durable Object, same workerd)');
    const { baselineLatency } = await import('./baselines/a-thinnest/driver.mjs');
    results.latency.baselineA = await baselineLatency(common);
  }
  if (only.includes('like')) {
    await quiet('like');
    log(
      'bench: latency, baseline C (like for like: the same pipeline as a JS Worker + Durable Object)',
    );
    const { likeLatency } = await import('./baselines/c-like-for-like/driver.mjs');
    results.latency.baselineC = await likeLatency(common);
  }
  if (only.includes('r')) {
    await quiet('r');
    log(
      "bench: latency, baseline R (A's Worker and object in Rust, the product's stack; A's requests)",
    );
    const { rustFloorLatency } = await import('./baselines/r-rust-floor/driver.mjs');
    results.latency.baselineR = await rustFloorLatency(common);
  }
  if (only.includes('b')) {
    await quiet('b');
    log('bench: latency, baseline B (Express + Socket.IO + jsonwebtoken, the seed stack)');
    const { peerLatency } = await import('./baselines/b-seed-stack/driver.mjs');
    results.latency.baselineB = await peerLatency(common);
    results.latency.baselineB.versions = {
      express: pkgVersion('bench/baselines/b-seed-stack/node_modules/express/package.json'),
      'socket.io': pkgVersion('bench/baselines/b-seed-stack/node_modules/socket.io/package.json'),
      'socket.io-client': pkgVersion(
        'bench/baselines/b-seed-stack/node_modules/socket.io-client/package.json',
      ),
      jsonwebtoken: pkgVersion(
        'bench/baselines/b-seed-stack/node_modules/jsonwebtoken/package.json',
      ),
    };
  }
  if (only.includes('deflate')) {
    await quiet('deflate');
    log(
      'bench: latency with permessage-deflate negotiated (what a browser gets from workerd): ours, then baseline A',
    );
    results.latency.oursDeflate = await ours.oursLatency({ ...common, deflate: true });
    const { baselineLatency } = await import('./baselines/a-thinnest/driver.mjs');
    results.latency.baselineADeflate = await baselineLatency({ ...common, deflate: true });
  }
  if (only.includes('throughput')) {
    await quiet('throughput');
    log(
      `bench: throughput, ours — ${cfg.throughput.sockets} sockets, concurrency ${cfg.throughput.concurrencies.join('/')}, ${cfg.throughput.seconds} s each`,
    );
    results.throughput = await ours.oursThroughput({
      ...cfg.throughput,
      log,
      cleanup,
      buildDir: cfg.buildDir,
    });
    await quiet('throughputC');
    log(`bench: throughput, baseline C — the same load`);
    const { likeThroughput } = await import('./baselines/c-like-for-like/driver.mjs');
    results.throughputC = await likeThroughput({ ...cfg.throughput, log, cleanup });
    await quiet('throughputA');
    log(
      `bench: throughput, baseline A — the same load on the thinnest Durable Object (no token, no work): the platform's ceiling here`,
    );
    const { baselineThroughput } = await import('./baselines/a-thinnest/driver.mjs');
    results.throughputA = await baselineThroughput({ ...cfg.throughput, log, cleanup });
  }
  if (only.includes('r')) {
    // R's throughput is read against A's: run A's too when the throughput section did not.
    if (!results.throughputA) {
      await quiet('throughputA');
      log(`bench: throughput, baseline A — the load R gets, on the thinnest JS Durable Object`);
      const { baselineThroughput } = await import('./baselines/a-thinnest/driver.mjs');
      results.throughputA = await baselineThroughput({ ...cfg.throughput, log, cleanup });
    }
    await quiet('throughputR');
    log(`bench: throughput, baseline R — A's load on A's shape in Rust`);
    const { rustFloorThroughput } = await import('./baselines/r-rust-floor/driver.mjs');
    results.throughputR = await rustFloorThroughput({ ...cfg.throughput, log, cleanup });
  }
  if (only.includes('start')) {
    await quiet('start');
    log(`bench: cold start (${cfg.starts} fresh Miniflare/workerd instances each)`);
    results.coldStart.oursPop = await ours.oursPopColdStart({
      starts: cfg.starts,
      log,
      cleanup,
      buildDir: cfg.buildDir,
    });
    results.coldStart.ours = await ours.oursColdStart({
      starts: cfg.starts,
      log,
      cleanup,
      buildDir: cfg.buildDir,
    });
    const { baselineColdStart, baselineBroadcastColdStart } = await import(
      './baselines/a-thinnest/driver.mjs'
    );
    results.coldStart.baselineA = await baselineColdStart({ starts: cfg.starts, log, cleanup });
    results.coldStart.baselineADo = await baselineBroadcastColdStart({
      starts: cfg.starts,
      log,
      cleanup,
    });
  }

  for (const [mine, key, name] of [
    ['ours', 'baselineA', 'oursOverA'],
    ['ours', 'baselineC', 'oursOverC'],
    ['baselineC', 'baselineA', 'cOverA'],
    ['baselineR', 'baselineA', 'rOverA'],
    ['ours', 'baselineB', 'oursOverB'],
    ['oursDeflate', 'baselineADeflate', 'oursOverADeflate'],
  ]) {
    const o = results.latency[mine]?.series;
    const t = results.latency[key]?.series;
    if (!o || !t) continue;
    results.ratios[name] = o.map((s, i) => ({
      n: s.n,
      p50: ratio(s.p50, t[i]?.p50),
      p99: ratio(s.p99, t[i]?.p99),
    }));
  }
  results.meta.seconds = Math.round((performance.now() - started) / 100) / 10;
  const now = results.size && ours.oursSize(cfg.buildDir);
  if (
    now &&
    (now.wasmSha256 !== results.size.wasmSha256 ||
      now.console.wasmSha256 !== results.size.console.wasmSha256)
  ) {
    results.meta.buildChangedDuringRun = true;
    log(
      `bench: WARNING: a module in ${buildDir}/ or ${buildDir}/pop/ changed during the run (rebuilt by someone?); figures mix two builds`,
    );
  }
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
    ['baselineC', 'C: same pipeline, JS Worker+DO'],
    ['baselineR', 'R: A in Rust (product stack)'],
    ['baselineB', 'B: Express + Socket.IO (seed)'],
    ['oursDeflate', 'ours, permessage-deflate'],
    ['baselineADeflate', 'A, permessage-deflate'],
  ].filter(([k]) => L[k]);
  if (stacks.length) {
    out.push(
      `Webhook -> every socket has the message, ms: p50 / p99 / max  (${cfg.events} sequential events per N, after ${cfg.warmup} warm-up)`,
    );
    out.push(
      pad('stack', 32) +
        cfg.ns.map((n) => lpad(`N=${n}`, 22)).join('') +
        lpad('POST->200 p50 (N=1)', 22),
    );
    for (const [k, label] of stacks) {
      const row = L[k].series.map((s) => `${f(s.p50)} / ${f(s.p99)} / ${f(s.max)}`);
      out.push(
        pad(label, 32) +
          row.map((r) => lpad(r, 22)).join('') +
          lpad(f(L[k].series[0]?.response.p50), 22),
      );
    }
    for (const [k, label] of [
      ['oursOverA', 'ratio ours / A  (p50, p99)'],
      ['oursOverC', 'ratio ours / C  (p50, p99)'],
      ['cOverA', 'ratio C / A  (p50, p99)'],
      ['rOverA', 'ratio R / A  (p50, p99)'],
      ['oursOverB', 'ratio ours / B  (p50, p99)'],
      ['oursOverADeflate', 'ratio, both deflate: ours / A'],
    ]) {
      const r = results.ratios[k];
      if (r)
        out.push(
          pad(label, 32) + r.map((x) => lpad(`${x.p50 ?? '—'}x, ${x.p99 ?? '—'}x`, 22)).join(''),
        );
    }
    out.push(pad('time to open the sockets, ms', 32));
    for (const [k, label] of stacks) {
      out.push(
        pad('  ' + label, 32) +
          L[k].series
            .map((s, i) =>
              lpad(
                `${i ? '+' : ''}${s.n - (L[k].series[i - 1]?.n ?? 0)} in ${s.openMs ?? '—'}`,
                22,
              ),
            )
            .join(''),
      );
    }
    out.push(pad('CPU busy, cores: server/driver/other', 32));
    for (const [k, label] of stacks) {
      out.push(
        pad('  ' + label, 32) +
          L[k].series
            .map((s) =>
              lpad(
                s.cpu ? `${s.cpu.serverCores} / ${s.cpu.driverCores} / ${s.cpu.otherCores}` : '—',
                22,
              ),
            )
            .join(''),
      );
    }
    const problems = stacks.flatMap(([k, label]) =>
      L[k].series
        .filter((s) => s.lost || s.errors || s.deliveredMismatch)
        .map(
          (s) =>
            `${label} N=${s.n}: lost ${s.lost}, errors ${s.errors}, delivered!=N ${s.deliveredMismatch}`,
        ),
    );
    out.push(
      problems.length
        ? 'problems: ' + problems.join('; ')
        : 'every measured event reached every socket; no errors',
    );
    const trips = L.ours?.series.map((s) => s.d1RoundTripsBefore200).filter(Boolean);
    if (trips?.length)
      out.push(
        `ours: D1 round trips before the 200, per measured webhook: at most ${Math.max(...trips.map((x) => x.max))} (total ${trips.reduce((a, x) => a + x.total, 0)} over ${L.ours.series.reduce((a, s) => a + s.events, 0)} webhooks)`,
      );
    const d1 = L.baselineC?.d1;
    if (d1)
      out.push(
        `C's outbox drained into D1 ${d1.drainMs ?? '(not within 30 s)'} ms after its last event: ${d1.missingRows} of ${d1.accepted} accepted calls without a D1 row`,
      );
    const shared = stacks.flatMap(([k, label]) =>
      L[k].series
        .filter((s) => s.cpu?.otherCores >= 0.25)
        .map((s) => `${label} N=${s.n} (${s.cpu.otherCores})`),
    );
    if (shared.length)
      out.push('shared the cores with other work (other >= 0.25): ' + shared.join('; '));
    out.push('');
  }
  for (const [rows, title] of [
    [
      results.throughput,
      `Throughput, ours (signed webhooks, full path, ${cfg.throughput.sockets} admin sockets, ${cfg.throughput.seconds} s per row)`,
    ],
    [
      results.throughputC,
      `Throughput, baseline C (the same webhooks and sockets; D1 rows counted after its outbox drained)`,
    ],
    [
      results.throughputA,
      `Throughput, baseline A (the same sockets; each request only crosses the Worker into the object and out to them: this machine's ceiling for the path)`,
    ],
    [
      results.throughputR,
      `Throughput, baseline R (A's load on A's shape in Rust: the ceiling with the product's stack)`,
    ],
  ]) {
    if (!rows) continue;
    out.push(title);
    out.push(
      [
        'concurrency',
        'webhooks/s',
        'accepted',
        'errors',
        'lost',
        'POST p50 ms',
        'POST p99 ms',
        'workerd cores',
        'driver cores',
        'other cores',
      ]
        .map((h) => lpad(h, 14))
        .join(''),
    );
    for (const t of rows) {
      out.push(
        [
          t.concurrency,
          t.perSecond,
          t.accepted,
          t.errors,
          t.lost,
          f(t.response.p50),
          f(t.response.p99),
          t.cpu.serverCores,
          t.cpu.driverCores,
          t.cpu.otherCores,
        ]
          .map((h) => lpad(h, 14))
          .join(''),
      );
    }
    out.push(
      rows === results.throughputA || rows === results.throughputR
        ? 'lost = accepted (200) but not received by every socket within 30 s (A and R write no rows)'
        : 'lost = accepted (200) but not received by every socket within 30 s, or no row in D1 `calls`',
    );
    out.push('');
  }
  if (results.size) {
    const s = results.size;
    const c = s.console;
    out.push(
      `Size, console Worker: build/index_bg.wasm ${c.wasmBytes} B (${kib(c.wasmBytes)}), gzip ${c.wasmGzipBytes} B (${kib(c.wasmGzipBytes)})`,
    );
    out.push(
      `Size, pop Worker: build/pop/index_bg.wasm ${s.wasmBytes} B (${kib(s.wasmBytes)}), gzip ${s.wasmGzipBytes} B (${kib(s.wasmGzipBytes)}); index.js ${s.jsBytes} B, gzip ${s.jsGzipBytes} B`,
    );
    out.push(
      `      wasm sections: code ${kib(s.sections.code)}, data ${kib(s.sections.data)}, name (function names; 0 when scripts/build.sh stripped it) ${kib(s.sections.name)}; without the name section ${kib(s.withoutNameSection.wasmBytes)}, gzip ${kib(s.withoutNameSection.wasmGzipBytes)}`,
    );
  }
  for (const [k, label] of [
    ['oursPop', 'ours, pop Worker alone (a signed delivery)'],
    ['ours', 'ours, both Workers (GET /api/health)'],
    ['baselineA', 'baseline A (GET /health)'],
    ['baselineADo', 'baseline A through its Durable Object (POST /broadcast)'],
  ]) {
    const c = results.coldStart[k];
    if (c)
      out.push(
        `Cold start to first 200, ${label}: median ${f(c.firstResponse.p50)} ms (min ${f(c.firstResponse.min)}, max ${f(c.firstResponse.max)}, ${c.starts} starts; workerd ready after ${f(c.ready.p50)} ms)`,
      );
  }
  const m = results.meta;
  out.push(
    `Machine: ${m.machine.nproc} cores (${m.machine.cpu}), ${m.machine.memTotalGiB} GiB, load average at start ${m.machine.loadAverageAtStart.join(' ')}; node ${m.runtime.node}, miniflare ${m.runtime.miniflare}, workerd ${m.runtime.workerd}; ${m.seconds ?? '?'} s`,
  );
  return out.join('\n');
}

/** The same figures as Markdown tables (bench/results/latest.md), for docs/benchmarks.md. */
function markdown() {
  const out = [];
  const L = results.latency;
  const m = results.meta;
  const rows = [
    ['ours', 'ours — Rust Worker, full path'],
    ['baselineA', 'A — thinnest JS Durable Object'],
    ['baselineC', 'C — same pipeline, JS Worker + Durable Object'],
    ['baselineR', "R — A in Rust, the product's stack"],
    ['baselineB', 'B — Express + Socket.IO (seed stack)'],
    ['oursDeflate', 'ours, permessage-deflate'],
    ['baselineADeflate', 'A, permessage-deflate'],
  ].filter(([k]) => L[k]);
  const cell = (s) => `${f(s.p50)} / ${f(s.p99)} / ${f(s.max)}`;
  const other = (s) => (s.cpu?.otherCores >= 0.25 ? ' ⚠' : '');
  if (rows.length) {
    out.push(
      `| webhook → every socket, ms (p50 / p99 / max) | ${cfg.ns.map((n) => `N=${n}`).join(' | ')} | POST→200 p50, N=1 |`,
    );
    out.push(`| --- | ${cfg.ns.map(() => '---:').join(' | ')} | ---: |`);
    for (const [k, label] of rows)
      out.push(
        `| ${label} | ${L[k].series.map((s) => cell(s) + other(s)).join(' | ')} | ${f(L[k].series[0]?.response.p50)} |`,
      );
    for (const [k, label] of [
      ['oursOverA', 'ratio ours / A (p50, p99)'],
      ['oursOverC', 'ratio ours / C (p50, p99)'],
      ['cOverA', 'ratio C / A (p50, p99)'],
      ['rOverA', 'ratio R / A (p50, p99)'],
      ['oursOverB', 'ratio ours / B (p50, p99)'],
      ['oursOverADeflate', 'ratio ours / A, both deflate'],
    ]) {
      const r = results.ratios[k];
      if (r) out.push(`| ${label} | ${r.map((x) => `${x.p50}× , ${x.p99}×`).join(' | ')} | |`);
    }
    out.push('');
    out.push(
      `| time to open the sockets, ms | ${cfg.ns.map((n, i) => (i ? `+${n - cfg.ns[i - 1]}` : `${n}`)).join(' | ')} |`,
    );
    out.push(`| --- | ${cfg.ns.map(() => '---:').join(' | ')} |`);
    for (const [k, label] of rows)
      out.push(`| ${label} | ${L[k].series.map((s) => s.openMs ?? '—').join(' | ')} |`);
    out.push('');
    out.push(
      `| CPU busy during the measured events, cores: server / driver / other | ${cfg.ns.map((n) => `N=${n}`).join(' | ')} |`,
    );
    out.push(`| --- | ${cfg.ns.map(() => '---:').join(' | ')} |`);
    for (const [k, label] of rows)
      out.push(
        `| ${label} | ${L[k].series.map((s) => (s.cpu ? `${s.cpu.serverCores} / ${s.cpu.driverCores} / ${s.cpu.otherCores}` : '—')).join(' | ')} |`,
      );
    out.push('');
    const d1 = L.baselineC?.d1;
    if (d1) {
      out.push(
        `C's outbox drained into D1 ${d1.drainMs ?? '(not within 30 s)'} ms after its last event: ${d1.missingRows} of ${d1.accepted} accepted calls without a D1 row.`,
      );
      out.push('');
    }
  }
  if (results.throughput || results.throughputC || results.throughputA || results.throughputR) {
    out.push(
      `| throughput, ${cfg.throughput.sockets} sockets, ${cfg.throughput.seconds} s | webhooks/s | accepted | errors | lost | POST p50 ms | POST p99 ms | cores: workerd / driver / other |`,
    );
    out.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const [rows, who] of [
      [results.throughput, 'ours'],
      [results.throughputC, 'C'],
      [results.throughputA, 'A (no work)'],
      [results.throughputR, 'R (no work)'],
    ]) {
      for (const t of rows ?? []) {
        out.push(
          `| ${who}, concurrency ${t.concurrency} | ${t.perSecond} | ${t.accepted} | ${t.errors} | ${t.lost} | ${f(t.response.p50)} | ${f(t.response.p99)} | ${t.cpu.serverCores} / ${t.cpu.driverCores} / ${t.cpu.otherCores}${t.cpu.otherCores >= 0.25 ? ' ⚠' : ''} |`,
        );
      }
    }
    out.push('');
  }
  if (results.size) {
    const s = results.size;
    out.push('| size | raw | gzip |');
    out.push('| --- | ---: | ---: |');
    out.push(
      `| console Worker: build/index_bg.wasm | ${s.console.wasmBytes} B (${kib(s.console.wasmBytes)}) | ${s.console.wasmGzipBytes} B (${kib(s.console.wasmGzipBytes)}) |`,
    );
    out.push(
      `| pop Worker: build/pop/index_bg.wasm | ${s.wasmBytes} B (${kib(s.wasmBytes)}) | ${s.wasmGzipBytes} B (${kib(s.wasmGzipBytes)}) |`,
    );
    out.push(
      `| pop Worker: … of which the name section | ${s.sections.name} B (${kib(s.sections.name)}) | |`,
    );
    out.push(
      `| pop Worker: index_bg.wasm without the name section | ${s.withoutNameSection.wasmBytes} B (${kib(s.withoutNameSection.wasmBytes)}) | ${s.withoutNameSection.wasmGzipBytes} B (${kib(s.withoutNameSection.wasmGzipBytes)}) |`,
    );
    out.push(`| pop Worker: index.js | ${s.jsBytes} B | ${s.jsGzipBytes} B |`);
    out.push(`| console Worker: index.js | ${s.console.jsBytes} B | ${s.console.jsGzipBytes} B |`);
    out.push('');
  }
  const cs = Object.entries(results.coldStart);
  if (cs.length) {
    out.push(
      '| cold start: new Miniflare → first 200 | median ms | min | max | starts | workerd ready, median ms |',
    );
    out.push('| --- | ---: | ---: | ---: | ---: | ---: |');
    for (const [k, c] of cs) {
      const name =
        {
          ours: 'ours, both Workers, GET /api/health',
          oursPop: 'ours, pop Worker alone, signed delivery (POST)',
          baselineADo: 'A, POST /broadcast (through its Durable Object)',
        }[k] ?? 'A, GET /health';
      out.push(
        `| ${name} | ${f(c.firstResponse.p50)} | ${f(c.firstResponse.min)} | ${f(c.firstResponse.max)} | ${c.starts} | ${f(c.ready.p50)} |`,
      );
    }
    out.push('');
  }
  out.push(
    `Run ${m.date}, commit ${m.git.commit}${m.git.dirty ? ' (src modified)' : ''}, wasm sha256 ${results.size?.wasmSha256 ?? '?'}…, ${m.seconds ?? '?'} s. ` +
      `${m.machine.nproc} cores (${m.machine.cpu}), ${m.machine.memTotalGiB} GiB; node ${m.runtime.node}, miniflare ${m.runtime.miniflare}, workerd ${m.runtime.workerd}. ` +
      '⚠ = other processes kept ≥ 0.25 cores busy during that measurement.',
  );
  return out.join('\n') + '\n';
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
  // Only a complete, normal run replaces latest.*; --quick and --only runs go elsewhere.
  const complete = !value('only') && !value('events') && !cfg.buildDir;
  const file = quick
    ? 'bench/results/quick.json'
    : complete
      ? 'bench/results/latest.json'
      : 'bench/results/partial.json';
  writeFileSync(file + '.tmp', JSON.stringify(results, null, 2) + '\n');
  renameSync(file + '.tmp', file);
  const md = file.replace(/\.json$/, '.md');
  writeFileSync(md + '.tmp', markdown());
  renameSync(md + '.tmp', md);
  console.log('\n' + table() + `\n\nSaved ${file}`);
}
