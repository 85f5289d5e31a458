// @ts-check
// Dumps stores, customers and the call log from D1 to CSV and JSON files.
//
//   npm run export                       # local D1 -> ./export-<timestamp>/
//   npm run export -- --remote [--env staging] [--out DIR]
//
// --remote needs CLOUDFLARE_ACCOUNT_ID and CLOUDFLARE_API_TOKEN. For point-in-time restore of
// the deployed database use D1 Time Travel (see README), not these files.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openD1 } from './lib/d1.mjs';
import { exportAll, toCsv } from './lib/export.mjs';

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  console.log(`usage: npm run export [-- --out DIR]                      # local D1
       npm run export -- --remote [--env staging] [--out DIR]   # deployed D1

Writes stores, customers and the call log as CSV and JSON into DIR (default ./export-<timestamp>).
--remote needs CLOUDFLARE_ACCOUNT_ID and CLOUDFLARE_API_TOKEN.`);
  process.exit(0);
}
const opt = (n) => (args.includes(n) ? args[args.indexOf(n) + 1] : undefined);
const out = opt('--out') ?? `export-${new Date().toISOString().replace(/[:.]/g, '-')}`;
const { db, dispose } = await openD1({ remote: args.includes('--remote'), env: opt('--env') });
try {
  const data = await exportAll(db);
  mkdirSync(out, { recursive: true });
  for (const [name, rows] of Object.entries(data)) {
    writeFileSync(join(out, `${name}.csv`), toCsv(rows));
    writeFileSync(join(out, `${name}.json`), JSON.stringify(rows, null, 2));
    console.log(
      `${name.padEnd(10)} ${String(rows.length).padStart(6)} rows -> ${join(out, name)}.{csv,json}`,
    );
  }
} finally {
  await dispose();
}
