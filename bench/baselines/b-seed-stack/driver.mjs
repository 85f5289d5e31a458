// @ts-check
// Baseline B: the seed's stack (bench/baselines/b-seed-stack/server.mjs), a separate Node process, driven with
// socket.io-client (WebSocket transport only, no long-polling). Benchmark only.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { FanIn } from '../../lib/fanin.mjs';
import { latencySeries } from '../../lib/latency.mjs';
import { callEvent, signHS256 } from '../../../tests/helpers/worker.mjs';

const PEER = resolve('bench/baselines/b-seed-stack');
const WEBHOOK_SECRET = 'bench-peer-webhook-secret-0123456789';
const JWT_SECRET = 'bench-peer-session-secret-0123456789';

export function ensurePeerInstalled(log) {
  if (existsSync(resolve(PEER, 'node_modules/socket.io-client'))) return;
  log(
    '  installing bench/baselines/b-seed-stack dependencies (npm install --prefix bench/baselines/b-seed-stack)',
  );
  const r = spawnSync(
    'npm',
    ['install', '--prefix', 'bench/baselines/b-seed-stack', '--no-audit', '--no-fund'],
    {
      stdio: ['ignore', 'inherit', 'inherit'],
      timeout: 300000,
    },
  );
  if (r.status !== 0) throw new Error('npm install --prefix bench/baselines/b-seed-stack failed');
}

function startServer(cleanup) {
  const child = spawn(process.execPath, [resolve(PEER, 'server.mjs')], {
    cwd: PEER,
    env: { ...process.env, WEBHOOK_SECRET, JWT_SECRET, MAX_LIFETIME_MS: '900000' },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  /** @returns {Promise<void>} SIGTERM, then SIGKILL after 3 s; resolves once the child exited */
  const stop = () =>
    new Promise((done) => {
      if (child.exitCode !== null || child.signalCode !== null) return done();
      const t = setTimeout(() => {
        child.kill('SIGKILL');
        done();
      }, 3000);
      child.once('exit', () => {
        clearTimeout(t);
        done();
      });
      child.kill('SIGTERM');
    });
  const release = cleanup.add(stop);
  return new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error('peer server did not start within 15 s')), 15000);
    let buf = '';
    child.stdout.on('data', (d) => {
      buf += d;
      const m = buf.match(/listening (\d+)/);
      if (m) {
        clearTimeout(timer);
        ok({ url: `http://127.0.0.1:${m[1]}`, release, pid: child.pid });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`peer server exited (${code})`));
    });
  });
}

/** @param {import('../../lib/latency.mjs').LatencyOptions} opts */
export async function peerLatency({ ns, events, warmup, batch, log, cleanup, retry }) {
  ensurePeerInstalled(log);
  const require = createRequire(resolve(PEER, 'package.json'));
  const { io } = require('socket.io-client');
  const sioVersion = require('socket.io-client/package.json').version;
  const server = await startServer(cleanup);
  const fanin = new FanIn();
  const sockets = [];
  const closeSockets = () => {
    for (const s of sockets.splice(0)) s.close();
  };
  const releaseSockets = cleanup.add(closeSockets);
  const token = signHS256(
    { uid: 1, role: 'admin', exp: Math.floor(Date.now() / 1000) + 3600 },
    JWT_SECRET,
  );
  const openOne = () =>
    new Promise((ok, fail) => {
      const s = io(server.url, {
        transports: ['websocket'],
        auth: { token },
        forceNew: true,
        reconnection: false,
        timeout: 20000,
      });
      s.on('incoming_call', (msg) => fanin.deliver(String(msg.legId)));
      s.once('connect', () => ok(s));
      s.once('connect_error', (e) => {
        s.close();
        fail(e);
      });
    });
  try {
    const out = [];
    for (const n of ns) {
      const t = performance.now();
      for (let done = sockets.length; done < n; ) {
        const k = Math.min(batch, n - done);
        const opened = await Promise.allSettled(Array.from({ length: k }, openOne));
        for (const r of opened) if (r.status === 'fulfilled') sockets.push(r.value);
        const failed = opened.find((r) => r.status === 'rejected');
        if (failed) throw new Error(`socket.io connect failed: ${failed.reason.message}`);
        done += k;
      }
      const prepare = () => {
        const ev = callEvent();
        const body = signHS256(ev, WEBHOOK_SECRET);
        return {
          id: String(ev.call_id),
          send: () =>
            fetch(server.url + '/api/dialpad/webhook', {
              method: 'POST',
              headers: { 'content-type': 'application/jwt' },
              body,
            }),
        };
      };
      const openMs = Math.round(performance.now() - t);
      const r = await latencySeries({ n, events, warmup, fanin, prepare, log }, retry);
      r.openMs = openMs;
      out.push(r);
      log(
        `  baseline B N=${n}: p50 ${r.p50} p99 ${r.p99} max ${r.max} ms (lost ${r.lost}, errors ${r.errors})`,
      );
    }
    const transport = sockets[0]?.io?.engine?.transport;
    return {
      series: out,
      socketIoClient: sioVersion,
      wsExtensions: transport?.ws?.extensions ?? null,
      transport: transport?.name ?? null,
    };
  } finally {
    await releaseSockets();
    await server.release();
  }
}
