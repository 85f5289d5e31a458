// @ts-check
// Loads the demo data into the *local* D1 database that `wrangler dev` uses
// (.wrangler/state), through wrangler's platform proxy so every value is a bound parameter.
import { getPlatformProxy } from 'wrangler';
import { seedDemo, DEMO_USERS } from './lib/seed.mjs';

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  console.log(`usage: npm run db:seed

Loads the demo stores, customers and accounts into the local D1 that \`npm start\` serves
(.wrangler/state). Never touches a deployed database. Takes no options.`);
  process.exit(0);
}
const { env, dispose } = await getPlatformProxy({ configPath: 'wrangler.toml', persist: true });
try {
  const created = await seedDemo(env.DB);
  console.log(
    'demo data ready: stores 西船橋 (0501748), 錦糸町 (0501749), 葛西 (0501750), 松戸 (0501751)',
  );
  for (const u of DEMO_USERS) {
    const fresh = created.some((c) => c.login === u.login)
      ? ''
      : ' (already existed: password unchanged)';
    console.log(
      `  account ${u.login.padEnd(15)} password ${u.password}  [${u.role}${u.store ? ' ' + u.store : ''}]${fresh}`,
    );
  }
} finally {
  await dispose();
}
