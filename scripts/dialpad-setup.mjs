// Connects Dialpad to this Worker: creates (or finds and re-keys) the webhook with a freshly
// generated secret, and the call-event subscription the popup needs.
//
//   DIALPAD_API_KEY=… npm run dialpad:setup -- --url https://<host>/api/dialpad/webhook
//        [--target-type company|office|callcenter|department|user --target-id <id>]
//        [--states ringing,connected,…]
//   DIALPAD_API_KEY=… npm run dialpad:setup -- --list
//   DIALPAD_API_KEY=… npm run dialpad:setup -- --delete <webhook id>
//
// The secret is printed once, with the command that stores it in the Worker. Dialpad shows a
// webhook's secret only when it is set, so an existing webhook for the same URL gets a new one.
// DIALPAD_API_BASE overrides the API origin (the tests point it at a local fake).
import { randomBytes } from 'node:crypto';

/** States the popup uses: the ring that pops it, the live states, and how the call ended. */
export const DEFAULT_STATES = ['ringing', 'preanswer', 'queued', 'connected', 'hold', 'hangup', 'missed', 'voicemail', 'transfer_unavailable'];
const TARGET_TYPES = ['company', 'office', 'callcenter', 'department', 'user', 'room', 'staffgroup', 'coachinggroup'];

export class DialpadApi {
  constructor(key, base = 'https://dialpad.com') {
    this.key = key;
    this.base = base.replace(/\/$/, '');
  }

  async call(method, path, body) {
    const res = await fetch(`${this.base}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.key}`, accept: 'application/json', ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`Dialpad ${method} ${path}: ${res.status} ${text.slice(0, 300)}`);
    return text ? JSON.parse(text) : {};
  }

  /** Follows Dialpad's cursor pagination. */
  async all(path) {
    const items = [];
    let cursor;
    do {
      const page = await this.call('GET', cursor ? `${path}?cursor=${encodeURIComponent(cursor)}` : path);
      items.push(...(page.items ?? []));
      cursor = page.cursor;
    } while (cursor);
    return items;
  }
}

export async function setup(api, { url, states = DEFAULT_STATES, targetType, targetId }) {
  if (!/^https:\/\/[^/]+\/api\/dialpad\/webhook$/.test(url) && !/^http:\/\/(localhost|127\.0\.0\.1)(:\d+)?\/api\/dialpad\/webhook$/.test(url)) {
    throw new Error(`--url must be https://<host>/api/dialpad/webhook, got ${url}`);
  }
  if ((targetType && !targetId) || (!targetType && targetId)) throw new Error('--target-type and --target-id go together');
  if (targetType && !TARGET_TYPES.includes(targetType)) throw new Error(`--target-type must be one of ${TARGET_TYPES.join(', ')}`);
  const secret = randomBytes(32).toString('base64url');
  const existing = (await api.all('/api/v2/webhooks')).find((w) => w.hook_url === url);
  const webhook = existing
    ? await api.call('PATCH', `/api/v2/webhooks/${existing.id}`, { hook_url: url, secret })
    : await api.call('POST', '/api/v2/webhooks', { hook_url: url, secret });
  const subs = (await api.all('/api/v2/subscriptions/call')).filter((s) => String(s.webhook?.id) === String(webhook.id));
  const wanted = {
    webhook_id: webhook.id,
    call_states: states,
    enabled: true,
    group_calls_only: false,
    ...(targetType ? { target_type: targetType, target_id: targetId } : {}),
  };
  const sameTarget = (s) => (s.target_type ?? null) === (targetType ?? null) && String(s.target_id ?? '') === String(targetId ?? '');
  const match = subs.find(sameTarget);
  const subscription = match
    ? await api.call('PATCH', `/api/v2/subscriptions/call/${match.id}`, wanted)
    : await api.call('POST', '/api/v2/subscriptions/call', wanted);
  return { webhook, subscription, secret, reused: Boolean(existing) };
}

export async function list(api) {
  const hooks = await api.all('/api/v2/webhooks');
  const subs = await api.all('/api/v2/subscriptions/call');
  return hooks.map((w) => ({
    id: w.id,
    url: w.hook_url,
    signed: Boolean(w.signature?.type),
    subscriptions: subs
      .filter((s) => String(s.webhook?.id) === String(w.id))
      .map((s) => ({ id: s.id, states: s.call_states, enabled: s.enabled, target: s.target_type ? `${s.target_type}:${s.target_id}` : 'company' })),
  }));
}

export async function remove(api, id) {
  for (const s of (await api.all('/api/v2/subscriptions/call')).filter((s) => String(s.webhook?.id) === String(id))) {
    await api.call('DELETE', `/api/v2/subscriptions/call/${s.id}`);
  }
  await api.call('DELETE', `/api/v2/webhooks/${id}`);
}

async function main(argv) {
  const opt = (name) => {
    const i = argv.indexOf(name);
    return i === -1 ? undefined : argv[i + 1];
  };
  const key = process.env.DIALPAD_API_KEY;
  if (!key) throw new Error('set DIALPAD_API_KEY (a Dialpad company admin API key)');
  const api = new DialpadApi(key, process.env.DIALPAD_API_BASE);
  if (argv.includes('--list')) {
    for (const w of await list(api)) {
      console.log(`webhook ${w.id} ${w.url}${w.signed ? '' : '  (UNSIGNED: the Worker refuses its events)'}`);
      for (const s of w.subscriptions) console.log(`  call subscription ${s.id} [${s.enabled ? 'on' : 'off'}] ${s.target}: ${s.states.join(', ')}`);
    }
    return;
  }
  if (argv.includes('--delete')) {
    const id = opt('--delete');
    if (!id) throw new Error('--delete needs a webhook id (see --list)');
    await remove(api, id);
    console.log(`deleted webhook ${id} and its call subscriptions`);
    return;
  }
  const url = opt('--url');
  if (!url) throw new Error('usage: npm run dialpad:setup -- --url https://<host>/api/dialpad/webhook [--target-type T --target-id ID] | --list | --delete ID');
  const states = opt('--states')?.split(',').map((s) => s.trim()).filter(Boolean);
  const r = await setup(api, { url, states, targetType: opt('--target-type'), targetId: opt('--target-id') });
  console.log(`${r.reused ? 're-keyed existing' : 'created'} webhook ${r.webhook.id} -> ${url}`);
  console.log(`call subscription ${r.subscription.id}: ${r.subscription.call_states?.join(', ')}`);
  console.log('\nWebhook secret (shown once; store it in the Worker now):\n');
  console.log(`  ${r.secret}\n`);
  console.log('  npx wrangler secret put DIALPAD_WEBHOOK_SECRET      # paste the secret above');
  console.log('  (add --env staging for the staging Worker)');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2)).catch((e) => {
    console.error(`dialpad:setup: ${e.message}`);
    process.exit(1);
  });
}
