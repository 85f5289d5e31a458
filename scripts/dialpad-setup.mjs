// @ts-check
// Connects Dialpad to this Worker: creates (or finds and re-keys) the webhook with a freshly
// generated secret, and the call-event subscription the popup needs. Every request body follows
// Dialpad's published API v2 schema (scripts/lib/dialpad-schema.mjs says where it comes from).
//
// The secret is printed once, with the command that stores it in the Worker. Dialpad shows a
// webhook's secret only when it is set, so an existing webhook for the same URL gets a new one.
// DIALPAD_API_BASE overrides the API origin (the tests point it at a local fake).
import { randomBytes } from 'node:crypto';
import {
  CALL_STATES,
  DEFAULT_CALL_STATES,
  TARGET_TYPES,
  checkCallStates,
  checkTargetType,
} from './lib/dialpad-schema.mjs';

export const USAGE = `usage:
  DIALPAD_API_KEY=… npm run dialpad:setup -- --url https://<host>/api/dialpad/webhook
       [--target-type TYPE --target-id ID] [--states S1,S2,…]
  DIALPAD_API_KEY=… npm run dialpad:setup -- --list
  DIALPAD_API_KEY=… npm run dialpad:setup -- --delete <webhook id>
  npm run dialpad:setup -- --help

  --url          the Worker's webhook URL (https, path /api/dialpad/webhook)
  --target-type  one of ${TARGET_TYPES.join(', ')};
                 leave --target-type and --target-id out to subscribe the whole company
  --target-id    the Dialpad id of that target (an integer)
  --states       call states to subscribe to (default: ${DEFAULT_CALL_STATES.join(', ')});
                 Dialpad accepts: ${CALL_STATES.join(', ')}

DIALPAD_API_KEY is a Dialpad company-admin API key; DIALPAD_API_BASE overrides https://dialpad.com.`;

/** States the popup and the call log use (see scripts/lib/dialpad-schema.mjs). */
export const DEFAULT_STATES = DEFAULT_CALL_STATES;

// Dialpad ids are 64-bit integers: above 2^53 a JS number would change them. Responses are read
// with long integer literals turned into strings, and bodies write digit strings back as
// integers for the fields the schema types as integers.
const INT_FIELDS = new Set(['endpoint_id', 'target_id']);

export function parseJsonExact(text) {
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      out += c;
      if (c === '\\') out += text[++i] ?? '';
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') {
      inString = true;
      out += c;
      continue;
    }
    const m = /^-?\d{16,}(?![.eE\d])/.exec(text.slice(i, i + 40));
    if (m && !/[\d.eE-]/.test(text[i - 1] ?? '')) {
      out += `"${m[0]}"`;
      i += m[0].length - 1;
      continue;
    }
    out += c;
  }
  return JSON.parse(out);
}

export function toJsonBody(body) {
  const marker = (v) => `@@int:${v}@@`;
  const text = JSON.stringify(body, (k, v) =>
    INT_FIELDS.has(k) && typeof v === 'string' && /^\d{1,19}$/.test(v) ? marker(v) : v,
  );
  return text.replace(/"@@int:(\d+)@@"/g, '$1');
}

export class DialpadApi {
  constructor(key, base = 'https://dialpad.com') {
    this.key = key;
    this.base = base.replace(/\/$/, '');
  }

  async call(method, path, body) {
    const res = await fetch(`${this.base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.key}`,
        accept: 'application/json',
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      body: body ? toJsonBody(body) : undefined,
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`Dialpad ${method} ${path}: ${res.status} ${text.slice(0, 300)}`);
    return text ? parseJsonExact(text) : {};
  }

  /** Follows Dialpad's cursor pagination. */
  async all(path) {
    const items = [];
    let cursor;
    do {
      const page = await this.call(
        'GET',
        cursor ? `${path}?cursor=${encodeURIComponent(cursor)}` : path,
      );
      items.push(...(page.items ?? []));
      cursor = page.cursor;
    } while (cursor);
    return items;
  }
}

export async function setup(api, { url, states = DEFAULT_STATES, targetType, targetId }) {
  if (
    !/^https:\/\/[^/]+\/api\/dialpad\/webhook$/.test(url) &&
    !/^http:\/\/(localhost|127\.0\.0\.1)(:\d+)?\/api\/dialpad\/webhook$/.test(url)
  ) {
    throw new Error(`--url must be https://<host>/api/dialpad/webhook, got ${url}`);
  }
  if ((targetType && !targetId) || (!targetType && targetId))
    throw new Error('--target-type and --target-id go together');
  if (targetType) checkTargetType(targetType);
  if (targetId !== undefined && !/^\d{1,19}$/.test(String(targetId)))
    throw new Error(`--target-id must be a Dialpad id (digits), got ${targetId}`);
  const callStates = checkCallStates(states);
  const secret = randomBytes(32).toString('base64url');
  const existing = (await api.all('/api/v2/webhooks')).find((w) => w.hook_url === url);
  const webhook = existing
    ? await api.call('PATCH', `/api/v2/webhooks/${existing.id}`, { hook_url: url, secret })
    : await api.call('POST', '/api/v2/webhooks', { hook_url: url, secret });
  const subs = (await api.all('/api/v2/subscriptions/call')).filter(
    (s) => String(s.webhook?.id) === String(webhook.id),
  );
  // CreateCallEventSubscription / UpdateCallEventSubscription: the webhook is `endpoint_id`.
  const wanted = {
    endpoint_id: String(webhook.id),
    call_states: callStates,
    enabled: true,
    group_calls_only: false,
    ...(targetType ? { target_type: targetType, target_id: String(targetId) } : {}),
  };
  const sameTarget = (s) =>
    (s.target_type ?? null) === (targetType ?? null) &&
    String(s.target_id ?? '') === String(targetId ?? '');
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
      .map((s) => ({
        id: s.id,
        states: s.call_states,
        enabled: s.enabled,
        target: s.target_type ? `${s.target_type}:${s.target_id}` : 'company',
      })),
  }));
}

export async function remove(api, id) {
  for (const s of (await api.all('/api/v2/subscriptions/call')).filter(
    (s) => String(s.webhook?.id) === String(id),
  )) {
    await api.call('DELETE', `/api/v2/subscriptions/call/${s.id}`);
  }
  await api.call('DELETE', `/api/v2/webhooks/${id}`);
}

async function main(argv) {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(USAGE);
    return;
  }
  const opt = (name) => {
    const i = argv.indexOf(name);
    return i === -1 ? undefined : argv[i + 1];
  };
  const key = process.env.DIALPAD_API_KEY;
  if (!key) throw new Error('set DIALPAD_API_KEY (a Dialpad company admin API key); see --help');
  const api = new DialpadApi(key, process.env.DIALPAD_API_BASE);
  if (argv.includes('--list')) {
    for (const w of await list(api)) {
      console.log(
        `webhook ${w.id} ${w.url}${w.signed ? '' : '  (UNSIGNED: the Worker refuses its events)'}`,
      );
      for (const s of w.subscriptions)
        console.log(
          `  call subscription ${s.id} [${s.enabled ? 'on' : 'off'}] ${s.target}: ${s.states.join(', ')}`,
        );
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
  if (!url) throw new Error(`--url is missing\n${USAGE}`);
  const states = opt('--states')
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const r = await setup(api, {
    url,
    states,
    targetType: opt('--target-type'),
    targetId: opt('--target-id'),
  });
  console.log(`${r.reused ? 're-keyed existing' : 'created'} webhook ${r.webhook.id} -> ${url}`);
  console.log(`call subscription ${r.subscription.id}: ${r.subscription.call_states?.join(', ')}`);
  console.log('\nWebhook secret (shown once; store it in both Workers now):\n');
  console.log(`  ${r.secret}\n`);
  // The pop Worker verifies the deliveries; the console Worker checks that its own copy
  // differs from JWT_SECRET. A pop Worker left with the old secret answers Dialpad 401.
  console.log(
    '  npx wrangler secret put DIALPAD_WEBHOOK_SECRET -c wrangler.pop.toml   # paste the secret above',
  );
  console.log(
    '  npx wrangler secret put DIALPAD_WEBHOOK_SECRET                        # and again, for the console',
  );
  console.log('  (add --env staging to both for the staging Workers)');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2)).catch((e) => {
    console.error(`dialpad:setup: ${e.message}`);
    process.exit(1);
  });
}
