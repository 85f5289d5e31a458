// @ts-check
// `npm run dialpad:setup` against a local fake of Dialpad's API v2.
//
// The fake is written from Dialpad's published schema, not from what the script sends, and
// deliberately does NOT import scripts/lib/dialpad-schema.mjs: if the script's idea of the
// schema is wrong, the fake's own copy makes the test fail. Source of every rule below:
// dialpad/dialpad-python-sdk (generated from its dialpad_api_spec.json):
//   src/dialpad/schemas/webhook.py                  CreateWebhook, UpdateWebhook, WebhookProto
//   src/dialpad/schemas/call_event_subscription.py  CreateCallEventSubscription,
//                                                   UpdateCallEventSubscription,
//                                                   CallEventSubscriptionProto
//   src/dialpad/resources/webhooks_resource.py, call_event_subscriptions_resource.py (paths,
//                                                   cursor pagination)
// Ids are `int` in that schema and Dialpad's are 64-bit, so the fake hands out ids above 2^53
// and checks that they come back exactly.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { DialpadApi } from '../scripts/dialpad-setup.mjs';

const run = promisify(execFile);
const KEY = 'fake-dialpad-api-key';

// CreateCallEventSubscription.call_states items, as published.
const SCHEMA_CALL_STATES = [
  'admin',
  'admin_recording',
  'ai_playbook',
  'all',
  'barge',
  'blocked',
  'call_transcription',
  'calling',
  'connected',
  'csat',
  'dispositions',
  'eavesdrop',
  'hangup',
  'hold',
  'merged',
  'missed',
  'monitor',
  'parked',
  'pcsat',
  'postcall',
  'preanswer',
  'queued',
  'recap_action_items',
  'recap_outcome',
  'recap_purposes',
  'recap_summary',
  'recording',
  'ringing',
  'takeover',
  'transcription',
  'voicemail',
  'voicemail_uploaded',
];
// CreateCallEventSubscription.target_type, as published (there is no `company`).
const SCHEMA_TARGET_TYPES = [
  'callcenter',
  'callrouter',
  'channel',
  'coachinggroup',
  'coachingteam',
  'department',
  'office',
  'room',
  'staffgroup',
  'unknown',
  'user',
];
// Field types of the request bodies, as published ('int' fields are JSON integers).
const SCHEMA = {
  CreateWebhook: { required: ['hook_url'], fields: { hook_url: 'string', secret: 'string' } },
  UpdateWebhook: { required: [], fields: { hook_url: 'string', secret: 'string' } },
  CreateCallEventSubscription: {
    // The schema marks every field NotRequired; a subscription that delivers nowhere is useless,
    // so the fake requires endpoint_id on create (and checks that it names a webhook).
    required: ['endpoint_id'],
    fields: {
      call_states: 'states',
      enabled: 'boolean',
      endpoint_id: 'int',
      group_calls_only: 'boolean',
      target_id: 'int',
      target_type: 'target_type',
    },
  },
};
SCHEMA.UpdateCallEventSubscription = { ...SCHEMA.CreateCallEventSubscription, required: [] };
// What this project wants by default (issue 10), written out here rather than imported.
const EXPECTED_DEFAULT_STATES = [
  'calling',
  'ringing',
  'preanswer',
  'queued',
  'connected',
  'hold',
  'hangup',
  'missed',
  'voicemail',
  'voicemail_uploaded',
  'transcription',
  'recording',
  'recap_summary',
];

let server;
let base;
let state;
const requests = [];

function reset() {
  // Ids beyond 2^53: a client that round-trips them through a JS number changes them.
  state = { webhooks: [], subs: [], next: 9_007_199_254_740_993n };
  requests.length = 0;
}

/** Serialises BigInt ids as JSON integers, as Dialpad does. */
const toJson = (v) =>
  JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `@@${x}@@` : x)).replace(
    /"@@(\d+)@@"/g,
    '$1',
  );

/** The raw integer literal of `field` in a JSON body (exact, unlike JSON.parse). */
const rawInt = (text, field) =>
  text.match(new RegExp(`"${field}"\\s*:\\s*(-?\\d+)(?![.eE\\d])`))?.[1];

/** Checks a body against one of the schemas above; returns an error message or null. */
function validate(schemaName, json, raw) {
  const schema = SCHEMA[schemaName];
  if (!json || typeof json !== 'object' || Array.isArray(json)) return 'body must be a JSON object';
  for (const k of Object.keys(json)) if (!(k in schema.fields)) return `unknown field ${k}`;
  for (const k of schema.required) if (json[k] === undefined) return `${k} is required`;
  for (const [k, v] of Object.entries(json)) {
    const type = schema.fields[k];
    if (type === 'string' && typeof v !== 'string') return `${k} must be a string`;
    if (type === 'boolean' && typeof v !== 'boolean') return `${k} must be a boolean`;
    if (
      type === 'int' &&
      (typeof v !== 'number' || !Number.isInteger(v) || rawInt(raw, k) === undefined)
    )
      return `${k} must be an integer`;
    if (type === 'target_type' && !SCHEMA_TARGET_TYPES.includes(v))
      return `target_type ${JSON.stringify(v)} is not one of ${SCHEMA_TARGET_TYPES.join(', ')}`;
    if (type === 'states') {
      if (!Array.isArray(v)) return 'call_states must be a list';
      const bad = v.filter((s) => !SCHEMA_CALL_STATES.includes(s));
      if (bad.length) return `invalid call_states ${bad.join(', ')}`;
    }
  }
  if ((json.target_type === undefined) !== (json.target_id === undefined))
    return 'target_type and target_id go together';
  return null;
}

const webhookProto = (w) => ({
  id: w.id,
  hook_url: w.hook_url,
  signature: { algo: 'HS256', secret: w.secret, type: 'jwt' },
});
const subProto = (s) => ({
  id: s.id,
  call_states: s.call_states,
  enabled: s.enabled,
  group_calls_only: s.group_calls_only,
  ...(s.target_type ? { target_type: s.target_type, target_id: s.target_id } : {}),
  webhook: webhookProto(state.webhooks.find((w) => w.id === s.endpoint_id)),
});

/** Cursor pagination, two items a page, as the SDK's _iter_request follows it. */
function page(items, cursor) {
  const start = cursor ? Number(cursor) : 0;
  const slice = items.slice(start, start + 2);
  return { items: slice, ...(start + 2 < items.length ? { cursor: String(start + 2) } : {}) };
}

before(async () => {
  reset();
  server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      const send = (status, obj) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(toJson(obj));
      };
      let json = null;
      try {
        json = raw ? JSON.parse(raw) : null;
      } catch {
        return send(400, { error: { message: 'body is not JSON' } });
      }
      requests.push({
        method: req.method,
        url: req.url,
        auth: req.headers.authorization,
        body: json,
        raw,
      });
      if (req.headers.authorization !== `Bearer ${KEY}`)
        return send(401, { error: { message: 'invalid api key' } });
      const url = new URL(req.url, 'http://x');
      const path = url.pathname;
      const cursor = url.searchParams.get('cursor');
      const bad = (msg) => send(400, { error: { code: 400, message: msg } });
      if (req.method === 'GET' && path === '/api/v2/webhooks')
        return send(200, page(state.webhooks.map(webhookProto), cursor));
      if (req.method === 'POST' && path === '/api/v2/webhooks') {
        const err = validate('CreateWebhook', json, raw);
        if (err) return bad(err);
        const w = { id: state.next++, hook_url: json.hook_url, secret: json.secret };
        state.webhooks.push(w);
        return send(200, webhookProto(w));
      }
      const hookPath = path.match(/^\/api\/v2\/webhooks\/(\d+)$/);
      if (hookPath) {
        const w = state.webhooks.find((x) => x.id === BigInt(hookPath[1]));
        if (!w) return send(404, { error: { message: 'webhook not found' } });
        if (req.method === 'PATCH') {
          const err = validate('UpdateWebhook', json, raw);
          if (err) return bad(err);
          Object.assign(w, json);
          return send(200, webhookProto(w));
        }
        if (req.method === 'DELETE') {
          state.webhooks = state.webhooks.filter((x) => x !== w);
          return send(200, webhookProto(w));
        }
      }
      if (req.method === 'GET' && path === '/api/v2/subscriptions/call')
        return send(200, page(state.subs.map(subProto), cursor));
      const subBody = (create) => {
        const err = validate(
          create ? 'CreateCallEventSubscription' : 'UpdateCallEventSubscription',
          json,
          raw,
        );
        if (err) return err;
        if (
          json.endpoint_id !== undefined &&
          !state.webhooks.some((w) => w.id === BigInt(rawInt(raw, 'endpoint_id')))
        ) {
          return `endpoint_id ${rawInt(raw, 'endpoint_id')} is not a webhook of this company`;
        }
        return null;
      };
      const stored = (json) => ({
        ...json,
        ...(json.endpoint_id !== undefined
          ? { endpoint_id: BigInt(rawInt(raw, 'endpoint_id')) }
          : {}),
        ...(json.target_id !== undefined ? { target_id: BigInt(rawInt(raw, 'target_id')) } : {}),
      });
      if (req.method === 'POST' && path === '/api/v2/subscriptions/call') {
        const err = subBody(true);
        if (err) return bad(err);
        const s = {
          id: state.next++,
          enabled: true,
          group_calls_only: false,
          call_states: [],
          ...stored(json),
        };
        state.subs.push(s);
        return send(200, subProto(s));
      }
      const subPath = path.match(/^\/api\/v2\/subscriptions\/call\/(\d+)$/);
      if (subPath) {
        const s = state.subs.find((x) => x.id === BigInt(subPath[1]));
        if (!s) return send(404, { error: { message: 'subscription not found' } });
        if (req.method === 'PATCH') {
          const err = subBody(false);
          if (err) return bad(err);
          Object.assign(s, stored(json));
          return send(200, subProto(s));
        }
        if (req.method === 'DELETE') {
          state.subs = state.subs.filter((x) => x !== s);
          return send(200, subProto(s));
        }
      }
      send(404, { error: { message: `no route ${req.method} ${path}` } });
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${server.address().port}`;
});
after(() => server.close());

const cli = (args, key = KEY) =>
  run('node', ['scripts/dialpad-setup.mjs', ...args], {
    env: { ...process.env, DIALPAD_API_KEY: key, DIALPAD_API_BASE: base },
  });
const URL_ = 'https://cti.example.jp/api/dialpad/webhook';
const OFFICE = '9223372036854775001'; // an office id near 2^63

test('creates a signed webhook and a call subscription naming it by endpoint_id, with the default states', async () => {
  reset();
  const { stdout } = await cli(['--url', URL_, '--target-type', 'office', '--target-id', OFFICE]);
  assert.ok(requests.every((r) => r.auth === `Bearer ${KEY}`));
  const created = requests.find((r) => r.method === 'POST' && r.url === '/api/v2/webhooks');
  assert.deepEqual(Object.keys(created.body).sort(), ['hook_url', 'secret']);
  assert.equal(created.body.hook_url, URL_);
  assert.ok(created.body.secret.length >= 40, 'a long random secret');
  assert.ok(stdout.includes(created.body.secret), 'the secret is printed');
  assert.match(stdout, /wrangler secret put DIALPAD_WEBHOOK_SECRET -c wrangler.pop.toml/);
  assert.match(stdout, /wrangler secret put DIALPAD_WEBHOOK_SECRET +#/);
  const sub = requests.find((r) => r.method === 'POST' && r.url === '/api/v2/subscriptions/call');
  assert.equal(sub.body.webhook_id, undefined);
  assert.equal(
    rawInt(sub.raw, 'endpoint_id'),
    String(state.webhooks[0].id),
    'the 64-bit webhook id, exactly',
  );
  assert.equal(
    rawInt(sub.raw, 'target_id'),
    OFFICE,
    'the 64-bit office id, exactly, as an integer',
  );
  assert.equal(sub.body.target_type, 'office');
  assert.equal(sub.body.enabled, true);
  assert.deepEqual(sub.body.call_states, EXPECTED_DEFAULT_STATES);
  assert.equal(state.subs.length, 1);
  assert.equal(state.subs[0].endpoint_id, state.webhooks[0].id);
});

test('running it again re-keys the same webhook and updates the same subscription', async () => {
  const firstSecret = state.webhooks[0].secret;
  requests.length = 0;
  await cli([
    '--url',
    URL_,
    '--target-type',
    'office',
    '--target-id',
    OFFICE,
    '--states',
    'ringing,hangup',
  ]);
  assert.equal(state.webhooks.length, 1);
  assert.equal(state.subs.length, 1);
  assert.notEqual(state.webhooks[0].secret, firstSecret);
  assert.ok(
    requests.some(
      (r) => r.method === 'PATCH' && r.url === `/api/v2/webhooks/${state.webhooks[0].id}`,
    ),
  );
  assert.ok(
    requests.some(
      (r) => r.method === 'PATCH' && r.url === `/api/v2/subscriptions/call/${state.subs[0].id}`,
    ),
  );
  assert.ok(!requests.some((r) => r.method === 'POST'));
  assert.deepEqual(state.subs[0].call_states, ['ringing', 'hangup']);
});

test('without a target the subscription covers the whole company (no target fields sent)', async () => {
  const url = 'https://other.example.jp/api/dialpad/webhook';
  requests.length = 0;
  await cli(['--url', url]);
  const sub = requests.find((r) => r.method === 'POST' && r.url === '/api/v2/subscriptions/call');
  assert.ok(sub, 'a subscription was created');
  assert.equal(sub.body.target_type, undefined);
  assert.equal(sub.body.target_id, undefined);
  const hook = state.webhooks.find((w) => w.hook_url === url);
  assert.equal(rawInt(sub.raw, 'endpoint_id'), String(hook.id));
});

test('--list pages through both collections; --delete removes the webhook and its subscriptions', async () => {
  // Enough webhooks that the list needs more than one page.
  for (const host of ['a', 'b', 'c'])
    await cli(['--url', `https://${host}.example.jp/api/dialpad/webhook`]);
  const { stdout } = await cli(['--list']);
  assert.match(
    stdout,
    new RegExp(`webhook ${state.webhooks[0].id} https://cti\\.example\\.jp/api/dialpad/webhook`),
  );
  assert.match(stdout, new RegExp(`office:${OFFICE}: ringing, hangup`));
  for (const host of ['a', 'b', 'c'])
    assert.match(stdout, new RegExp(`https://${host}\\.example\\.jp`));
  const id = String(state.webhooks[0].id);
  await cli(['--delete', id]);
  assert.ok(!state.webhooks.some((w) => String(w.id) === id));
  assert.ok(!state.subs.some((s) => String(s.endpoint_id) === id));
});

test('a state or target type outside the published enums is refused before any request', async () => {
  requests.length = 0;
  await assert.rejects(
    cli(['--url', URL_, '--states', 'ringing,transfer_unavailable']),
    /transfer_unavailable/,
  );
  await assert.rejects(cli(['--url', URL_, '--states', 'unhold']), /unhold/);
  await assert.rejects(
    cli(['--url', URL_, '--target-type', 'company', '--target-id', '1']),
    /--target-type must be one of/,
  );
  await assert.rejects(
    cli(['--url', URL_, '--target-type', 'planet', '--target-id', '1']),
    /--target-type/,
  );
  await assert.rejects(
    cli(['--url', URL_, '--target-type', 'office', '--target-id', 'abc']),
    /--target-id/,
  );
  await assert.rejects(cli(['--url', 'http://cti.example.jp/hook']), /--url must be https/);
  assert.equal(requests.length, 0);
});

test('the fake refuses what the real API would: wrong states, target types, webhook_id, unknown webhooks', async () => {
  // Proves the fake is strict, so the tests above would catch the old bugs.
  const api = new DialpadApi(KEY, base);
  const hook = await api.call('POST', '/api/v2/webhooks', {
    hook_url: 'https://fake.example.jp/api/dialpad/webhook',
    secret: 's',
  });
  const endpoint = String(hook.id);
  assert.equal(endpoint, String(state.webhooks.at(-1).id), 'the client reads 64-bit ids exactly');
  const post = (body) => api.call('POST', '/api/v2/subscriptions/call', body);
  await assert.rejects(
    post({ webhook_id: endpoint, call_states: ['ringing'] }),
    /400 .*unknown field webhook_id/,
  );
  await assert.rejects(
    post({ endpoint_id: endpoint, call_states: ['ringing', 'transfer_unavailable'] }),
    /400 .*transfer_unavailable/,
  );
  await assert.rejects(
    post({
      endpoint_id: endpoint,
      call_states: ['ringing'],
      target_type: 'company',
      target_id: '1',
    }),
    /400 .*target_type/,
  );
  await assert.rejects(
    post({ endpoint_id: '12345', call_states: ['ringing'] }),
    /400 .*not a webhook/,
  );
  await assert.rejects(
    post({ endpoint_id: endpoint, call_states: ['ringing'], transfer_unavailable: true }),
    /400 .*unknown field/,
  );
  await assert.rejects(post({ endpoint_id: endpoint, call_states: 'ringing' }), /400 .*list/);
  await assert.rejects(post({ endpoint_id: endpoint, enabled: 'yes' }), /400 .*boolean/);
  await assert.rejects(post({ call_states: ['ringing'] }), /400 .*endpoint_id is required/);
  await assert.rejects(api.call('POST', '/api/v2/webhooks', { url: 'https://x' }), /400/);
  const ok = await post({
    endpoint_id: endpoint,
    call_states: SCHEMA_CALL_STATES,
    group_calls_only: true,
  });
  assert.equal(String(ok.webhook.id), endpoint);
});

test('--help prints usage without an API key, and every CLI takes --help without keys or secrets', async () => {
  requests.length = 0;
  const bare = { PATH: process.env.PATH, HOME: '/nonexistent' };
  const { stdout } = await run('node', ['scripts/dialpad-setup.mjs', '--help'], { env: bare });
  assert.match(stdout, /usage:/);
  assert.match(stdout, /endpoint|--target-type/);
  for (const t of SCHEMA_TARGET_TYPES) assert.ok(stdout.includes(t), t);
  assert.equal(requests.length, 0);
  for (const script of ['call', 'user', 'export', 'seed']) {
    const r = await run('node', [`scripts/${script}.mjs`, '--help'], { env: bare });
    assert.match(r.stdout, /usage/, script);
  }
});

test('reports API errors and a missing key', async () => {
  await assert.rejects(cli(['--list'], 'wrong-key'), /401/);
  await assert.rejects(cli(['--list'], ''), /DIALPAD_API_KEY/);
});
