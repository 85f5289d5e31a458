// @ts-check
// The latency loop shared by the three stacks: events one after another; for each, the time
// from just before the POST until every one of the n connected sockets has received it.
import { summarize } from './stats.mjs';
import { cpuSnapshot, cpuSince, waitQuiet } from './cpu.mjs';

/**
 * What bench/run.mjs gives every stack's latency driver.
 * @typedef {object} LatencyOptions
 * @property {number[]} ns the numbers of connected sockets, one series each
 * @property {number} events measured events per series
 * @property {number} warmup events sent first, not measured
 * @property {number} [batch] sockets opened at a time
 * @property {(line: string) => void} log
 * @property {import('./cleanup.mjs').Cleanup} cleanup
 * @property {boolean} [deflate] negotiate permessage-deflate
 * @property {string} [buildDir] the product's build (ours)
 * @property {{ attempts: number, budgetMs: number }} [retry] see latencySeries
 */

/**
 * A result row: the latency summary and what the run noticed; drivers add their own fields.
 * @typedef {Record<string, any>} LatencyRow
 */

/**
 * @typedef {object} LatencyRunOptions
 * @property {number} n sockets connected
 * @property {number} events
 * @property {number} warmup
 * @property {import('./fanin.mjs').FanIn} fanin
 * @property {() => { id: string, send: () => Promise<Response> }} prepare
 * @property {number} [timeoutMs]
 * @property {number} [maxLost]
 * @property {(line: string) => void} [log]
 */

/**
 * prepare() -> { id, send: () => Promise<Response> }: builds (and signs) the next event; the
 * clock starts after it, right before send().
 * @param {LatencyRunOptions} opts
 * @returns {Promise<LatencyRow>}
 */
export async function latencyRun({
  n,
  events,
  warmup,
  fanin,
  prepare,
  timeoutMs = 10000,
  maxLost = 5,
  log = () => {},
}) {
  const latencies = [];
  const responses = [];
  let errors = 0;
  let lost = 0;
  let partial = 0;
  let deliveredMismatch = 0;
  // D1 round trips the product made before answering (`d1RoundTrips` in its 200), when told.
  let d1Max = null;
  let d1Sum = 0;
  const total = warmup + events;
  const started = performance.now();
  let cpu = null;
  for (let i = 0; i < total; i++) {
    const measured = i >= warmup;
    if (i === warmup) cpu = cpuSnapshot();
    const { id, send } = prepare();
    const done = fanin.expect(id, n, timeoutMs);
    const t0 = performance.now();
    let status = 0;
    let body = null;
    try {
      const res = await send();
      status = res.status;
      const text = await res.text();
      try {
        body = JSON.parse(text);
      } catch {
        body = null;
      }
    } catch {
      status = 0;
    }
    const tResp = performance.now();
    if (status !== 200) fanin.cancel(id);
    const r = await done;
    if (!measured) continue;
    if (status !== 200) {
      errors++;
      continue;
    }
    responses.push(tResp - t0);
    if (body && typeof body.delivered === 'number' && body.delivered !== n) deliveredMismatch++;
    if (body && typeof body.d1RoundTrips === 'number') {
      d1Max = Math.max(d1Max ?? 0, body.d1RoundTrips);
      d1Sum += body.d1RoundTrips;
    }
    if (r.timedOut) {
      lost++;
      if (r.got > 0) partial++;
      if (lost >= maxLost) {
        log(`  N=${n}: ${lost} events lost, stopping this series`);
        break;
      }
      continue;
    }
    latencies.push(r.at - t0);
  }
  return {
    n,
    events,
    warmup,
    ...summarize(latencies),
    response: summarize(responses),
    errors,
    lost,
    partial,
    deliveredMismatch,
    ...(d1Max === null ? {} : { d1RoundTripsBefore200: { max: d1Max, total: d1Sum } }),
    cpu: cpu && cpuSince(cpu),
    seconds: Math.round((performance.now() - started) / 10) / 100,
  };
}

/**
 * latencyRun, repeated once (within a shared time budget) when other processes on the
 * machine kept >= 0.25 cores busy during it; the less disturbed of the two runs is kept.
 * @param {LatencyRunOptions} opts
 * @param {{ attempts: number, budgetMs: number }} [retry]
 * @returns {Promise<LatencyRow>}
 */
export async function latencySeries(opts, retry = { attempts: 1, budgetMs: 0 }) {
  let best = await latencyRun(opts);
  best.attempts = 1;
  for (
    let i = 0;
    i < retry.attempts && (best.cpu?.otherCores ?? 0) >= 0.25 && retry.budgetMs > 0;
    i++
  ) {
    const t = performance.now();
    opts.log?.(
      `  N=${opts.n}: other work kept ${best.cpu.otherCores} cores busy; waiting for quiet and measuring again`,
    );
    await waitQuiet({ maxMs: 15000 });
    const again = await latencyRun(opts);
    again.attempts = best.attempts + 1;
    again.otherCoresOfDiscarded = best.cpu.otherCores;
    if ((again.cpu?.otherCores ?? 0) <= best.cpu.otherCores) best = again;
    else best.attempts = again.attempts;
    retry.budgetMs -= performance.now() - t;
  }
  return best;
}
