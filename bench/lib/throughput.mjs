// @ts-check
// The throughput loop shared by ours and baselines C and A: `concurrency` senders POST their
// requests for `seconds`; every accepted event must then reach every socket (30 s limit each)
// and, for a stack that records calls, have its row in the D1 `calls` table.
import { summarize } from './stats.mjs';
import { cpuSnapshot, cpuSince } from './cpu.mjs';

/**
 * What bench/run.mjs gives every stack's throughput driver.
 * @typedef {object} ThroughputOptions
 * @property {number} sockets connected sockets
 * @property {number[]} concurrencies senders, one row each
 * @property {number} seconds per row
 * @property {(line: string) => void} log
 * @property {import('./cleanup.mjs').Cleanup} cleanup
 * @property {string} [buildDir] the product's build (ours)
 */

/**
 * prepare() -> { id, send } as for latencyRun; callIds() -> Set of the ids in D1 `calls`;
 * settle() (optional) runs before D1 is read, e.g. to let an outbox drain.
 * @param {{
 *   label: string,
 *   fanin: import('./fanin.mjs').FanIn,
 *   sockets: number,
 *   concurrencies: number[],
 *   seconds: number,
 *   prepare: () => any,
 *   callIds?: () => Promise<Set<string>>,
 *   settle?: () => Promise<unknown>,
 *   log: (line: string) => void,
 * }} opts
 */
export async function throughputRows({
  label,
  fanin,
  sockets,
  concurrencies,
  seconds,
  prepare,
  callIds,
  settle,
  log,
}) {
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
    const cpu = cpuSnapshot();
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
    const cpuUsed = cpuSince(cpu);
    const elapsed = (last - start) / 1000;
    // Every accepted event must reach every socket (bounded wait: each expectation times
    // out 30 s after its POST) ...
    const results = await Promise.all(deliveries);
    const notDelivered = results.filter((r) => r.timedOut).length;
    // ... and have its row in the D1 call log.
    const settleMs = settle ? await settle() : null;
    // null: a stack that records nothing (baseline A); only its deliveries count.
    const ids = await callIds();
    const missingRows = ids ? accepted.filter((id) => !ids.has(id)).length : 0;
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
      cpu: cpuUsed,
      ...(settle ? { settleMs } : {}),
    };
    out.push(r);
    log(
      `  ${label} throughput c=${c}: ${r.perSecond}/s, ${r.accepted} accepted, ${errors} errors, ${r.lost} lost`,
    );
  }
  return out;
}

/** The ids in D1 `calls`, through Miniflare's binding. */
export async function d1CallIds(db) {
  const { results: rows } = await db.prepare('SELECT id FROM calls').all();
  return new Set(rows.map((r) => String(r.id)));
}
