// The product: the built Rust Worker (build/index.js + build/index_bg.wasm) in workerd via
// Miniflare, with local D1 (migrated, demo data seeded) and the SQLite-backed hub, through
// the integration tests' harness. Every webhook takes the full path: JWT verification, D1
// batch (event log + store prefixes + customer lookup), D1 call-log upsert + pop claim, hub
// broadcast (with its own SQLite insert), D1 mark-delivered.
import { Miniflare } from 'miniflare';
import { readFileSync, statSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { startWorker, miniflareOptions, callEvent, signHS256, WEBHOOK_SECRET } from '../../tests/helpers/worker.mjs';
import { FanIn } from './fanin.mjs';
import { WsFleet } from './wsclients.mjs';
import { latencyRun } from './latency.mjs';
import { summarize } from './stats.mjs';

const quiet = { onLog: () => {} }; // one JSON log line per webhook would flood the output

function webhookSender(w) {
  return () => {
    const ev = callEvent(); // new call id, ringing, +819012345678 (a seeded customer) -> 西船橋
    const body = signHS256(ev, WEBHOOK_SECRET);
    return {
      id: String(ev.call_id),
      send: () =>
        fetch(w.url + '/api/dialpad/webhook', {
          method: 'POST',
          headers: { 'content-type': 'application/jwt' },
          body,
        }),
    };
  };
}

async function fleetFor(w, fanin) {
  const auth = await w.login({ role: 'admin' }); // one login, the token reused by every socket
  return new WsFleet({
    url: w.url.replace('http', 'ws') + '/api/cti/socket',
    headers: { authorization: `Bearer ${auth.token}` },
    fanin,
  });
}

export async function oursLatency({ ns, events, warmup, batch, log, cleanup }) {
  const w = await startWorker(quiet);
  const fanin = new FanIn();
  let fleet;
  const release = cleanup.add(async () => {
    fleet?.close();
    await w.close();
  });
  try {
    fleet = await fleetFor(w, fanin);
    const out = [];
    for (const n of ns) {
      const t = performance.now();
      await fleet.open(n - fleet.sockets.length, { batch });
      log(`  ours: ${n} sockets open (${Math.round(performance.now() - t)} ms); ${warmup}+${events} events`);
      const r = await latencyRun({ n, events, warmup, fanin, prepare: webhookSender(w), log });
      r.socketErrors = fleet.errors;
      r.unexpectedCloses = fleet.unexpectedCloses;
      out.push(r);
      log(`  ours N=${n}: p50 ${r.p50} p99 ${r.p99} max ${r.max} ms (lost ${r.lost}, errors ${r.errors})`);
    }
    return {
      series: out,
      wsExtensions: fleet.extensions,
      messageBytes: fleet.sample ? Buffer.byteLength(fleet.sample) : null,
      sampleMessage: fleet.sample,
    };
  } finally {
    await release();
  }
}

export async function oursThroughput({ sockets, concurrencies, seconds, log, cleanup }) {
  const w = await startWorker(quiet);
  const fanin = new FanIn();
  let fleet;
  const release = cleanup.add(async () => {
    fleet?.close();
    await w.close();
  });
  try {
    fleet = await fleetFor(w, fanin);
    await fleet.open(sockets);
    const prepare = webhookSender(w);
    // Warm-up, not counted: JIT, wasm tiering, D1 statement caches.
    for (let i = 0; i < 30; i++) {
      const { id, send } = prepare();
      const d = fanin.expect(id, sockets, 10000);
      await (await send()).text();
      await d;
    }
    const out = [];
    for (const c of concurrencies) {
      const accepted = [];
      const deliveries = [];
      const latencies = [];
      let errors = 0;
      const statuses = {};
      const start = performance.now();
      const deadline = start + seconds * 1000;
      let last = start;
      const worker = async () => {
        while (performance.now() < deadline) {
          const { id, send } = prepare();
          const d = fanin.expect(id, sockets, 30000);
          const t0 = performance.now();
          let status = 0;
          try {
            const res = await send();
            status = res.status;
            await res.text();
          } catch {
            status = 0;
          }
          const t1 = performance.now();
          last = Math.max(last, t1);
          statuses[status] = (statuses[status] ?? 0) + 1;
          if (status === 200) {
            accepted.push(id);
            deliveries.push(d);
            latencies.push(t1 - t0);
          } else {
            errors++;
            fanin.cancel(id);
          }
        }
      };
      await Promise.all(Array.from({ length: c }, worker));
      const elapsed = (last - start) / 1000;
      // Every accepted event must reach every socket (bounded wait: each expectation times
      // out 30 s after its POST) ...
      const results = await Promise.all(deliveries);
      const notDelivered = results.filter((r) => r.timedOut).length;
      // ... and have its row in the D1 call log.
      const { results: rows } = await w.db.prepare('SELECT id FROM calls').all();
      const ids = new Set(rows.map((r) => String(r.id)));
      const missingRows = accepted.filter((id) => !ids.has(id)).length;
      const r = {
        concurrency: c,
        sockets,
        seconds: Math.round(elapsed * 100) / 100,
        requests: accepted.length + errors,
        accepted: accepted.length,
        perSecond: Math.round((accepted.length / elapsed) * 10) / 10,
        errors,
        statuses,
        lostDeliveries: notDelivered,
        missingRows,
        lost: notDelivered + missingRows,
        response: summarize(latencies),
      };
      out.push(r);
      log(`  ours throughput c=${c}: ${r.perSecond}/s, ${r.accepted} accepted, ${errors} errors, ${r.lost} lost`);
    }
    return out;
  } finally {
    await release();
  }
}

export function oursSize() {
  const wasm = readFileSync('build/index_bg.wasm');
  const js = readFileSync('build/index.js');
  return {
    wasmBytes: wasm.length,
    wasmGzipBytes: gzipSync(wasm).length,
    jsBytes: js.length,
    jsGzipBytes: gzipSync(js).length,
    builtAt: statSync('build/index_bg.wasm').mtime.toISOString(),
  };
}

/** Time from `new Miniflare()` (a fresh workerd process) to the first 200 from GET /api/health. */
export async function coldStart(makeOptions, path, { starts, log, cleanup, label }) {
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
          const res = await fetch(url + path);
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

export const oursColdStart = (o) => coldStart(() => miniflareOptions(quiet), '/api/health', { ...o, label: 'ours' });
