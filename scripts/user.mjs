// Account management for the console.
//
//   npm run user -- add <login> --role admin|staff [--store 西船橋|<id>] [--name 表示名] [--password P]
//   npm run user -- reset-password <login> [--password P]
//   npm run user -- disable <login>
//   npm run user -- list
//
// Works on the local D1 (what `npm start` serves) by default. With --remote it works on the
// deployed D1 through Cloudflare's D1 query API (bound parameters, as everywhere), which needs
// CLOUDFLARE_ACCOUNT_ID and CLOUDFLARE_API_TOKEN (a token with D1 edit permission) and reads
// the database id from wrangler.toml (or --database-id). Without --password a random one is
// generated and printed once. Changing a password or disabling ends the user's sessions.
import { readFileSync } from 'node:fs';
import { upsertUser } from './lib/seed.mjs';
import { randomPassword } from './lib/password.mjs';

const args = process.argv.slice(2);
const opt = (name) => {
  const i = args.indexOf(name);
  if (i === -1) return undefined;
  const v = args[i + 1];
  args.splice(i, 2);
  return v;
};
const remote = args.includes('--remote') && args.splice(args.indexOf('--remote'), 1);
const role = opt('--role');
const store = opt('--store');
const name = opt('--name');
const given = opt('--password');
const databaseId = opt('--database-id') ?? readFileSync('wrangler.toml', 'utf8').match(/database_id\s*=\s*"([^"]+)"/)?.[1];
const [cmd, login] = args;

/** The subset of the D1 binding API that scripts/lib uses, over Cloudflare's HTTP API. */
function remoteD1() {
  const account = process.env.CLOUDFLARE_ACCOUNT_ID;
  const token = process.env.CLOUDFLARE_API_TOKEN;
  if (!account || !token) throw new Error('--remote needs CLOUDFLARE_ACCOUNT_ID and CLOUDFLARE_API_TOKEN');
  const base = process.env.CLOUDFLARE_API_BASE ?? 'https://api.cloudflare.com/client/v4';
  const query = async (sql, params) => {
    const res = await fetch(`${base}/accounts/${account}/d1/database/${databaseId}/query`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ sql, params }),
    });
    const body = await res.json();
    if (!res.ok || !body.success) throw new Error(`D1 API: ${res.status} ${JSON.stringify(body.errors ?? body)}`);
    return body.result[0];
  };
  const stmt = (sql, params = []) => ({
    bind: (...p) => stmt(sql, p),
    run: () => query(sql, params),
    all: () => query(sql, params),
    first: async () => (await query(sql, params)).results[0] ?? null,
  });
  return { db: { prepare: (sql) => stmt(sql) }, dispose: async () => {} };
}

async function localD1() {
  const { getPlatformProxy } = await import('wrangler');
  const { env, dispose } = await getPlatformProxy({ configPath: 'wrangler.toml', persist: true });
  return { db: env.DB, dispose };
}

function usage() {
  console.error('usage: npm run user -- add <login> --role admin|staff [--store S] [--name N] [--password P] [--remote]');
  console.error('       npm run user -- reset-password <login> [--password P] [--remote]');
  console.error('       npm run user -- disable <login> [--remote]');
  console.error('       npm run user -- list [--remote]');
  process.exit(2);
}

if (!cmd || (cmd !== 'list' && !login)) usage();
const { db, dispose } = remote ? remoteD1() : await localD1();
try {
  if (cmd === 'add') {
    if (!role) usage();
    const password = given ?? randomPassword();
    const u = await upsertUser(db, { login, name, role, store, password });
    console.log(`user ${u.login_id} (${u.role}${u.store_id ? ', store ' + u.store_id : ''}) saved`);
    if (!given) console.log(`password: ${password}   (shown once; store it safely)`);
  } else if (cmd === 'reset-password') {
    const u = await db.prepare('SELECT login_id, display_name, role, store_id FROM users WHERE login_id = ?1').bind(login).first();
    if (!u) throw new Error(`no user ${login}`);
    const password = given ?? randomPassword();
    await upsertUser(db, { login: u.login_id, name: u.display_name, role: u.role, store: u.store_id, password });
    console.log(`password of ${u.login_id} reset; existing sessions ended`);
    if (!given) console.log(`password: ${password}   (shown once)`);
  } else if (cmd === 'disable') {
    const r = await db
      .prepare('UPDATE users SET disabled = 1, token_version = token_version + 1 WHERE login_id = ?1')
      .bind(login)
      .run();
    console.log(r.meta?.changes ? `${login} disabled; sessions ended` : `no user ${login}`);
  } else if (cmd === 'list') {
    const { results } = await db
      .prepare('SELECT u.login_id, u.display_name, u.role, s.name AS store, u.disabled FROM users u LEFT JOIN stores s ON s.id = u.store_id ORDER BY u.id')
      .all();
    for (const u of results) {
      console.log(`${u.login_id.padEnd(16)} ${u.role.padEnd(6)} ${(u.store ?? '-').padEnd(8)} ${u.display_name}${u.disabled ? '  (disabled)' : ''}`);
    }
  } else {
    usage();
  }
} catch (e) {
  console.error(`user: ${e.message}`);
  process.exitCode = 1;
} finally {
  await dispose();
}
