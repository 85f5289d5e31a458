// Where a webhook's time goes above the platform's floor, all in one run, interleaved:
//   A           the thinnest JavaScript Worker + Durable Object (bench/baseline-js): the floor
//               issue #12's latency and throughput targets are ratios to
//   R           the same Worker and object in Rust, with the `worker` crate and release profile
//               the product uses (bench/rust-floor, built by its build.sh): the stack's floor
//   no-storage  the product with its hub cut after parsing the event (bench/cut-probe): the
//               Worker's and the hub's plumbing (body, token, hand-over, parse), no statement
//   no-d1       the product without the outbox's copy to D1 (locally D1 runs in the same workerd)
//   ours        the product as built in build/
// A and R are sent the call message itself; the product and its cuts a signed webhook.
// Optional, not part of `npm run bench` (~9 min with the cuts; builds R (~1 min) and the
// cuts (~1.5 min each) first when they are missing):
//   node bench/floor-probe.mjs [--rounds=2] [--events=200] [--seconds=8] [--no-cuts]
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

process.chdir(join(dirname(fileURLToPath(import.meta.url)), '..'));
const arg = (k, d) => Number(process.argv.find((a) => a.startsWith(`--${k}=`))?.split('=')[1] ?? d);
const rounds = arg('rounds', 2);
const events = arg('events', 200);
const seconds = arg('seconds', 8);
const withCuts = !process.argv.includes('--no-cuts');
const log = (m) => process.stderr.write(m + '\n');
const build = (what, script, args = []) => {
  log(`floor-probe: building ${what} (${script})`);
  execFileSync('bash', [script, ...args], { stdio: ['ignore', 2, 2] });
};

if (!existsSync('build/pop/index.js')) throw new Error('run `npm run build` first');
if (!existsSync('bench/rust-floor/build/index.js')) build('baseline R', 'bench/rust-floor/build.sh');
const cuts = withCuts ? ['no-storage', 'no-d1'] : [];
const missing = cuts.filter((c) => !existsSync(`bench/cut-probe/build-${c}/pop/index.js`));
if (missing.length) build(`the cuts ${missing.join(', ')}`, 'bench/cut-probe/build.sh', missing);

const { baselineLatency, baselineThroughput, rustFloorOptions } = await import('./lib/baseline-js.mjs');
const { oursLatency, oursThroughput } = await import('./lib/ours.mjs');
const { Cleanup } = await import('./lib/cleanup.mjs');
const { waitQuiet } = await import('./lib/cpu.mjs');

const cleanup = new Cleanup();
const ns = [1, 100];
const product = (buildDir) => ({
  latency: (o) => oursLatency({ ...o, buildDir }),
  throughput: (o) => oursThroughput({ ...o, buildDir }),
});
const stacks = {
  A: { latency: (o) => baselineLatency(o), throughput: (o) => baselineThroughput(o) },
  R: {
    latency: (o) => baselineLatency({ ...o, options: rustFloorOptions, name: 'baseline R' }),
    throughput: (o) => baselineThroughput({ ...o, options: rustFloorOptions, name: 'baseline R' }),
  },
  ...Object.fromEntries(cuts.map((c) => [c, product(resolve(`bench/cut-probe/build-${c}`))])),
  ours: product(undefined),
};
const names = Object.keys(stacks);
const lat = Object.fromEntries(names.map((k) => [k, []]));
const thr = Object.fromEntries(names.map((k) => [k, []]));
try {
  for (let r = 1; r <= rounds; r++) {
    for (const k of names) {
      await waitQuiet({ maxMs: 10000 });
      log(`round ${r}: ${k} latency`);
      lat[k].push((await stacks[k].latency({ ns, events, warmup: 50, batch: 50, log, cleanup })).series);
    }
    for (const k of names) {
      await waitQuiet({ maxMs: 10000 });
      log(`round ${r}: ${k} throughput`);
      thr[k].push((await stacks[k].throughput({ sockets: 10, concurrencies: [16], seconds, log, cleanup }))[0]);
    }
  }
} finally {
  await cleanup.runAll();
}

const pad = (s, w = 13) => String(s).padStart(w);
const x = (a, b) => `${(a / b).toFixed(2)}×`;
console.log(`webhook -> every socket, p50 / p99 ms (and p50 / A's p50); ${events} events per N after 50 warm-up`);
console.log('round  N    ' + names.map((k) => pad(k, 22)).join(''));
for (let r = 0; r < rounds; r++) {
  for (const [i, n] of ns.entries()) {
    const a = lat.A[r][i];
    const cells = names.map((k) => {
      const s = lat[k][r][i];
      return pad(`${s.p50} / ${s.p99} (${x(s.p50, a.p50)})`, 22);
    });
    console.log(`${r + 1}      ${String(n).padEnd(5)}${cells.join('')}`);
  }
}
console.log(`throughput, 10 sockets, concurrency 16, ${seconds} s: requests/s, workerd CPU ms per request (lost: only the cuts may lose D1 rows, by design)`);
for (let r = 0; r < rounds; r++) {
  const cells = names.map((k) => {
    const t = thr[k][r];
    return pad(`${t.perSecond}/s ${((t.cpu.serverSeconds * 1000) / t.accepted).toFixed(2)} ms`, 22);
  });
  console.log(`${r + 1}           ${cells.join('')}`);
}
