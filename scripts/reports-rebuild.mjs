// @ts-check
// Rebuilds the 着信分析 rollups (call_rollups) from the call log: after migration 0013 on a
// database whose calls arrived before the release that keeps them, after a CSV or SQL import
// of calls, after a restore.
//   npm run reports:rebuild                              # the local D1 (npm start's)
//   npm run reports:rebuild -- --remote [--env staging]  # the deployed D1
// --remote needs CLOUDFLARE_ACCOUNT_ID and CLOUDFLARE_API_TOKEN (D1 edit permission).
import { openD1 } from './lib/d1.mjs';
import { rebuildRollups } from './lib/rollups.mjs';

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  console.log(`usage: npm run reports:rebuild                              # local D1
       npm run reports:rebuild -- --remote [--env staging]  # deployed D1
Recomputes the per-store, per-hour rollups of 着信分析 from the call log, a month at a time.
--remote needs CLOUDFLARE_ACCOUNT_ID and CLOUDFLARE_API_TOKEN.`);
  process.exit(0);
}
const opt = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const { db, dispose } = await openD1({ remote: args.includes('--remote'), env: opt('--env') });
try {
  const r = await rebuildRollups(db, { log: (l) => console.log(l) });
  console.log(`rebuilt: ${r.calls ?? 0} calls, ${r.hours} hours, ${r.rows} rollup rows`);
} finally {
  await dispose();
}
