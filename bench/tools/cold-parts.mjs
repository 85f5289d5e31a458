// @ts-check
// Optional, not part of `npm run bench` (issue #12): where a local cold start goes. Starts
// fresh Miniflare/workerd instances, the variants interleaved, and times `new Miniflare()` to
// workerd ready and to the first 200 from /api/health:
//   ours           build/ (or --build=DIR) with the tests' configuration (both Workers)
//   base           --base=DIR, another worker-build output to compare (optional)
//   noWasm         the same configuration with bench/tools/cold-probe/worker.mjs: no wasm at all
//   noWasmNoAssets the same without the static assets binding
//   noWasmNoAssetsNoD1  … and without D1 (baseline A's shape, plus two Durable Objects)
//   oursNoAssets   ours without the static assets binding
//   node bench/tools/cold-parts.mjs [--starts=7] [--build=build] [--base=DIR]
// Build directories must sit inside the project folder (Miniflare's modules root). Each start
// waits at most 15 s for its 200; every instance is disposed, also on an error or Ctrl-C.
import { Miniflare } from 'miniflare';
import { miniflareOptions } from '../../tests/helpers/worker.mjs';
import { Cleanup } from '../lib/cleanup.mjs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { existsSync } from 'node:fs';

process.chdir(join(dirname(fileURLToPath(import.meta.url)), '../..'));
const arg = (name, dflt) =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? dflt;
const starts = Math.max(1, Math.min(50, Number(arg('starts', 7)) || 7));
const build = arg('build', 'build');
const base = arg('base', null);

const probe = 'bench/tools/cold-probe/worker.mjs';
// One Worker holding everything (the probe, or a build from before the two Workers): the
// console Worker's configuration with the hub as its own class.
const single =
  (script, drop = []) =>
  () => {
    const { workers, ...shared } = miniflareOptions({});
    const w = { ...workers[0], scriptPath: script };
    w.durableObjects = { ...w.durableObjects, HUB: { className: 'Hub', useSQLite: true } };
    delete w.serviceBindings;
    for (const k of drop) delete w[k];
    return { ...shared, ...w };
  };
// The product's two Workers from a build directory (`drop` applies to the console Worker).
const pair =
  (dir, drop = []) =>
  () => {
    const o = miniflareOptions({});
    o.workers[0].scriptPath = `${dir}/index.js`;
    o.workers[1].scriptPath = `${dir}/pop/index.js`;
    for (const k of drop) delete o.workers[0][k];
    return o;
  };
const built = (dir, drop) =>
  existsSync(`${dir}/pop/index.js`) ? pair(dir, drop) : single(`${dir}/index.js`, drop);
const variants = {
  ours: built(build),
  ...(base ? { base: built(base) } : {}),
  noWasm: single(probe),
  noWasmNoAssets: single(probe, ['assets']),
  noWasmNoAssetsNoD1: single(probe, ['assets', 'd1Databases']),
  oursNoAssets: built(build, ['assets']),
};

const cleanup = new Cleanup();
for (const sig of ['SIGINT', 'SIGTERM'])
  process.on(sig, () => cleanup.runAll().then(() => process.exit(130)));

async function once(makeOptions) {
  const t0 = performance.now();
  const mf = new Miniflare(makeOptions());
  const release = cleanup.add(() => mf.dispose());
  try {
    const url = (await mf.ready).toString().replace(/\/$/, '');
    const ready = performance.now() - t0;
    for (let k = 0; k < 300; k++) {
      try {
        const res = await fetch(url + '/api/health');
        await res.arrayBuffer();
        if (res.status === 200) return { ready, first: performance.now() - t0 };
      } catch {
        /* not up yet */
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('no 200 from /api/health within 15 s');
  } finally {
    await release();
  }
}

const median = (a) => {
  const s = [...a].sort((x, y) => x - y);
  return Math.round(
    s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2,
  );
};
const res = Object.fromEntries(Object.keys(variants).map((k) => [k, { ready: [], first: [] }]));
try {
  for (let i = 0; i < starts; i++) {
    for (const [k, make] of Object.entries(variants)) {
      const r = await once(make);
      res[k].ready.push(r.ready);
      res[k].first.push(r.first);
    }
  }
} finally {
  await cleanup.runAll();
}
console.log(
  `cold start, ${starts} starts each, medians in ms (new Miniflare -> workerd ready / first 200)`,
);
for (const [k, v] of Object.entries(res))
  console.log(
    `  ${k.padEnd(20)} ${String(median(v.ready)).padStart(5)} / ${String(median(v.first)).padStart(5)}`,
  );
