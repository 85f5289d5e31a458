// `npm run dialpad:setup` against a local fake of Dialpad's API that checks every request.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);
const KEY = 'fake-dialpad-api-key';
let server;
let base;
let state;
const requests = [];

function reset() {
  state = { webhooks: [], subs: [], next: 100 };
  requests.length = 0;
}

before(async () => {
  reset();
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const json = body ? JSON.parse(body) : null;
      requests.push({ method: req.method, url: req.url, auth: req.headers.authorization, body: json });
      const send = (status, obj) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(obj));
      };
      if (req.headers.authorization !== `Bearer ${KEY}`) return send(401, { error: 'bad key' });
      const [path] = req.url.split('?');
      let m;
      if (req.method === 'GET' && path === '/api/v2/webhooks') return send(200, { items: state.webhooks });
      if (req.method === 'POST' && path === '/api/v2/webhooks') {
        if (!json.hook_url || !json.secret) return send(400, { error: 'hook_url and secret required' });
        const w = { id: String(state.next++), hook_url: json.hook_url, signature: { algo: 'HS256', secret: json.secret, type: 'jwt' } };
        state.webhooks.push(w);
        return send(200, w);
      }
      if ((m = path.match(/^\/api\/v2\/webhooks\/(\w+)$/))) {
        const w = state.webhooks.find((x) => x.id === m[1]);
        if (!w) return send(404, {});
        if (req.method === 'PATCH') {
          Object.assign(w, { hook_url: json.hook_url, signature: { algo: 'HS256', secret: json.secret, type: 'jwt' } });
          return send(200, w);
        }
        if (req.method === 'DELETE') {
          state.webhooks = state.webhooks.filter((x) => x !== w);
          return send(200, w);
        }
      }
      if (req.method === 'GET' && path === '/api/v2/subscriptions/call') return send(200, { items: state.subs });
      if (req.method === 'POST' && path === '/api/v2/subscriptions/call') {
        const w = state.webhooks.find((x) => x.id === String(json.webhook_id));
        if (!w || !Array.isArray(json.call_states)) return send(400, { error: 'bad subscription' });
        const s = { id: String(state.next++), webhook: w, call_states: json.call_states, enabled: json.enabled, target_type: json.target_type, target_id: json.target_id };
        state.subs.push(s);
        return send(200, s);
      }
      if ((m = path.match(/^\/api\/v2\/subscriptions\/call\/(\w+)$/))) {
        const s = state.subs.find((x) => x.id === m[1]);
        if (!s) return send(404, {});
        if (req.method === 'PATCH') {
          Object.assign(s, { call_states: json.call_states, enabled: json.enabled });
          return send(200, s);
        }
        if (req.method === 'DELETE') {
          state.subs = state.subs.filter((x) => x !== s);
          return send(200, s);
        }
      }
      send(404, { error: `no route ${req.method} ${path}` });
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${server.address().port}`;
});
after(() => server.close());

const cli = (args, key = KEY) =>
  run('node', ['scripts/dialpad-setup.mjs', ...args], { env: { ...process.env, DIALPAD_API_KEY: key, DIALPAD_API_BASE: base } });

test('creates a signed webhook and a call subscription, prints the secret once', async () => {
  reset();
  const url = 'https://cti.example.jp/api/dialpad/webhook';
  const { stdout } = await cli(['--url', url, '--target-type', 'office', '--target-id', '4785074604081152']);
  assert.ok(requests.every((r) => r.auth === `Bearer ${KEY}`));
  const created = requests.find((r) => r.method === 'POST' && r.url === '/api/v2/webhooks');
  assert.equal(created.body.hook_url, url);
  assert.ok(created.body.secret.length >= 40, 'a long random secret');
  assert.ok(stdout.includes(created.body.secret), 'the secret is printed');
  assert.match(stdout, /wrangler secret put DIALPAD_WEBHOOK_SECRET/);
  const sub = requests.find((r) => r.method === 'POST' && r.url === '/api/v2/subscriptions/call');
  assert.equal(sub.body.webhook_id, state.webhooks[0].id);
  assert.equal(sub.body.enabled, true);
  assert.equal(sub.body.target_type, 'office');
  assert.equal(sub.body.target_id, '4785074604081152');
  for (const s of ['ringing', 'connected', 'hangup', 'missed', 'voicemail']) assert.ok(sub.body.call_states.includes(s), s);
});

test('running it again re-keys the same webhook instead of adding one', async () => {
  const url = 'https://cti.example.jp/api/dialpad/webhook';
  const firstSecret = state.webhooks[0].signature.secret;
  requests.length = 0;
  await cli(['--url', url, '--target-type', 'office', '--target-id', '4785074604081152']);
  assert.equal(state.webhooks.length, 1);
  assert.equal(state.subs.length, 1);
  assert.notEqual(state.webhooks[0].signature.secret, firstSecret);
  assert.ok(requests.some((r) => r.method === 'PATCH' && r.url === `/api/v2/webhooks/${state.webhooks[0].id}`));
  assert.ok(!requests.some((r) => r.method === 'POST'));
});

test('--list and --delete', async () => {
  const { stdout } = await cli(['--list']);
  assert.match(stdout, /webhook \d+ https:\/\/cti\.example\.jp\/api\/dialpad\/webhook/);
  assert.match(stdout, /office:4785074604081152: ringing/);
  const id = state.webhooks[0].id;
  await cli(['--delete', id]);
  assert.equal(state.webhooks.length, 0);
  assert.equal(state.subs.length, 0);
});

test('refuses bad input and reports API errors', async () => {
  await assert.rejects(cli(['--url', 'http://cti.example.jp/hook']), /--url must be https/);
  await assert.rejects(cli(['--url', 'https://cti.example.jp/api/dialpad/webhook', '--target-type', 'planet', '--target-id', '1']), /--target-type/);
  await assert.rejects(cli(['--list'], 'wrong-key'), /401/);
  await assert.rejects(cli(['--list'], ''), /DIALPAD_API_KEY/);
});
