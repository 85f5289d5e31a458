// @ts-check
// `node bench/tools/login.mjs [--build=DIR] [--n=20]`: CPU of one login in the built Worker
// (workerd's CPU time while N sequential logins run, divided by N), for comparing builds:
// e.g. the wasm PBKDF2 of an older build (`--build=` its worker-build output) against the
// runtime's WebCrypto. Prints figures only; nothing is asserted.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Miniflare } from 'miniflare';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
process.chdir(ROOT);
const { miniflareOptions, WorkerClient } = await import('../../tests/helpers/worker.mjs');
const { applyMigrations } = await import('../../scripts/lib/sql.mjs');
const { upsertUser } = await import('../../scripts/lib/seed.mjs');
const { cpuSnapshot, cpuSince } = await import('../lib/cpu.mjs');

const arg = (name) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
const n = Number(arg('n') ?? 20);
const o = miniflareOptions({ onLog: () => {} });
if (arg('build')) o.workers[0].scriptPath = join(resolve(arg('build')), 'index.js');
if (arg('build')) o.workers[1].scriptPath = join(resolve(arg('build')), 'pop', 'index.js');
const mf = new Miniflare(o);
const url = (await mf.ready).toString().replace(/\/$/, '');
const db = await mf.getD1Database('DB');
await applyMigrations(db);
const w = new WorkerClient(mf, url, db);
try {
  await w.upsertStore('西船橋', ['0501748']);
  const password = 'bench-login-password';
  // One account per login: an account's successful logins are limited (10 a minute).
  for (let i = 0; i <= n; i++)
    await upsertUser(db, { login: `bench-${i}`, role: 'admin', password });
  let next = 0;
  const once = (ip) =>
    w.fetch('/api/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'cf-connecting-ip': ip },
      body: JSON.stringify({ loginId: `bench-${next++}`, password }),
    });
  await once('192.0.2.1'); // warm-up (compiles the wasm, creates the objects)
  for (const [label, ip] of [['right password', '192.0.2.1']]) {
    const cpu = cpuSnapshot();
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      const r = await once(ip);
      if (r.status !== 200) throw new Error(`login answered ${r.status}`);
      await r.arrayBuffer();
    }
    const wall = (performance.now() - t0) / n;
    const used = cpuSince(cpu);
    console.log(
      JSON.stringify({
        bench: 'login',
        case: label,
        logins: n,
        wallMsPerLogin: Math.round(wall * 10) / 10,
        workerdCpuMsPerLogin: Math.round((used.serverSeconds * 1000) / n),
        cpu: used,
      }),
    );
  }
} finally {
  await w.close();
}
