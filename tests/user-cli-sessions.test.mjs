// @ts-check
// The account CLI (`npm run user -- … --remote`, through a local fake of Cloudflare's D1 API
// on a real local D1, as in user-remote.test.mjs) changes D1 straight, not through the Worker:
// the hub's re-check still closes the user's open sockets (4001), and the CLI applies the
// password policy.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startWorker } from './helpers/worker.mjs';

const run = promisify(execFile);
let w;
let server;
let api;
const seen = [];

before(async () => {
  // The hub re-reads connected users every second here (default 20 s).
  w = await startWorker({ bindings: { HUB_RECHECK_SECS: '1' } });
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', async () => {
      const send = (status, obj) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(obj));
      };
      const m = req.url.match(/^\/client\/v4\/accounts\/([^/]+)\/d1\/database\/([^/]+)\/query$/);
      if (!m || req.method !== 'POST')
        return send(404, { success: false, errors: [{ message: 'no route' }] });
      if (req.headers.authorization !== 'Bearer cf-test-token')
        return send(403, {
          success: false,
          errors: [{ code: 10000, message: 'Authentication error' }],
        });
      const { sql, params } = JSON.parse(body);
      seen.push({ account: m[1], database: m[2], sql, params });
      try {
        const r = await w.db
          .prepare(sql)
          .bind(...(params ?? []))
          .all();
        send(200, {
          success: true,
          errors: [],
          result: [{ results: r.results, meta: r.meta, success: true }],
        });
      } catch (e) {
        send(400, { success: false, errors: [{ message: e.message }] });
      }
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  api = `http://127.0.0.1:${server.address().port}/client/v4`;
});
after(async () => {
  server?.close();
  await w?.close();
});

const cli = (args, env = {}) =>
  run('node', ['scripts/user.mjs', ...args, '--remote'], {
    env: {
      ...process.env,
      CLOUDFLARE_ACCOUNT_ID: 'acct-123',
      CLOUDFLARE_API_TOKEN: 'cf-test-token',
      CLOUDFLARE_API_BASE: api,
      ...env,
    },
  });

const closed = (probe, ms) => probe.closedWith(ms);

/** @type {[string, (login: string) => string[]][]} */
const commands = [
  ['disable', (login) => ['disable', login]],
  ['reset-password', (login) => ['reset-password', login]],
  ['update --role', (login) => ['update', login, '--role', 'admin']],
  ['update --store', (login) => ['update', login, '--store', '松戸']],
  ['logout-everywhere', (login) => ['logout-everywhere', login]],
];
for (const [what, args] of commands) {
  test(`npm run user -- ${what} --remote closes the user's open sockets with 4001`, async () => {
    const u = await w.login({ role: 'staff', store: '西船橋' });
    const s = await w.openSocket(u);
    await cli(args(u.login));
    assert.equal(await closed(s, 15000), 4001);
    const me = await w.json('/api/auth/me', { headers: { authorization: `Bearer ${u.token}` } });
    assert.equal(me.status, 401);
  });
}

/** Runs the CLI with `input` on its standard input (a pipe, as `printf '%s' "$PW" |`). */
const cliWithStdin = (args, input) => {
  const p = cli(args);
  p.child.stdin.end(input);
  return p;
};

test('the CLI refuses a password that breaks the policy', async () => {
  await assert.rejects(
    cliWithStdin(['add', 'weakling', '--role', 'admin', '--password-stdin'], 'short\n'),
    /password_too_short/,
  );
  await assert.rejects(
    cliWithStdin(['add', 'weakling', '--role', 'admin', '--password-stdin'], 'password1234\n'),
    /password_too_common/,
  );
  assert.equal(await w.count('SELECT * FROM users WHERE login_id = ?1', 'weakling'), 0);
  const { stdout } = await cliWithStdin(
    ['add', 'strongling', '--role', 'admin', '--password-stdin'],
    'a sufficiently long passphrase\n',
  );
  assert.match(stdout, /strongling/);
});

test('npm run user refuses --password (shell history) and reads the password from stdin', async () => {
  const refused = await cli([
    'add',
    'argv-user',
    '--role',
    'admin',
    '--password',
    'a-long-enough-password',
  ]).catch((e) => e);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /--password is refused/);
  assert.match(refused.stderr, /--password-stdin/);
  assert.doesNotMatch(refused.stdout ?? '', /saved/);
  assert.equal(await w.count('SELECT * FROM users WHERE login_id = ?1', 'argv-user'), 0);
  // The same password through stdin: saved, not printed, and it signs in.
  const { stdout } = await cliWithStdin(
    ['add', 'stdin-user', '--role', 'admin', '--password-stdin'],
    'a-long-enough-password\n',
  );
  assert.match(stdout, /stdin-user/);
  assert.doesNotMatch(stdout, /a-long-enough-password/);
  const r = await w.json('/api/auth/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ loginId: 'stdin-user', password: 'a-long-enough-password' }),
  });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  // reset-password too.
  await cliWithStdin(['reset-password', 'stdin-user', '--password-stdin'], 'another-long-password');
  const again = await w.json('/api/auth/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ loginId: 'stdin-user', password: 'another-long-password' }),
  });
  assert.equal(again.status, 200, JSON.stringify(again.body));
});

test('npm run user takes several stores (--store repeated) and the four roles (issue 25)', async () => {
  const login = async (loginId, password) =>
    w.json('/api/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ loginId, password }),
    });
  const storeIds = async (...names) => {
    const ids = [];
    for (const n of names)
      ids.push((await w.db.prepare('SELECT id FROM stores WHERE name = ?1').bind(n).first()).id);
    return ids.sort((a, b) => a - b);
  };
  await cliWithStdin(
    [
      'add',
      'area-cli',
      '--role',
      'area_manager',
      '--store',
      '西船橋',
      '--store',
      '錦糸町',
      '--password-stdin',
    ],
    'area-manager-password\n',
  );
  let r = await login('area-cli', 'area-manager-password');
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.user.role, 'area_manager');
  assert.deepEqual(r.body.user.storeIds, await storeIds('西船橋', '錦糸町'));
  assert.equal(
    r.body.user.storeId,
    (await storeIds('西船橋'))[0],
    'the first --store is the first store',
  );
  // A password reset keeps every store.
  await cliWithStdin(
    ['reset-password', 'area-cli', '--password-stdin'],
    'area-manager-password-2\n',
  );
  r = await login('area-cli', 'area-manager-password-2');
  assert.deepEqual(r.body.user.storeIds, await storeIds('西船橋', '錦糸町'));
  // update --store replaces the set; --role changes the role.
  await cli(['update', 'area-cli', '--store', '葛西', '--store', '松戸', '--role', 'staff']);
  r = await login('area-cli', 'area-manager-password-2');
  assert.equal(r.body.user.role, 'staff');
  assert.deepEqual(r.body.user.storeIds, await storeIds('葛西', '松戸'));
  const { stdout } = await cli(['list']);
  assert.match(stdout, /area-cli\s+staff\s+葛西,松戸/);
  // A reception desk needs no store; an area manager does; an unknown role is refused.
  await cliWithStdin(
    ['add', 'desk-cli', '--role', 'reception', '--password-stdin'],
    'reception-desk-password\n',
  );
  assert.equal((await login('desk-cli', 'reception-desk-password')).body.user.role, 'reception');
  await assert.rejects(
    cli(['add', 'lost-area', '--role', 'area_manager']),
    /area_manager account needs --store/,
  );
  await assert.rejects(
    cli(['add', 'boss2', '--role', 'owner']),
    /role must be one of admin, area_manager, staff, reception/,
  );
});
