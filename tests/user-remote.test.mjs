// @ts-check
// `npm run user -- … --remote` talks to Cloudflare's D1 query API. Here a local fake of that
// API checks the request (account, database, token, bound params) and runs the statement on a
// real local D1, so the whole remote path is exercised: create an admin, then log in with it.
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
  w = await startWorker();
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

test('add an admin on the deployed database, then log in with it', async () => {
  const { stdout } = await cli(['add', 'remote-boss', '--role', 'admin', '--name', '本部']);
  const password = stdout.match(/password: (\S+)/)[1];
  assert.ok(
    seen.every(
      (s) => s.account === 'acct-123' && s.database === '00000000-0000-0000-0000-000000000000',
    ),
  );
  const insert = seen.find((s) => s.sql.includes('INSERT INTO users'));
  assert.ok(insert.params.includes('remote-boss'), 'values travel as bound params');
  assert.ok(!insert.sql.includes('remote-boss'), 'never inside the SQL text');
  const login = await w.json('/api/auth/login', {
    method: 'POST',
    body: JSON.stringify({ loginId: 'remote-boss', password }),
  });
  assert.equal(login.status, 200);
  assert.equal(login.body.user.role, 'admin');
  const { stdout: list } = await cli(['list']);
  assert.match(list, /remote-boss\s+admin/);
});

test('staff need a store; bad credentials are reported', async () => {
  await assert.rejects(cli(['add', 'lost', '--role', 'staff']), /staff account needs --store/);
  await assert.rejects(cli(['list'], { CLOUDFLARE_API_TOKEN: 'wrong' }), /D1 API: 403/);
  await assert.rejects(cli(['list'], { CLOUDFLARE_ACCOUNT_ID: '' }), /CLOUDFLARE_ACCOUNT_ID/);
});
