// @ts-check
// Baseline A in the same workerd, through Miniflare, the way the product runs.
import { Miniflare } from 'miniflare';
import { FanIn } from '../../lib/fanin.mjs';
import { WsFleet } from '../../lib/wsclients.mjs';
import { latencySeries } from '../../lib/latency.mjs';
import { throughputRows } from '../../lib/throughput.mjs';
import { callMessage } from '../../lib/message.mjs';
import { coldStart } from '../../lib/ours.mjs';

export function baselineOptions() {
  return {
    modules: true,
    scriptPath: 'bench/baselines/a-thinnest/worker.mjs',
    compatibilityDate: '2026-04-01',
    durableObjects: { HUB: { className: 'Hub', useSQLite: true } },
    host: '127.0.0.1',
    port: 0,
  };
}

let seq = 0;
/** A's request: the call message, POSTed straight to its object's broadcast (no token, no work). */
const broadcastSender = (url) => () => {
  const id = String(7_000_000_000_000_000 + ++seq);
  const body = JSON.stringify(callMessage(id, seq));
  return {
    id,
    send: () =>
      fetch(url + '/broadcast', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      }),
  };
};

/** A fresh A with its sockets' client (not yet open); `release` closes both. */
async function startA(cleanup, deflate = false, options = baselineOptions) {
  const mf = new Miniflare(options());
  const fanin = new FanIn();
  const a = { fanin, fleet: null };
  a.release = cleanup.add(async () => {
    a.fleet?.close();
    await mf.dispose();
  });
  try {
    a.url = (await mf.ready).toString().replace(/\/$/, '');
  } catch (e) {
    await a.release();
    throw e;
  }
  a.fleet = new WsFleet({ url: a.url.replace('http', 'ws') + '/ws', fanin, deflate });
  return a;
}

/** @param {import('../../lib/latency.mjs').LatencyOptions & { options?: any, name?: string }} opts */
export async function baselineLatency({
  ns,
  events,
  warmup,
  batch,
  log,
  cleanup,
  deflate = false,
  retry,
  options,
  name = 'baseline A',
}) {
  const { url, fleet, fanin, release } = await startA(cleanup, deflate, options);
  try {
    const label = deflate ? `${name}+deflate` : name;
    const prepare = broadcastSender(url);
    const out = [];
    for (const n of ns) {
      const t = performance.now();
      await fleet.open(n - fleet.sockets.length, { batch });
      const openMs = Math.round(performance.now() - t);
      const r = await latencySeries({ n, events, warmup, fanin, prepare, log }, retry);
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
    };
  } finally {
    await release();
  }
}

export const baselineColdStart = (o) =>
  coldStart(baselineOptions, '/health', { ...o, label: 'baseline A' });

/** A's first 200 through its Durable Object (a POST /broadcast), like the pop Worker's delivery. */
export const baselineBroadcastColdStart = (o) =>
  coldStart(baselineOptions, '/broadcast', {
    ...o,
    label: 'baseline A, through its Durable Object',
    request: () => ({
      method: 'POST',
      body: JSON.stringify(callMessage('7000000000000000000', 1)),
    }),
  });

/**
 * A's throughput under the same load as ours and C's: what this machine's workerd does per
 * second when a request only crosses a Worker into a Durable Object and out to the sockets.
 * The ceiling for any pipeline on this path here; A writes nothing, so there are no rows.
 */
/** @param {import('../../lib/throughput.mjs').ThroughputOptions & { options?: any, name?: string }} opts */
export async function baselineThroughput({
  sockets,
  concurrencies,
  seconds,
  log,
  cleanup,
  options,
  name = 'baseline A',
}) {
  const { url, fleet, fanin, release } = await startA(cleanup, false, options);
  try {
    await fleet.open(sockets);
    return await throughputRows({
      label: name,
      fanin,
      sockets,
      concurrencies,
      seconds,
      prepare: broadcastSender(url),
      callIds: async () => null,
      log,
    });
  } finally {
    await release();
  }
}
