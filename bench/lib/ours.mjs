// @ts-check
// The product: the two built Rust Workers (console build/index.js, pop build/pop/index.js, each
// with its index_bg.wasm) in workerd via Miniflare, with local D1 (migrated, demo data seeded) and the SQLite-backed hub, through
// the integration tests' harness. Every webhook takes the full path: JWT verification, D1
// batch (event log + store prefixes + customer lookup), D1 call-log upsert + pop claim, hub
// broadcast (with its own SQLite insert), D1 mark-delivered.
import { Miniflare } from 'miniflare';
import { readFileSync, statSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { gzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import {
  startWorker,
  miniflareOptions,
  callEvent,
  signHS256,
  WEBHOOK_SECRET,
  WorkerClient,
} from '../../tests/helpers/worker.mjs';
import { applyMigrations } from '../../scripts/lib/sql.mjs';
import { seedDemo } from '../../scripts/lib/seed.mjs';
import { FanIn } from './fanin.mjs';
import { WsFleet } from './wsclients.mjs';
import { latencySeries } from './latency.mjs';
import { summarize } from './stats.mjs';
import { throughputRows, d1CallIds } from './throughput.mjs';
import { sectionSizes, withoutNameSection } from './wasm.mjs';

const quiet = { onLog: () => {} }; // one JSON log line per webhook would flood the output

/** The harness's options, with another build directory when `--build=DIR` was given. */
function options(buildDir, extra = {}) {
  const o = miniflareOptions({ ...quiet, ...extra });
  if (buildDir) {
    o.workers[0].scriptPath = join(buildDir, 'index.js');
    o.workers[1].scriptPath = join(buildDir, 'pop', 'index.js');
  }
  return o;
}

/** startWorker() of the tests' harness, or the same steps on another build directory. */
async function start(buildDir) {
  if (!buildDir) return startWorker(quiet);
  const mf = new Miniflare(options(buildDir));
  const url = (await mf.ready).toString().replace(/\/$/, '');
  const db = await mf.getD1Database('DB');
  await applyMigrations(db);
  await seedDemo(db);
  return new WorkerClient(mf, url, db);
}

/** Signed webhooks to `url`, one per call: what every Worker stack (ours, baseline C) is sent. */
export function webhookSender(url) {
  return () => {
    const ev = callEvent(); // new call id, ringing, +819012345678 (a seeded customer) -> 西船橋
    const body = signHS256(ev, WEBHOOK_SECRET);
    return {
      id: String(ev.call_id),
      send: () =>
        fetch(url + '/api/dialpad/webhook', {
          method: 'POST',
          headers: { 'content-type': 'application/jwt' },
          body,
        }),
    };
  };
}

async function fleetFor(w, fanin, deflate = false) {
  // A user may hold at most 10 sockets: one login per 10 sockets, logged in ahead (1000
  // sockets at most), each token reused by its 10 sockets.
  const tokens = [];
  for (let i = 0; i < 101; i++) tokens.push((await w.login({ role: 'admin' })).token);
  let opened = 0;
  return new WsFleet({
    url: w.url.replace('http', 'ws') + '/api/cti/socket',
    headers: () => ({
      authorization: `Bearer ${tokens[Math.floor(opened++ / 10) % tokens.length]}`,
    }),
    fanin,
    deflate,
    // A fresh console is sent the latest event of every live call; every benchmark call stays
    // ringing, so without this each later socket would first get hundreds of replayed events.
    resume: true,
  });
}

/** @param {import('./latency.mjs').LatencyOptions} opts */
export async function oursLatency({
  ns,
  events,
  warmup,
  batch,
  log,
  cleanup,
  deflate = false,
  buildDir,
  retry,
}) {
  const w = await start(buildDir);
  const fanin = new FanIn();
  let fleet;
  const release = cleanup.add(async () => {
    fleet?.close();
    await w.close();
  });
  try {
    fleet = await fleetFor(w, fanin, deflate);
    const label = deflate ? 'ours+deflate' : 'ours';
    const out = [];
    for (const n of ns) {
      const t = performance.now();
      await fleet.open(n - fleet.sockets.length, { batch });
      const openMs = Math.round(performance.now() - t);
      log(`  ${label}: ${n} sockets open (+${openMs} ms); ${warmup}+${events} events`);
      const r = await latencySeries(
        { n, events, warmup, fanin, prepare: webhookSender(w.url), log },
        retry,
      );
      r.openMs = openMs;
      r.socketErrors = fleet.errors;
      r.unexpectedCloses = fleet.unexpectedCloses;
      out.push(r);
      log(
        `  ${label} N=${n}: p50 ${r.p50} p99 ${r.p99} max ${r.max} ms (lost ${r.lost}, errors ${r.errors})`,
      );
    }
    return {
      series: out,
      deflate,
      wsExtensions: fleet.extensions,
      messageBytes: fleet.sample ? Buffer.byteLength(fleet.sample) : null,
      sampleMessage: fleet.sample,
    };
  } finally {
    await release();
  }
}

/** @param {import('./throughput.mjs').ThroughputOptions} opts */
export async function oursThroughput({ sockets, concurrencies, seconds, log, cleanup, buildDir }) {
  const w = await start(buildDir);
  const fanin = new FanIn();
  let fleet;
  const release = cleanup.add(async () => {
    fleet?.close();
    await w.close();
  });
  try {
    fleet = await fleetFor(w, fanin);
    await fleet.open(sockets);
    return await throughputRows({
      label: 'ours',
      fanin,
      sockets,
      concurrencies,
      seconds,
      prepare: webhookSender(w.url),
      callIds: () => d1CallIds(w.db),
      // The hub records through its outbox: wait until it has copied everything to D1.
      settle: async () => {
        const t0 = performance.now();
        while ((await w.hub('/stats')).outbox.waiting > 0) {
          if (performance.now() - t0 > 60000) break;
          await new Promise((r) => setTimeout(r, 20));
        }
        return Math.round(performance.now() - t0);
      },
      log,
    });
  } finally {
    await release();
  }
}

/** One module's size (the pop Worker's in `build/pop/`, the console Worker's in `build/`). */
function moduleSize(dir) {
  const wasm = readFileSync(join(dir, 'index_bg.wasm'));
  const js = readFileSync(join(dir, 'index.js'));
  const sections = sectionSizes(wasm);
  const stripped = withoutNameSection(wasm);
  return {
    wasmBytes: wasm.length,
    wasmGzipBytes: gzipSync(wasm).length,
    jsBytes: js.length,
    jsGzipBytes: gzipSync(js).length,
    sections: { code: sections.code, data: sections.data, name: sections['custom:name'] ?? 0 },
    withoutNameSection: { wasmBytes: stripped.length, wasmGzipBytes: gzipSync(stripped).length },
    wasmSha256: createHash('sha256').update(wasm).digest('hex').slice(0, 16),
    buildDir: dir,
    builtAt: statSync(join(dir, 'index_bg.wasm')).mtime.toISOString(),
  };
}

/** The pop Worker's module (what a call's pop loads) with the console Worker's as `console`. */
export function oursSize(buildDir = 'build') {
  return { ...moduleSize(join(buildDir, 'pop')), console: moduleSize(buildDir) };
}

/**
 * Time from `new Miniflare()` (a fresh workerd process) to the first 200 from `path` (a GET,
 * or what `request()` gives: a fresh request per try).
 */
export async function coldStart(
  makeOptions,
  path,
  { starts, log, cleanup, label, request = () => ({}) },
) {
  const ready = [];
  const first = [];
  for (let i = 0; i < starts; i++) {
    const t0 = performance.now();
    const mf = new Miniflare(makeOptions());
    const release = cleanup.add(() => mf.dispose());
    try {
      const url = (await mf.ready).toString().replace(/\/$/, '');
      const tReady = performance.now();
      let ok = false;
      for (let k = 0; k < 300 && !ok; k++) {
        try {
          const res = await fetch(url + path, request());
          await res.arrayBuffer();
          ok = res.status === 200;
        } catch {
          /* not up yet */
        }
        if (!ok) await new Promise((r) => setTimeout(r, 50));
      }
      if (!ok) throw new Error(`${label}: no 200 from ${path} within 15 s`);
      first.push(performance.now() - t0);
      ready.push(tReady - t0);
    } finally {
      await release();
    }
  }
  const r = { starts, firstResponse: summarize(first), ready: summarize(ready) };
  log(`  ${label} cold start: median ${r.firstResponse.p50} ms to first 200 (${starts} starts)`);
  return r;
}

/** Both Workers (the console's assets included), to the console's GET /api/health. */
export const oursColdStart = (o) =>
  coldStart(() => options(o.buildDir), '/api/health', { ...o, label: 'ours, both Workers' });

/**
 * The pop Worker alone (what Dialpad's delivery starts on Cloudflare: no console, no assets),
 * to the 200 of a signed delivery, on a D1 database and hub prepared beforehand (migrated,
 * seeded, the hub's pop index built), as a deployed hub's storage is.
 */
export async function oursPopColdStart(o) {
  const dir = mkdtempSync(join(tmpdir(), 'cti-cold-'));
  try {
    const prep = new Miniflare(options(o.buildDir, { persist: dir }));
    try {
      await prep.ready;
      const db = await prep.getD1Database('DB');
      await applyMigrations(db);
      await seedDemo(db);
      const url = (await prep.ready).toString().replace(/\/$/, '');
      const res = await webhookSender(url)().send();
      if (res.status !== 200)
        throw new Error(`pop cold start: preparing delivery answered ${res.status}`);
    } finally {
      await prep.dispose();
    }
    const popOnly = () => {
      const all = options(o.buildDir, { persist: dir });
      const pop = { ...all.workers[1] };
      delete pop.routes;
      return { ...all, workers: [pop] };
    };
    return await coldStart(popOnly, '/api/dialpad/webhook', {
      ...o,
      label: 'ours, pop Worker',
      request: () => ({
        method: 'POST',
        headers: { 'content-type': 'application/jwt' },
        body: signHS256(callEvent(), WEBHOOK_SECRET),
      }),
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
