// @ts-check
// Baseline C — like for like: bench/baselines/c-like-for-like/worker.mjs (a JS Worker + Durable Object
// doing the product's webhook pipeline) in the same workerd, through Miniflare, with a local
// D1 migrated and seeded exactly as for ours, sent the same signed webhooks as ours.
import { Miniflare } from 'miniflare';
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { JWT_SECRET, WEBHOOK_SECRET, signHS256 } from '../../../tests/helpers/worker.mjs';
import { applyMigrations } from '../../../scripts/lib/sql.mjs';
import { seedDemo } from '../../../scripts/lib/seed.mjs';
import { FanIn } from '../../lib/fanin.mjs';
import { WsFleet } from '../../lib/wsclients.mjs';
import { latencySeries } from '../../lib/latency.mjs';
import { throughputRows, d1CallIds } from '../../lib/throughput.mjs';
import { webhookSender } from '../../lib/ours.mjs';

export function likeOptions() {
  return {
    modules: true,
    scriptPath: 'bench/baselines/c-like-for-like/worker.mjs',
    compatibilityDate: '2026-04-01',
    d1Databases: { DB: 'bench-like' },
    durableObjects: { HUB: { className: 'Hub', useSQLite: true } },
    bindings: {
      DIALPAD_WEBHOOK_SECRET: WEBHOOK_SECRET,
      JWT_SECRET,
      // The 着信分析 recomputes ours runs in every outbox batch (src/db/rollups.rs).
      ROLLUP_SQL: readFileSync('src/db/rollup.sql', 'utf8'),
      ROLLUP_WRAPUPS_SQL: readFileSync('src/db/rollup_wrapups.sql', 'utf8'),
    },
    host: '127.0.0.1',
    port: 0,
    // One JSON log line per webhook, as ours writes; read and dropped, as for ours.
    handleRuntimeStdio(stdout, stderr) {
      stdout.on('data', () => {});
      stderr.on('data', () => {});
    },
  };
}

async function start(cleanup) {
  const mf = new Miniflare(likeOptions());
  const release = cleanup.add(() => mf.dispose());
  const url = (await mf.ready).toString().replace(/\/$/, '');
  const db = await mf.getD1Database('DB');
  await applyMigrations(db);
  await seedDemo(db);
  return { mf, url, db, release, tokens: await likeSessions(db) };
}

/**
 * An account and its session, written to D1 as a login writes them, and the session token a
 * login returns (the claims of `token::Session`).
 * @param {any} db
 * @param {{ login: string, role?: string, store?: number | null }} who
 */
export async function likeSession(db, { login, role = 'admin', store = null }) {
  const now = Math.floor(Date.now() / 1000);
  const exp = now + 12 * 3600;
  const { id } = await db
    .prepare(
      "INSERT INTO users (login_id, display_name, role, store_id, password_hash) VALUES (?1, ?1, ?2, ?3, 'x') RETURNING id",
    )
    .bind(login, role, store)
    .first();
  const sid = randomBytes(16).toString('hex');
  await db
    .prepare(
      'INSERT INTO sessions (id, user_id, created_at, expires_at, last_seen) VALUES (?1, ?2, ?3, ?4, ?3)',
    )
    .bind(sid, id, now, exp)
    .run();
  const stores = store === null ? [] : [store];
  const claims = { uid: id, login, name: login, role, store, stores, tv: 0, sid, iat: now, exp };
  return { uid: id, token: signHS256(claims, JWT_SECRET) };
}

/**
 * The consoles' sessions, as ours' bench logs in (bench/lib/ours.mjs fleetFor): a user may hold
 * at most 10 sockets, so one admin account and session per 10 sockets (1000 sockets at most);
 * their tokens.
 */
export async function likeSessions(db) {
  const tokens = [];
  for (let i = 0; i < 101; i++)
    tokens.push((await likeSession(db, { login: `bench-c-${i}` })).token);
  return tokens;
}

/** Sockets as ours' consoles open them: `Authorization: Bearer`, each token for 10 sockets. */
function fleetFor(s, fanin, deflate = false) {
  let opened = 0;
  return new WsFleet({
    url: s.url.replace('http', 'ws') + '/ws',
    headers: () => ({
      authorization: `Bearer ${s.tokens[Math.floor(opened++ / 10) % s.tokens.length]}`,
    }),
    fanin,
    deflate,
    resume: true,
  });
}

/** Waits (at most `maxMs`) until the hub's outbox is empty, i.e. every write reached D1. */
async function drained(url, maxMs = 30000) {
  const t0 = performance.now();
  while (performance.now() - t0 < maxMs) {
    const r = await (await fetch(url + '/outbox')).json();
    if (r.pending === 0) return Math.round(performance.now() - t0);
    await new Promise((res) => setTimeout(res, 50));
  }
  return null;
}

/** webhookSender, also remembering which ids were answered 200 (to find their D1 rows). */
function recording(url, accepted) {
  const next = webhookSender(url);
  return () => {
    const { id, send } = next();
    return {
      id,
      send: async () => {
        const res = await send();
        if (res.status === 200) accepted.push(id);
        return res;
      },
    };
  };
}

/** @param {import('../../lib/latency.mjs').LatencyOptions} opts */
export async function likeLatency({
  ns,
  events,
  warmup,
  batch,
  log,
  cleanup,
  deflate = false,
  retry,
}) {
  const s = await start(cleanup);
  const fanin = new FanIn();
  let fleet;
  const release = cleanup.add(async () => {
    fleet?.close();
    await s.release();
  });
  try {
    // Sockets after the first reconnect with ?since=, as for ours (the hub replays the same way).
    fleet = fleetFor(s, fanin, deflate);
    const label = deflate ? 'baseline C+deflate' : 'baseline C';
    const accepted = [];
    const out = [];
    for (const n of ns) {
      const t = performance.now();
      await fleet.open(n - fleet.sockets.length, { batch });
      const openMs = Math.round(performance.now() - t);
      const r = await latencySeries(
        { n, events, warmup, fanin, prepare: recording(s.url, accepted), log },
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
    // The writes the hub deferred must all be in D1 once its outbox drained.
    const drainMs = await drained(s.url);
    const ids = await d1CallIds(s.db);
    const d1 = {
      accepted: accepted.length,
      missingRows: accepted.filter((id) => !ids.has(id)).length,
      drainMs,
    };
    log(
      `  ${label}: D1 after the outbox drained (${drainMs ?? 'not within 30 s'} ms): ${d1.missingRows} of ${d1.accepted} calls missing`,
    );
    return {
      series: out,
      deflate,
      d1,
      wsExtensions: fleet.extensions,
      messageBytes: fleet.sample ? Buffer.byteLength(fleet.sample) : null,
      sampleMessage: fleet.sample,
    };
  } finally {
    await release();
  }
}

/** @param {import('../../lib/throughput.mjs').ThroughputOptions} opts */
export async function likeThroughput({ sockets, concurrencies, seconds, log, cleanup }) {
  const s = await start(cleanup);
  const fanin = new FanIn();
  let fleet;
  const release = cleanup.add(async () => {
    fleet?.close();
    await s.release();
  });
  try {
    fleet = fleetFor(s, fanin);
    await fleet.open(sockets);
    return await throughputRows({
      label: 'baseline C',
      fanin,
      sockets,
      concurrencies,
      seconds,
      prepare: webhookSender(s.url),
      settle: () => drained(s.url),
      callIds: () => d1CallIds(s.db),
      log,
    });
  } finally {
    await release();
  }
}
