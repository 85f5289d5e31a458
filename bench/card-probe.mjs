// What a customer card costs the hub as its caller's calls grow: the card as the product reads
// it, as it read before commit 0dc36b1 (first/last call over `caller IN (…)`, missed calls over
// the date-ordered index, on the tables without migrations/0010's index), and without its call
// count (the one figure that still reads every call).
// µs per lookup in a Durable Object's SQLite, in workerd through Miniflare; each row also says
// whether both forms answered the same. Optional, not part of `npm run bench` (~10 s):
//   node bench/card-probe.mjs
import { Miniflare } from 'miniflare';
const mf = new Miniflare({
  modules: true,
  scriptPath: 'bench/card-probe/worker.mjs',
  compatibilityDate: '2026-04-01',
  durableObjects: { PROBE: { className: 'Probe', useSQLite: true } },
});
try {
  console.log('calls from the number'.padEnd(24) + ['now', 'before', 'now without the count'].map((h) => h.padStart(24)).join('') + '  same answer');
  for (const n of [0, 100, 1000, 3000, 6000]) {
    const get = async (schema) => (await mf.dispatchFetch(`http://probe/?schema=${schema}&calls=${n}`)).json();
    const [now, before] = [await get('now'), await get('before')];
    const same = now.answers.now === before.answers.before;
    console.log(String(n).padEnd(24) + [now.now, before.before, now['now without the count']].map((v) => `${v} µs`.padStart(24)).join('') + `  ${same}`);
  }
} finally {
  await mf.dispose();
}
