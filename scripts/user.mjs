// @ts-check
// Account management for the console.
//
//   npm run user -- add <login> --role admin|area_manager|staff|reception [--store 西船橋|<id>]… [--name 表示名] [--password-stdin]
//   npm run user -- reset-password <login> [--password-stdin]
//   npm run user -- update <login> [--role admin|area_manager|staff|reception] [--store 西船橋|<id>]… [--name 表示名]
//   npm run user -- disable <login>
//   npm run user -- logout-everywhere <login>
//   npm run user -- list
//
// --store may be given several times: the account belongs to every store named (the first is
// where their new records go); on update the stores named replace the account's stores.
// Roles: admin (管理者), area_manager (エリアマネージャー), staff (スタッフ), reception (受付センター);
// area_manager and staff need a store, reception answers for every store.
//
// Works on the local D1 (what `npm start` serves) by default. With --remote it works on the
// deployed D1 through Cloudflare's D1 query API (bound parameters, as everywhere), which needs
// CLOUDFLARE_ACCOUNT_ID and CLOUDFLARE_API_TOKEN (a token with D1 edit permission) and reads
// the database id from wrangler.toml (or --database-id; --env staging for staging's). Without
// --password-stdin a random password is generated and printed once; with it the password is read
// from a prompt (a terminal: typed without echo) or from standard input (piped), never from the
// command line (which lands in shell history and `ps`): `--password` is refused. A given one must
// pass the password policy (at least 12 characters, not a common password:
// scripts/lib/password.mjs, the Worker's rule). Changing a password,
// role or store, disabling, or logging out everywhere ends the user's sessions: their tokens
// stop working at once and their open consoles are cut within a minute (the hub re-checks D1).
import { openD1 } from './lib/d1.mjs';
import { upsertUser, storeId, setStores, ROLES, NEEDS_STORE, roleColumns } from './lib/seed.mjs';
import { randomPassword, checkPolicy } from './lib/password.mjs';

const USAGE = `usage: npm run user -- add <login> --role admin|area_manager|staff|reception [--store S]… [--name N] [--password-stdin] [--remote]
       npm run user -- reset-password <login> [--password-stdin] [--remote]
       npm run user -- update <login> [--role R] [--store S]… [--name N] [--remote]
       npm run user -- disable <login> [--remote]
       npm run user -- logout-everywhere <login> [--remote]
       npm run user -- list [--remote]
       npm run user -- --help

--store may be repeated: the account belongs to each store named, the first one first.

Without --password-stdin a password is generated and shown once. --password-stdin reads it from
a prompt (typed without echo) or from standard input: printf '%s' "$PW" | npm run user -- … --password-stdin

Works on the local D1 by default. --remote (with --env staging, --database-id ID) works on the
deployed D1 and needs CLOUDFLARE_ACCOUNT_ID and CLOUDFLARE_API_TOKEN.`;
const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  console.log(USAGE);
  process.exit(0);
}
const opt = (name) => {
  const i = args.indexOf(name);
  if (i === -1) return undefined;
  const v = args[i + 1];
  args.splice(i, 2);
  return v;
};
const remote = args.includes('--remote') && args.splice(args.indexOf('--remote'), 1);
const role = opt('--role');
/** Every value of a repeatable option, in order (undefined when it is not given). */
const opts = (name) => {
  const all = [];
  for (let v = opt(name); v !== undefined; v = opt(name)) all.push(v);
  return all.length ? all : undefined;
};
const stores = opts('--store');
const name = opt('--name');
if (args.some((a) => a === '--password' || a.startsWith('--password='))) {
  console.error(
    'user: --password is refused: a password on the command line lands in shell history and in the process list.\n' +
      '      Use --password-stdin (it prompts without echo, or reads a pipe: printf \'%s\' "$PW" | npm run user -- … --password-stdin),\n' +
      '      or leave it out to have one generated and shown once.',
  );
  process.exit(2);
}
const fromStdin =
  args.includes('--password-stdin') && Boolean(args.splice(args.indexOf('--password-stdin'), 1));
const databaseId = opt('--database-id');
const envName = opt('--env');
const [cmd, login] = args;

function usage() {
  console.error(USAGE);
  process.exit(2);
}

if (!cmd || (cmd !== 'list' && !login)) usage();

/** The password typed at a prompt (no echo) or piped in; one trailing newline is dropped. */
async function readPassword() {
  const input = process.stdin;
  if (!input.isTTY) {
    let text = '';
    for await (const chunk of input) text += chunk;
    return text.replace(/\r?\n$/, '');
  }
  process.stderr.write('password: ');
  input.setRawMode(true);
  input.setEncoding('utf8');
  let typed = '';
  try {
    for await (const chunk of input) {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return typed;
        if (ch === '\u0003') throw new Error('cancelled');
        if (ch === '\u007f' || ch === '\b') typed = [...typed].slice(0, -1).join('');
        else typed += ch;
      }
    }
    return typed;
  } finally {
    input.setRawMode(false);
    input.pause();
    process.stderr.write('\n');
  }
}

let given;
if (fromStdin) {
  given = await readPassword();
  if (!given) {
    console.error('user: --password-stdin read an empty password');
    process.exit(2);
  }
  try {
    checkPolicy(given);
  } catch (e) {
    console.error(`user: ${e.message}`);
    process.exit(1);
  }
}
const { db, dispose } = await openD1({ remote: Boolean(remote), env: envName, id: databaseId });
try {
  if (cmd === 'add') {
    if (!role) usage();
    const password = given ?? randomPassword();
    const u = await upsertUser(db, { login, name, role, stores, password });
    console.log(`user ${u.login_id} (${u.role}${u.store_id ? ', store ' + u.store_id : ''}) saved`);
    if (!given) console.log(`password: ${password}   (shown once; store it safely)`);
  } else if (cmd === 'reset-password') {
    const u = await db
      .prepare(
        'SELECT id, login_id, display_name, coalesce(org_role, role) AS role, store_id FROM users WHERE login_id = ?1',
      )
      .bind(login)
      .first();
    if (!u) throw new Error(`no user ${login}`);
    const password = given ?? randomPassword();
    // The account keeps every one of its stores, its first store first.
    const { results: rows } = await db
      .prepare('SELECT store_id FROM user_stores WHERE user_id = ?1 ORDER BY store_id')
      .bind(u.id)
      .all();
    const kept = [u.store_id, ...rows.map((r) => r.store_id)].filter(
      (s, i, all) => s !== null && all.indexOf(s) === i,
    );
    await upsertUser(db, {
      login: u.login_id,
      name: u.display_name,
      role: u.role,
      stores: kept,
      password,
    });
    console.log(`password of ${u.login_id} reset; existing sessions ended`);
    if (!given) console.log(`password: ${password}   (shown once)`);
  } else if (cmd === 'update') {
    const u = await db
      .prepare(
        'SELECT id, coalesce(org_role, role) AS role, store_id FROM users WHERE login_id = ?1',
      )
      .bind(login)
      .first();
    if (!u) throw new Error(`no user ${login}`);
    const newRole = role ?? u.role;
    if (!ROLES.includes(newRole))
      throw new Error(`role must be one of ${ROLES.join(', ')}, not ${newRole}`);
    let ids;
    if (stores !== undefined) {
      ids = [];
      for (const s of stores) {
        const id = await storeId(db, s);
        if (!ids.includes(id)) ids.push(id);
      }
    }
    const sid = ids === undefined ? (newRole === 'admin' ? null : u.store_id) : ids[0];
    if (NEEDS_STORE.includes(newRole) && sid === null)
      throw new Error(`a ${newRole} account needs --store`);
    const [base, orgRole] = roleColumns(newRole);
    await db
      .prepare(
        `UPDATE users SET role = ?2, org_role = ?5, store_id = ?3, display_name = coalesce(?4, display_name),
           token_version = token_version + 1, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?1`,
      )
      .bind(u.id, base, newRole === 'admin' ? null : (sid ?? null), name ?? null, orgRole)
      .run();
    if (newRole === 'admin') await setStores(db, u.id, []);
    else if (ids !== undefined) await setStores(db, u.id, ids);
    await db.prepare('DELETE FROM sessions WHERE user_id = ?1').bind(u.id).run();
    console.log(`${login} updated; sessions ended`);
  } else if (cmd === 'disable' || cmd === 'logout-everywhere') {
    const r = await db
      .prepare(
        `UPDATE users SET ${cmd === 'disable' ? 'disabled = 1, ' : ''}token_version = token_version + 1 WHERE login_id = ?1`,
      )
      .bind(login)
      .run();
    if (r.meta?.changes) {
      await db
        .prepare('DELETE FROM sessions WHERE user_id = (SELECT id FROM users WHERE login_id = ?1)')
        .bind(login)
        .run();
    }
    console.log(
      r.meta?.changes
        ? `${login} ${cmd === 'disable' ? 'disabled' : 'logged out everywhere'}; sessions ended`
        : `no user ${login}`,
    );
  } else if (cmd === 'list') {
    const { results } = await db
      .prepare(
        `SELECT u.login_id, u.display_name, coalesce(u.org_role, u.role) AS role, u.disabled,
           coalesce((SELECT group_concat(name, ',') FROM (SELECT s.name FROM stores s WHERE s.id = u.store_id
              UNION ALL SELECT s.name FROM user_stores us JOIN stores s ON s.id = us.store_id
              WHERE us.user_id = u.id AND us.store_id IS NOT u.store_id)), s0.name) AS store
         FROM users u LEFT JOIN stores s0 ON s0.id = u.store_id ORDER BY u.id`,
      )
      .all();
    for (const u of results) {
      console.log(
        `${u.login_id.padEnd(16)} ${u.role.padEnd(6)} ${(u.store ?? '-').padEnd(8)} ${u.display_name}${u.disabled ? '  (disabled)' : ''}`,
      );
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
