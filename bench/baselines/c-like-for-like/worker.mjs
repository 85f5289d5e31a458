// @ts-check
// Baseline C — like for like. A JavaScript Worker + Durable Object doing the product's webhook
// pipeline, in the shape the Rust pipeline is being moved to: the Worker verifies the Dialpad
// JWT (WebCrypto HMAC), checks the replay window, parses the event as src/domain/dialpad.rs
// does and hands it to the hub object; the hub, in one synchronous step on its own SQLite,
// dedupes the event, resolves the store (longest prefix, then office), reads the customer card
// (the CARD_COLUMNS SQL), upserts the call (the MOVES rule of src/db/calls.rs), claims
// the pop, reads the call back, appends the D1 writes to an outbox, stores the message with a
// seq and sends it to every socket, then answers. An alarm drains the outbox into D1 with the
// same statements the Rust pipeline runs, wrapped as ours wraps them in the 着信分析 rollups'
// upkeep (db/rollups.rs: the calls' hours marked, recomputed from rollup.sql and
// rollup_wrapups.sql, which the driver passes in as ROLLUP_SQL and ROLLUP_WRAPUPS_SQL). Not
// ported: the 折り返し statements of a missed, voicemail or answered call (db/callbacks.rs
// on_call_event), which the bench's ringing calls never reach. Mirrors of stores, prefixes, customers and their
// phones (and, once, the call log) are loaded from D1 when the object starts. A console's
// socket is opened as ours opens it: the session token and its D1 row checked in the Worker
// (reads of concurrent upgrades coalesced), then the hub's own check, rooms, attachment and the
// viewer's replay; a broadcast goes to the call's rooms after the one access check, and the
// alarm re-checks the connected users every 20 s.
//
// The rules are ported from the Rust sources named next to each function; keep them in step.
// Benchmark only; not part of the product. See docs/benchmarks.md ("Baseline C").
import { DurableObject } from 'cloudflare:workers';

// ---- the Worker: verify, replay window, parse (src/domain/token.rs, replay.rs, dialpad.rs) --

const MAX_WEBHOOK_BYTES = 64 * 1024;
const LEEWAY_SECS = 60;
const MAX_IAT_AHEAD_SECS = 300;
const MAX_AGE_MS = 15 * 60 * 1000;
const MAX_AHEAD_MS = 2 * 60 * 1000;

const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: true });
const hmacKeys = new Map(); // secret -> its imported key, once per isolate (webhook, session)

async function hmacKey(secret) {
  let key = hmacKeys.get(secret);
  if (key === undefined) {
    key = await crypto.subtle.importKey(
      'raw',
      enc.encode(secret),
      { name: 'HMAC', hash: 'SHA-256' },
      false,
      ['verify'],
    );
    hmacKeys.set(secret, key);
  }
  return key;
}

const B64URL = /^[A-Za-z0-9_-]*$/;
function b64url(s) {
  if (!B64URL.test(s) || s.length % 4 === 1) return null;
  const bin = atob(s.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (s.length % 4)) % 4));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

class Rejected extends Error {
  constructor(status, code) {
    super(code);
    this.status = status;
    this.code = code;
  }
}

// Dialpad ids are integers up to 2^63: an integer literal beyond 2^53 is kept exact (as a
// BigInt) from its source text, as serde_json keeps it exact on our side.
function exactIntegers(_key, value, context) {
  if (
    typeof value === 'number' &&
    !Number.isSafeInteger(value) &&
    context?.source &&
    /^-?\d+$/.test(context.source)
  ) {
    return BigInt(context.source);
  }
  return value;
}

/** token::verify (verify_webhook, verify_session): HS256 only, signature, exp/nbf (60 s
 * leeway), iat not ahead. */
async function verifyHs256(token, secret, nowSecs) {
  const parts = token.split('.');
  if (parts.length !== 3) throw new Rejected(400, 'malformed_token');
  let header;
  try {
    header = JSON.parse(dec.decode(b64url(parts[0]) ?? new Uint8Array([0xff])));
  } catch {
    throw new Rejected(400, 'malformed_token');
  }
  if (header?.alg !== 'HS256') throw new Rejected(401, 'unsupported_alg');
  const sig = b64url(parts[2]);
  const payload = b64url(parts[1]);
  if (!sig || !payload) throw new Rejected(400, 'malformed_token');
  const ok = await crypto.subtle.verify(
    'HMAC',
    await hmacKey(secret),
    sig,
    enc.encode(`${parts[0]}.${parts[1]}`),
  );
  if (!ok) throw new Rejected(401, 'bad_signature');
  let claims;
  try {
    claims = JSON.parse(dec.decode(payload), exactIntegers);
  } catch {
    throw new Rejected(400, 'malformed_claims');
  }
  if (claims === null || typeof claims !== 'object' || Array.isArray(claims))
    throw new Rejected(400, 'malformed_claims');
  const time = (name) => {
    const v = claims[name];
    if (v === undefined || v === null) return null;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new Rejected(400, 'malformed_claims');
    return Math.trunc(v);
  };
  const exp = time('exp');
  const nbf = time('nbf');
  const iat = time('iat');
  if (exp !== null && exp + LEEWAY_SECS < nowSecs) throw new Rejected(401, 'token_expired');
  if (nbf !== null && nbf > nowSecs + LEEWAY_SECS) throw new Rejected(401, 'token_not_yet_valid');
  if (iat !== null && iat > nowSecs + MAX_IAT_AHEAD_SECS) throw new Rejected(401, 'iat_in_future');
  return claims;
}

/** replay::check: event_timestamp (ms), else iat (s), within 15 min back / 2 min ahead. */
function checkReplay(claims, nowMs) {
  const num = (v) =>
    typeof v === 'bigint' ? Number(v) : typeof v === 'number' && Number.isFinite(v) ? v : null;
  const ms = num(claims.event_timestamp);
  const iat = num(claims.iat);
  const t = ms ?? (iat === null ? null : iat * 1000);
  if (t === null) return;
  if (Math.trunc(t) < nowMs - MAX_AGE_MS) throw new Rejected(401, 'stale_event');
  if (Math.trunc(t) > nowMs + MAX_AHEAD_MS) throw new Rejected(401, 'event_from_future');
}

// phone::normalize
const WITHHELD = [
  'anonymous',
  'withheld',
  'private',
  'restricted',
  'unknown',
  'unavailable',
  '非通知',
  '通知不可能',
  '公衆電話',
];
const SEPARATORS = new Set([
  ' ',
  '\u3000',
  '\t',
  '-',
  '‐',
  '‑',
  '–',
  '—',
  '－',
  '−',
  'ー',
  '(',
  ')',
  '（',
  '）',
  '.',
  '/',
]);
const MAX_DIGITS = 20;
/** '' for withheld, the normalised number, or undefined when it is not a phone number. */
function normalizePhone(input) {
  const trimmed = input.trim();
  if (!trimmed || WITHHELD.some((w) => w.toLowerCase() === trimmed.toLowerCase())) return '';
  let plus = false;
  let digits = '';
  let i = 0;
  for (const c of trimmed) {
    if (c >= '0' && c <= '9') digits += c;
    else if (c >= '０' && c <= '９') digits += String.fromCharCode(48 + c.charCodeAt(0) - 0xff10);
    else if ((c === '+' || c === '＋') && i === 0) plus = true;
    else if (!SEPARATORS.has(c)) return undefined;
    if (digits.length > MAX_DIGITS) return undefined;
    i++;
  }
  if (!digits) return undefined;
  if (plus) {
    if (!digits.startsWith('81')) return `+${digits}`;
    const rest = digits.slice(2);
    return '0' + (rest.startsWith('0') ? rest.slice(1) : rest);
  }
  if (digits.startsWith('81')) {
    const rest = digits.slice(2);
    return rest.length >= 9 && rest.length <= 10 && !rest.startsWith('0') ? '0' + rest : digits;
  }
  return digits;
}

// dialpad.rs
const MAX_ID_LEN = 64;
const MAX_NAME_CHARS = 200;
const MAX_URL_LEN = 2048;
const MAX_RECORDINGS = 10;
const MAX_TEXT_CHARS = 20000;
const MAX_MS = 32_503_680_000_000;
const ID = /^[A-Za-z0-9_-]+$/;
const STATE = /^[a-z0-9_]+$/;
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

const takeChars = (s, n) => (s.length <= n ? s : Array.from(s).slice(0, n).join(''));

const I64_MIN = -(2n ** 63n);
const U64_MAX = 2n ** 64n - 1n;

/** An integer id (i64 or u64, kept exact) or a string of id characters. */
function idValue(v) {
  if (typeof v === 'bigint') return v >= I64_MIN && v <= U64_MAX ? v.toString() : null;
  if (typeof v === 'number') return Number.isSafeInteger(v) ? String(v) : null;
  if (typeof v === 'string' && v.length > 0 && v.length <= MAX_ID_LEN && ID.test(v)) return v;
  return null;
}

function msValue(v) {
  let f;
  if (typeof v === 'number') f = v;
  else if (typeof v === 'string' && DECIMAL.test(v.trim())) f = Number(v.trim());
  else return null; // a BigInt is beyond year 3000 anyway
  if (!Number.isFinite(f) || f < 0 || f > MAX_MS) return null;
  return Math.trunc(f);
}

function textField(v) {
  if (typeof v === 'string' && v.trim()) return takeChars(v.trim(), MAX_NAME_CHARS);
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  return null;
}

function longText(v) {
  if (typeof v === 'string') return v.trim() ? takeChars(v.trim(), MAX_TEXT_CHARS) : null;
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    for (const k of ['summary', 'text', 'content']) {
      const t = longText(v[k]);
      if (t) return t;
    }
  }
  return null;
}

function urlValue(v) {
  if (typeof v !== 'string') return null;
  const s = v.trim();
  return (s.startsWith('https://') || s.startsWith('http://')) &&
    s.length <= MAX_URL_LEN &&
    !/[\s\p{Cc}]/u.test(s)
    ? s
    : null;
}

function party(v) {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return null;
  const p = { id: textField(v.id), name: textField(v.name), kind: textField(v.type) };
  return p.id !== null || p.name !== null || p.kind !== null ? p : null;
}

/** phone_value: [number ('' when withheld), kind]. */
function phoneValue(v) {
  if (v === undefined || v === null) return ['', 'withheld'];
  if (typeof v !== 'string') return ['', 'unusable'];
  if (v.trim().toLowerCase() === 'blocked') return ['', 'withheld'];
  const n = normalizePhone(v);
  if (n === undefined) return ['', 'unusable'];
  return n ? [n, 'number'] : ['', 'withheld'];
}

function recordingUrls(c) {
  const urls = [];
  const details = Array.isArray(c.recording_details) ? c.recording_details : [];
  const fromDetails = details.map((d) => (d && typeof d === 'object' ? urlValue(d.url) : null));
  const single = Array.isArray(c.recording_url)
    ? c.recording_url.map(urlValue)
    : [urlValue(c.recording_url)];
  for (const u of [...fromDetails, ...single])
    if (u && urls.length < MAX_RECORDINGS && !urls.includes(u)) urls.push(u);
  return urls;
}

function classify(state, dateConnected) {
  switch (state) {
    case 'ringing':
    case 'calling':
    case 'preanswer':
    case 'queued':
      return 'ringing';
    case 'connected':
    case 'merged':
    case 'takeover':
    case 'barge':
    case 'monitor':
    case 'eavesdrop':
      return 'connected';
    case 'hold':
    case 'parked':
      return 'hold';
    case 'hangup':
      return dateConnected !== null ? 'ended' : 'missed';
    case 'missed':
    case 'blocked':
      return 'missed';
    case 'voicemail':
      return 'voicemail';
    case 'voicemail_uploaded':
    case 'postcall':
    case 'transcription':
    case 'call_transcription':
    case 'recording':
    case 'csat':
    case 'pcsat':
    case 'ai_playbook':
    case 'admin':
    case 'admin_recording':
    case 'dispositions':
    case 'recap_summary':
    case 'recap_outcome':
    case 'recap_purposes':
    case 'recap_action_items':
      return 'postcall';
    default:
      return 'other';
  }
}

/** dialpad::parse: total over a verified token's content; fails only without a call id. */
function parseEvent(c) {
  if (c.call_id === undefined || c.call_id === null) throw new Rejected(200, 'missing_call_id');
  const callId = idValue(c.call_id);
  if (callId === null) throw new Rejected(200, 'invalid_call_id');
  const state =
    typeof c.state === 'string' &&
    c.state.length > 0 &&
    c.state.length <= MAX_ID_LEN &&
    STATE.test(c.state)
      ? c.state
      : 'unknown';
  const direction =
    c.direction === 'inbound' || c.direction === 'outbound' ? c.direction : 'unknown';
  const dateConnected = msValue(c.date_connected);
  const [external] = phoneValue(c.external_number);
  const [internal] = phoneValue(c.internal_number);
  const target =
    c.target && typeof c.target === 'object' && !Array.isArray(c.target) ? c.target : null;
  const entry =
    c.entry_point_target &&
    typeof c.entry_point_target === 'object' &&
    !Array.isArray(c.entry_point_target)
      ? c.entry_point_target
      : null;
  const [entryPhone, entryKind] = entry ? phoneValue(entry.phone) : ['', 'withheld'];
  return {
    callId,
    masterCallId: idValue(c.master_call_id),
    entryPointCallId: idValue(c.entry_point_call_id),
    state,
    phase: classify(state, dateConnected),
    direction,
    external,
    internal,
    contact: party(c.contact),
    target: party(c.target),
    dateStarted: msValue(c.date_started),
    dateRang: msValue(c.date_rang),
    dateConnected,
    dateEnded: msValue(c.date_ended),
    eventTimestamp: msValue(c.event_timestamp),
    durationMs: msValue(c.duration),
    targetOfficeId: target ? idValue(target.office_id) : null,
    entryPointPhone: entryKind === 'number' ? entryPhone : '',
    entryPointOfficeId: entry ? idValue(entry.office_id) : null,
    voicemailLink: urlValue(c.voicemail_link) ?? urlValue(c.voicemail_share_link),
    recordingUrls: recordingUrls(c),
    transcriptionText: longText(c.transcription_text),
    recapSummary: longText(c.recap_summary),
  };
}

const json = (status, body) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

async function webhook(request, env) {
  const started = Date.now();
  try {
    const len = Number(request.headers.get('content-length') ?? 0);
    if (len > MAX_WEBHOOK_BYTES) throw new Rejected(413, 'too_large');
    const text = (await request.text()).trim();
    if (text.length > MAX_WEBHOOK_BYTES) throw new Rejected(413, 'too_large');
    // Unsigned (plain JSON) webhooks are refused, as ours does with ALLOW_UNSIGNED_WEBHOOKS=false.
    if (text.startsWith('{')) throw new Rejected(401, 'unsigned_webhook');
    const claims = await verifyHs256(text, env.DIALPAD_WEBHOOK_SECRET, Math.floor(started / 1000));
    checkReplay(claims, started);
    let event;
    try {
      event = parseEvent(claims);
    } catch (e) {
      if (!(e instanceof Rejected)) throw e;
      console.log(
        JSON.stringify({
          event: 'webhook',
          decision: 'unattributable',
          code: e.code,
          ms: Date.now() - started,
        }),
      );
      return json(200, { ok: true, status: 'unattributable' });
    }
    const hub = env.HUB.get(env.HUB.idFromName('hub'));
    return await hub.fetch('https://hub/event', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ event, now: started }),
    });
  } catch (e) {
    if (!(e instanceof Rejected)) throw e;
    console.log(
      JSON.stringify({
        event: 'webhook_rejected',
        status: e.status,
        code: e.code,
        ms: Date.now() - started,
      }),
    );
    return json(e.status, { error: e.code });
  }
}

// ---- the console's socket: the session checked before the upgrade (console.rs socket,
// resources/accounts/auth.rs authenticate, platform/batch.rs, db/users.rs by_sessions) ----

const IDLE_SECS = 720 * 60; // SESSION_IDLE_MINUTES' default (token::idle_secs)
const TOUCH_EVERY_SECS = 5 * 60; // token::TOUCH_EVERY_SECS
const SOCKET_HEADER = 'x-cti-socket';

// db/users.rs user_select: an account's columns with its stores (STORES_OF_U).
const USER_COLUMNS =
  'u.id, u.login_id, u.display_name, coalesce(u.org_role, u.role) AS role, u.store_id, u.password_hash, ' +
  'u.token_version, u.disabled, (SELECT json_group_array(us.store_id) FROM user_stores us WHERE us.user_id = u.id) AS stores';

// users::by_sessions: the sessions' users (with their stores) in one statement.
const BY_SESSIONS =
  `SELECT ${USER_COLUMNS}, s.id AS sid, s.last_seen FROM sessions s JOIN users u ON u.id = s.user_id ` +
  "WHERE s.id IN (SELECT json_extract(value, '$[1]') FROM json_each(?1)) AND s.expires_at > ?2";

/** auth::check_origin: no Origin (not a browser), or our own. */
function checkOrigin(request) {
  const origin = request.headers.get('Origin');
  if (origin !== null && origin !== new URL(request.url).origin)
    throw new Rejected(403, 'bad_origin');
}

/** auth::token_of: `Authorization: Bearer`, else the session cookie. */
function tokenOf(request) {
  const auth = request.headers.get('Authorization');
  if (auth?.startsWith('Bearer ')) return auth.slice(7).trim();
  const m = /(?:^|;\s*)__Host-cti_session=([^;]+)/.exec(request.headers.get('Cookie') ?? '');
  return m ? m[1] : null;
}

/** platform::batch Coalescer: the session reads of concurrent requests in one D1 statement. A
 * lone request reads at once; requests arriving while a read is in flight queue their keys and
 * wait (polling, each in its own request's context), and the first of them reads for all. */
const sessionReads = { reading: false, queue: [] };

async function readSession(db, uid, sid) {
  const place = { uid, sid, done: false, value: null, error: null };
  sessionReads.queue.push(place);
  for (;;) {
    if (place.done) {
      if (place.error) throw place.error;
      return place.value;
    }
    if (sessionReads.reading) {
      await new Promise((r) => setTimeout(r, 1));
      continue;
    }
    sessionReads.reading = true;
    const batch = sessionReads.queue.splice(0);
    try {
      const { results } = await db
        .prepare(BY_SESSIONS)
        .bind(JSON.stringify(batch.map((p) => [p.uid, p.sid])), Math.floor(Date.now() / 1000))
        .all();
      for (const p of batch) {
        p.value = results.find((r) => r.sid === p.sid && r.id === p.uid) ?? null;
        p.done = true;
      }
    } catch (e) {
      for (const p of batch) {
        p.error = e;
        p.done = true;
      }
    } finally {
      sessionReads.reading = false;
    }
  }
}

/** token::store_set: ascending, without duplicates. */
function storeSet(store, storesJson) {
  let list = [];
  try {
    list = JSON.parse(storesJson ?? '[]');
  } catch {
    list = [];
  }
  const all = [...(Array.isArray(list) ? list : []), store].filter((s) => typeof s === 'number');
  return [...new Set(all)].sort((a, b) => a - b);
}

/** auth::authenticate: the token, then its session and user in D1 (coalesced), idle time. */
async function authenticate(request, env) {
  const token = tokenOf(request);
  if (token === null) throw new Rejected(401, 'not_logged_in');
  const now = Math.floor(Date.now() / 1000);
  const claims = await verifyHs256(token, env.JWT_SECRET, now);
  if (typeof claims.exp !== 'number') throw new Rejected(401, 'missing_expiry');
  if (typeof claims.sid !== 'string' || claims.sid === '' || typeof claims.uid !== 'number')
    throw new Rejected(401, 'session_revoked');
  const row = await readSession(env.DB, claims.uid, claims.sid);
  if (row === null || row.disabled !== 0 || row.token_version !== claims.tv)
    throw new Rejected(401, 'session_revoked');
  const since = now - row.last_seen;
  if (since >= IDLE_SECS) throw new Rejected(401, 'session_idle');
  if (since >= Math.min(Math.max(Math.floor(IDLE_SECS / 10), 1), TOUCH_EVERY_SECS))
    await env.DB.prepare('UPDATE sessions SET last_seen = ?2 WHERE id = ?1')
      .bind(claims.sid, now)
      .run();
  return {
    uid: row.id,
    role: row.role,
    store: row.store_id,
    stores: storeSet(row.store_id, row.stores),
    exp: Math.trunc(claims.exp),
    tv: row.token_version,
    sid: row.sid,
    lease: 0,
    bucket: { t: 0, at: 0 },
  };
}

/** console.rs socket: the upgrade, the origin, the session; then the hub with the identity. */
async function socket(request, env) {
  try {
    checkOrigin(request);
    const info = await authenticate(request, env);
    const since = new URL(request.url).searchParams.get('since');
    if (since !== null && !/^\d+$/.test(since)) throw new Rejected(400, 'invalid_since');
    const headers = new Headers({ Upgrade: 'websocket' });
    headers.set(SOCKET_HEADER, JSON.stringify(info));
    const url = since === null ? 'https://hub/connect' : `https://hub/connect?since=${since}`;
    return await env.HUB.get(env.HUB.idFromName('hub')).fetch(url, { headers });
  } catch (e) {
    if (!(e instanceof Rejected)) throw e;
    return json(e.status, { error: e.code });
  }
}

export default {
  async fetch(request, env) {
    const { pathname } = new URL(request.url);
    if (pathname === '/api/dialpad/webhook' && request.method === 'POST')
      return webhook(request, env);
    if (pathname === '/ws') {
      if (request.headers.get('Upgrade')?.toLowerCase() !== 'websocket')
        return json(426, { error: 'upgrade_required' });
      return socket(request, env);
    }
    if (pathname === '/health') return new Response('ok');
    if (pathname === '/outbox')
      return env.HUB.get(env.HUB.idFromName('hub')).fetch('https://hub/outbox');
    return new Response('not found', { status: 404 });
  },
};

// ---- the hub: one synchronous step on its own SQLite ------------------------------------

const THIRTY_DAYS_MS = 30 * 24 * 3600 * 1000;
const KEEP_MS = 15 * 60 * 1000; // hub/mod.rs: events replayable for 15 min, 2000 at most
const KEEP_COUNT = 2000;
const PRUNE_EVERY = 32;
const POP_MEMO_CHARS = 200;
const MAX_PHONES = 10;
const DRAIN_DELAY_MS = 50; // the alarm that writes the outbox to D1 runs this soon after an append
const DRAIN_MAX_EVENTS = 25; // events per D1 batch (4-5 statements each), outbox.rs BATCH_OPS

// rollups.rs: mark, DIRTY_DAYS, RECOMPUTE_DAYS (the hourly recomputes are rollup.sql and
// rollup_wrapups.sql themselves, from the driver).
const ROLLUP_MARK =
  'INSERT OR IGNORE INTO call_rollup_dirty (hour) ' +
  'SELECT started_at / 3600000 FROM calls WHERE id IN (SELECT value FROM json_each(?1))';
const ROLLUP_DIRTY_DAYS = 'SELECT DISTINCT (hour + 9) / 24 FROM call_rollup_dirty';
const ROLLUP_DAYS =
  'INSERT INTO call_rollups_day (day, store_id, calls, answered, ' +
  'missed, voicemail, ring_n, ring_ms, ring_max_ms, talk_n, talk_ms, withheld) ' +
  'SELECT d.day, r.store_id, sum(r.calls), sum(r.answered), sum(r.missed), sum(r.voicemail), ' +
  'sum(r.ring_n), sum(r.ring_ms), max(r.ring_max_ms), sum(r.talk_n), sum(r.talk_ms), sum(r.withheld) ' +
  'FROM (SELECT DISTINCT (hour + 9) / 24 AS day FROM call_rollup_dirty) d ' +
  'JOIN call_rollups r ON r.hour >= d.day * 24 - 9 AND r.hour < d.day * 24 + 15 ' +
  'GROUP BY d.day, r.store_id';

// The local tables: the D1 tables' shapes after migrations/*.sql (only the columns the
// pipeline reads or writes), the outbox, and the hub's replay log (hub/mod.rs).
const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS stores (id INTEGER PRIMARY KEY, name TEXT NOT NULL, dialpad_office_id TEXT)`,
  `CREATE TABLE IF NOT EXISTS store_prefixes (prefix TEXT PRIMARY KEY, store_id INTEGER NOT NULL)`,
  `CREATE INDEX IF NOT EXISTS store_prefixes_store ON store_prefixes(store_id)`,
  `CREATE TABLE IF NOT EXISTS customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, kana TEXT NOT NULL DEFAULT '',
     memo TEXT NOT NULL DEFAULT '', home_store_id INTEGER, customer_type TEXT NOT NULL DEFAULT '新規', flag TEXT,
     visit_count INTEGER NOT NULL DEFAULT 0, total_spend INTEGER NOT NULL DEFAULT 0, last_visit_at TEXT,
     updated_at TEXT NOT NULL, version INTEGER NOT NULL DEFAULT 1, custom TEXT NOT NULL DEFAULT '{}')`,
  `CREATE TABLE IF NOT EXISTS custom_fields (id INTEGER PRIMARY KEY, label TEXT NOT NULL, kind TEXT NOT NULL,
     store_id INTEGER, on_card INTEGER NOT NULL DEFAULT 0, position INTEGER NOT NULL DEFAULT 0)`,
  `CREATE TABLE IF NOT EXISTS customer_phones (phone TEXT NOT NULL, customer_id INTEGER NOT NULL, PRIMARY KEY (phone, customer_id))`,
  `CREATE INDEX IF NOT EXISTS customer_phones_customer ON customer_phones(customer_id)`,
  `CREATE TABLE IF NOT EXISTS calls (id TEXT PRIMARY KEY, direction TEXT NOT NULL, caller TEXT NOT NULL DEFAULT '',
     dialled TEXT NOT NULL DEFAULT '', store_id INTEGER, customer_id INTEGER, state TEXT NOT NULL, phase TEXT NOT NULL,
     rank INTEGER NOT NULL DEFAULT 0, popped_by TEXT, is_test INTEGER NOT NULL DEFAULT 0, started_at INTEGER NOT NULL,
     connected_at INTEGER, ended_at INTEGER, duration_ms INTEGER, answered_by TEXT, updated_at INTEGER NOT NULL,
     voicemail_url TEXT, recording_urls TEXT, transcript TEXT, summary TEXT)`,
  `CREATE INDEX IF NOT EXISTS calls_started ON calls(started_at DESC)`,
  `CREATE INDEX IF NOT EXISTS calls_caller ON calls(caller, started_at DESC)`,
  `CREATE INDEX IF NOT EXISTS calls_caller_usage ON calls(caller, is_test, started_at, store_id, phase)`,
  `CREATE INDEX IF NOT EXISTS calls_caller_phase ON calls(caller, is_test, phase, started_at, store_id)`,
  `CREATE INDEX IF NOT EXISTS calls_store ON calls(store_id, started_at DESC)`,
  `CREATE TABLE IF NOT EXISTS call_events (call_id TEXT NOT NULL, state TEXT NOT NULL, group_id TEXT NOT NULL,
     received_at INTEGER NOT NULL, event_ts INTEGER, rank INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (call_id, state))`,
  `CREATE INDEX IF NOT EXISTS call_events_group ON call_events(group_id)`,
  `CREATE TABLE IF NOT EXISTS outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL UNIQUE,
     call_id TEXT NOT NULL, store_id INTEGER, live INTEGER NOT NULL, created_at INTEGER NOT NULL,
     body TEXT NOT NULL, staff_body TEXT)`,
  `CREATE INDEX IF NOT EXISTS events_created ON events(created_at)`,
  `CREATE INDEX IF NOT EXISTS events_call ON events(call_id, seq)`,
  `CREATE TABLE IF NOT EXISTS mirror_meta (k TEXT PRIMARY KEY, v INTEGER NOT NULL)`,
  // hub/sockets.rs: what the hub knows of its consoles' users, and the sessions logged out.
  `CREATE TABLE IF NOT EXISTS users (uid INTEGER PRIMARY KEY, tv INTEGER NOT NULL, disabled INTEGER NOT NULL,
     role TEXT, store INTEGER)`,
  `CREATE TABLE IF NOT EXISTS revoked_sessions (sid TEXT PRIMARY KEY, at INTEGER NOT NULL)`,
];

// What is read from D1 into the mirrors (every start), and the call log (once).
const MIRRORS = [
  ['stores', 'SELECT id, name, dialpad_office_id FROM stores'],
  ['store_prefixes', 'SELECT prefix, store_id FROM store_prefixes'],
  [
    'customers',
    'SELECT id, name, kana, memo, home_store_id, customer_type, flag, visit_count, total_spend, last_visit_at, updated_at, version, custom FROM customers',
  ],
  ['custom_fields', 'SELECT id, label, kind, store_id, on_card, position FROM custom_fields'],
  ['customer_phones', 'SELECT phone, customer_id FROM customer_phones'],
];
const CALL_LOG = [
  [
    'calls',
    'SELECT id, direction, caller, dialled, store_id, customer_id, state, phase, rank, popped_by, is_test, started_at, connected_at, ended_at, duration_ms, answered_by, updated_at, voicemail_url, recording_urls, transcript, summary FROM calls',
  ],
  [
    'call_events',
    'SELECT call_id, state, group_id, received_at, event_ts, rank FROM call_events WHERE received_at >= ?1',
  ],
];

// stores.rs TABLE_SQL
const TABLE_SQL =
  "SELECT 'prefix' AS kind, p.prefix AS key, p.store_id, s.name AS store_name " +
  'FROM store_prefixes p JOIN stores s ON s.id = p.store_id ' +
  "UNION ALL SELECT 'office', s.dialpad_office_id, s.id, s.name FROM stores s " +
  'WHERE s.dialpad_office_id IS NOT NULL';

// customers/queries.rs CARD_COLUMNS, through by_phone_for (?2: 30 days ago, ?3: scope, NULL).
const VIS = '(?3 IS NULL OR k.store_id = ?3)';
const CARD_SQL =
  'SELECT c.id, c.name, c.kana, c.memo, c.customer_type, c.flag, ' +
  'c.visit_count, c.total_spend, c.last_visit_at, c.updated_at, c.version, c.home_store_id, hs.name AS home_store_name, ' +
  "(SELECT group_concat(phone, ',') FROM customer_phones WHERE customer_id = c.id) AS phones, " +
  `(SELECT coalesce(sum((SELECT count(*) FROM calls k WHERE k.caller = cp.phone AND k.is_test = 0 AND ${VIS})), 0) FROM customer_phones cp WHERE cp.customer_id = c.id) AS call_count, ` +
  `(SELECT max((SELECT max(k.started_at) FROM calls k WHERE k.caller = cp.phone AND k.is_test = 0 AND ${VIS})) FROM customer_phones cp WHERE cp.customer_id = c.id) AS last_call, ` +
  `(SELECT min((SELECT min(k.started_at) FROM calls k WHERE k.caller = cp.phone AND k.is_test = 0 AND ${VIS})) FROM customer_phones cp WHERE cp.customer_id = c.id) AS first_contact, ` +
  `(SELECT coalesce(sum((SELECT count(*) FROM calls k WHERE k.caller = cp.phone AND k.is_test = 0 AND k.phase IN ('missed', 'voicemail') AND ${VIS} AND k.started_at >= ?2)), 0) ` +
  '   FROM customer_phones cp WHERE cp.customer_id = c.id) AS missed_30d, ' +
  // The business's own fields shown on the card (0016_custom_fields.sql).
  "(SELECT json_group_array(json_object('id', f.id, 'label', f.label, 'kind', f.kind, 'value', f.v)) FROM " +
  "  (SELECT d.id, d.label, d.kind, json_extract(c.custom, '$.\"' || d.id || '\"') AS v FROM custom_fields d " +
  '   WHERE d.on_card = 1 AND (d.store_id IS NULL OR d.store_id = c.home_store_id) ORDER BY d.position, d.id) f ' +
  "  WHERE f.v IS NOT NULL AND f.v <> '') AS card_fields " +
  'FROM customer_phones p JOIN customers c ON c.id = p.customer_id ' +
  'LEFT JOIN stores hs ON hs.id = c.home_store_id WHERE p.phone = ?1 ' +
  'ORDER BY c.updated_at DESC, c.id LIMIT 10';

// record.rs: the event log, the call upsert (MOVES), the pop claim, the finish, the read-back.
// Used on the hub's SQLite and, drained from the outbox, on D1 (INSERT_EVENT_D1 also resets
// `delivered`, which only D1's table has).
const INSERT_EVENT =
  'INSERT INTO call_events (call_id, state, group_id, received_at, event_ts, rank) ' +
  'VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (call_id, state) DO UPDATE SET ' +
  '  event_ts = excluded.event_ts, received_at = excluded.received_at ' +
  'WHERE excluded.event_ts > coalesce(call_events.event_ts, 0) RETURNING call_id';
const INSERT_EVENT_D1 =
  'INSERT INTO call_events (call_id, state, group_id, received_at, event_ts, rank) ' +
  'VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (call_id, state) DO UPDATE SET ' +
  '  event_ts = excluded.event_ts, received_at = excluded.received_at, delivered = 0 ' +
  'WHERE excluded.event_ts > coalesce(call_events.event_ts, 0)';
const MOVES =
  '(excluded.rank > 0 AND excluded.rank >= calls.rank AND NOT (excluded.rank = 3 AND EXISTS ' +
  '(SELECT 1 FROM call_events e WHERE e.group_id = calls.id AND e.call_id != ?15 ' +
  ' GROUP BY e.call_id HAVING max(e.rank) BETWEEN 1 AND 2)))';
const UPSERT_CALL =
  'INSERT INTO calls (id, direction, caller, dialled, state, phase, rank, ' +
  '  is_test, started_at, connected_at, ended_at, duration_ms, answered_by, updated_at, ' +
  '  voicemail_url, recording_urls, transcript, summary) ' +
  'VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?16, ?17, ?18, ?19) ' +
  'ON CONFLICT (id) DO UPDATE SET ' +
  `  state = CASE WHEN ${MOVES} THEN excluded.state ELSE calls.state END, ` +
  `  phase = CASE WHEN ${MOVES} THEN excluded.phase ELSE calls.phase END, ` +
  `  ended_at = CASE WHEN ${MOVES} THEN coalesce(excluded.ended_at, calls.ended_at) ELSE calls.ended_at END, ` +
  `  duration_ms = CASE WHEN ${MOVES} THEN coalesce(excluded.duration_ms, calls.duration_ms) ELSE calls.duration_ms END, ` +
  `  rank = CASE WHEN ${MOVES} THEN excluded.rank ELSE calls.rank END, ` +
  "  direction = CASE WHEN calls.direction = 'unknown' THEN excluded.direction ELSE calls.direction END, " +
  "  caller = CASE WHEN calls.caller = '' THEN excluded.caller ELSE calls.caller END, " +
  "  dialled = CASE WHEN calls.dialled = '' THEN excluded.dialled ELSE calls.dialled END, " +
  '  started_at = min(calls.started_at, excluded.started_at), ' +
  '  connected_at = coalesce(calls.connected_at, excluded.connected_at), ' +
  '  answered_by = coalesce(calls.answered_by, excluded.answered_by), ' +
  '  voicemail_url = coalesce(excluded.voicemail_url, calls.voicemail_url), ' +
  '  recording_urls = coalesce(excluded.recording_urls, calls.recording_urls), ' +
  '  transcript = coalesce(excluded.transcript, calls.transcript), ' +
  '  summary = coalesce(excluded.summary, calls.summary), ' +
  '  updated_at = excluded.updated_at';
const CLAIM_POP = 'UPDATE calls SET popped_by = ?2 WHERE id = ?1 AND popped_by IS NULL';
const FINISH_CALL =
  'UPDATE calls SET store_id = coalesce(store_id, ?2), customer_id = coalesce(customer_id, ?3) WHERE id = ?1';
const FINISH_EVENT_D1 = 'UPDATE call_events SET delivered = 1 WHERE call_id = ?1 AND state = ?2';
const CALL_STATE =
  'SELECT k.popped_by, k.state, k.phase, k.dialled, k.started_at, k.connected_at, k.ended_at, ' +
  '  k.duration_ms, k.store_id, s.name AS store_name, k.answered_by, k.voicemail_url, ' +
  '  k.recording_urls, k.transcript, k.summary ' +
  'FROM calls k LEFT JOIN stores s ON s.id = k.store_id WHERE k.id = ?1';

const RANK = {
  ringing: 1,
  connected: 2,
  hold: 2,
  ended: 3,
  missed: 3,
  voicemail: 3,
  postcall: 0,
  other: 0,
};
const LIVE = new Set(['ringing', 'connected', 'hold']);

/** prefix.rs longest_match */
function longestMatch(number, prefixes) {
  let best = null;
  for (const p of prefixes) {
    if (
      p.prefix &&
      number.startsWith(p.prefix) &&
      (best === null || p.prefix.length > best.prefix.length)
    )
      best = p;
  }
  return best;
}

/** prefix.rs resolve, stores.rs store_of_call: prefix, then office, then entry number. */
function storeOfCall(table, dialled, office, entryNumber) {
  const p = longestMatch(dialled, table.prefixes);
  if (p) return { id: p.store_id, name: p.store_name };
  const o = office === null ? undefined : table.offices.find((x) => x.key === office);
  if (o) return { id: o.store_id, name: o.store_name };
  const e = entryNumber ? longestMatch(entryNumber, table.prefixes) : null;
  return e ? { id: e.store_id, name: e.store_name } : { id: null, name: '不明' };
}

/** queries.rs cards_from + CustomerCard::for_pop (field order as the Rust struct). */
function card(r) {
  let memo = r.memo;
  if (memo.length > POP_MEMO_CHARS && Array.from(memo).length > POP_MEMO_CHARS) {
    memo =
      Array.from(memo)
        .slice(0, POP_MEMO_CHARS - 1)
        .join('') + '…';
  }
  return {
    id: r.id,
    name: r.name,
    kana: r.kana,
    memo,
    customerType: r.customer_type,
    flag: r.flag,
    homeStore:
      r.home_store_id !== null && r.home_store_name !== null
        ? { id: r.home_store_id, name: r.home_store_name }
        : null,
    phones: r.phones === null ? [] : r.phones.split(',').slice(0, MAX_PHONES),
    usage: {
      visits: r.visit_count,
      totalSpend: r.total_spend,
      lastVisit: r.last_visit_at,
      calls: r.call_count,
      lastCall: r.last_call,
      firstContact: r.first_contact,
      missed30d: r.missed_30d,
    },
    updatedAt: r.updated_at,
    version: r.version,
    fields: cardFields(r.card_fields),
  };
}

/** queries.rs cards_from: the card's fields, or none when the column cannot be read. */
function cardFields(text) {
  try {
    const v = JSON.parse(text ?? '[]');
    return Array.isArray(v) ? v : [];
  } catch {
    return [];
  }
}

const mask = (n) =>
  Array.from(n)
    .map((c, i, a) => (i + 4 < a.length ? '*' : c))
    .join('');
const iso = (ms) => new Date(ms).toISOString();

// ---- the hub's sockets: rooms, the one access check, the replay budget (domain/access.rs,
// hub/sockets.rs, hub/connect.rs) ---------------------------------------------------------

const RECHECK_MS = 20 * 1000; // hub/mod.rs RECHECK_SECS
const LEASE_MS = RECHECK_MS * 3; // LEASE_RECHECKS
const MAX_SOCKETS_PER_USER = 10; // limiter.rs
const REPLAY_BUDGET = KEEP_COUNT; // connect.rs
const REPLAY_WINDOW_MS = 60 * 1000;
const REPLAY_CUT_MAX = 100;
const CLOSE_REVOKED = 4001; // protocol close codes
const CLOSE_TRY_AGAIN = 1013;
const ADMIN_ROOM = 'admin';
const DESK_ROOM = 'desk';
const HSTS = 'max-age=31536000; includeSubDomains';

const USER_SELECT = `SELECT ${USER_COLUMNS} FROM users u`;

/** access.rs Viewer: a socket's role and its stores (ascending). */
function viewerOf(info) {
  const stores = [
    ...new Set([...(info.stores ?? []), info.store].filter((x) => x !== null && x !== undefined)),
  ].sort((a, b) => a - b);
  return { role: info.role, stores };
}
const belongsTo = (v, store) => store !== null && v.stores.includes(store);
function maySeeCall(v, store) {
  if (v.role === 'admin') return true;
  if (v.role === 'reception') return store !== null;
  return belongsTo(v, store);
}
function maySeeCustomer(v, home) {
  if (v.role === 'admin') return true;
  if (v.role === 'reception') return v.stores.length > 0 && (home === null || belongsTo(v, home));
  return home === null || belongsTo(v, home);
}
const mayHearCustomerChange = (v, home) => v.role !== 'reception' && maySeeCustomer(v, home);
function roomsOf(v) {
  if (v.role === 'admin') return [ADMIN_ROOM];
  if (v.role === 'reception') return [DESK_ROOM];
  return v.stores.map((s) => `store:${s}`);
}
/** access.rs call_rooms: the admins', and the store's and the desk's when the store is known. */
const callRooms = (store) =>
  store === null ? [ADMIN_ROOM] : [ADMIN_ROOM, `store:${store}`, DESK_ROOM];

/** messages.rs SocketInfo::still_allowed */
const stillAllowed = (info, u) =>
  !u.disabled && u.tv === info.tv && u.role === info.role && u.store === (info.store ?? null);

/** sockets.rs allowed_until: the last millisecond of its token and of its lease. */
const allowedUntil = (info) => Math.min(info.exp * 1000 - 1, info.lease);

/** sockets.rs with_infos: each socket with its attachment; one that cannot be read is closed. */
function withInfos(sockets) {
  const out = [];
  for (const ws of sockets) {
    let info = null;
    try {
      const raw = ws.deserializeAttachment();
      info = typeof raw === 'string' ? JSON.parse(raw) : null;
    } catch {
      info = null;
    }
    if (info) out.push([ws, info]);
    else ws.close(CLOSE_REVOKED, 'session ended');
  }
  return out;
}

const userRow = (r) => ({
  uid: r.uid,
  tv: r.tv,
  disabled: r.disabled !== 0,
  role: r.role,
  store: r.store,
});
const sameUser = (a, b) =>
  a !== undefined &&
  a.uid === b.uid &&
  a.tv === b.tv &&
  a.disabled === b.disabled &&
  a.role === b.role &&
  a.store === b.store;

export class Hub extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    for (const s of SCHEMA) this.sql.exec(s);
    this.alarmAt = null; // when the alarm is due (epoch ms), as set by this object
    this.alarmRunning = false;
    this.alarmWanted = null; // the earliest alarm asked for while it ran
    this.rooms = new Map(); // room -> { list: [ws, info][], allowed: { sockets, until } | null }
    this.knownAll = null; // { users: Map(uid -> user), revoked: Set } for the broadcasts
    this.replays = []; // [sid, window start, events replayed]
    // Answered by the runtime without waking the object, as the product's hub does.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair('ping', 'pong'));
    ctx.blockConcurrencyWhile(async () => {
      this.alarmAt = await ctx.storage.getAlarm();
      await this.loadMirrors();
    });
  }

  /** Mirrors from D1: the reference tables on every start, the call log on the first only. */
  async loadMirrors() {
    const firstStart =
      this.sql.exec("SELECT v FROM mirror_meta WHERE k = 'call_log'").toArray().length === 0;
    const reads = [...MIRRORS, ...(firstStart ? CALL_LOG : [])];
    const since = Date.now() - MAX_AGE_MS;
    const results = await this.env.DB.batch(
      reads.map(([, q]) =>
        q.includes('?1') ? this.env.DB.prepare(q).bind(since) : this.env.DB.prepare(q),
      ),
    );
    this.ctx.storage.transactionSync(() => {
      reads.forEach(([table], i) => {
        if (!firstStart || MIRRORS.some(([t]) => t === table))
          this.sql.exec(`DELETE FROM ${table}`);
        for (const row of results[i].results) {
          const cols = Object.keys(row);
          this.sql.exec(
            `INSERT OR IGNORE INTO ${table} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`,
            ...cols.map((c) => row[c]),
          );
        }
      });
      if (firstStart)
        this.sql.exec("INSERT INTO mirror_meta (k, v) VALUES ('call_log', ?)", Date.now());
    });
  }

  latestSeq() {
    return this.sql.exec('SELECT max(seq) AS seq FROM events').one().seq ?? 0;
  }

  /** drain.rs schedule_at: the alarm at `at` unless one is due sooner. */
  scheduleAt(at) {
    // While the alarm runs, what it is asked for is set when it ends (as before the port,
    // an event arriving during a drain sets no alarm of its own; ours sets none per event).
    if (this.alarmRunning) {
      this.alarmWanted = Math.min(this.alarmWanted ?? at, at);
      return;
    }
    if (this.alarmAt !== null && this.alarmAt <= at) return;
    this.ctx.storage.setAlarm(at);
    this.alarmAt = at;
  }

  /** sockets.rs known: one socket's user and whether its session was logged out. */
  knownOf(info) {
    const rows = this.sql
      .exec(
        'SELECT uid, tv, disabled, role, store FROM users WHERE uid = ? ' +
          'UNION ALL SELECT -1, 0, 1, NULL, NULL FROM revoked_sessions WHERE sid = ?',
        info.uid,
        info.sid,
      )
      .toArray();
    return {
      users: new Map(rows.filter((r) => r.uid !== -1).map((r) => [r.uid, userRow(r)])),
      revoked: new Set(rows.some((r) => r.uid === -1) ? [info.sid] : []),
    };
  }

  /** sockets.rs known(None): every user, kept until a user or session changes here. */
  known() {
    if (this.knownAll === null) {
      const rows = this.sql.exec('SELECT uid, tv, disabled, role, store FROM users').toArray();
      this.knownAll = { users: new Map(rows.map((r) => [r.uid, userRow(r)])), revoked: new Set() };
    }
    return this.knownAll;
  }

  putUser(u) {
    this.knownAll = null;
    this.socketsChanged();
    this.sql.exec(
      'INSERT INTO users (uid, tv, disabled, role, store) VALUES (?, ?, ?, ?, ?) ' +
        'ON CONFLICT (uid) DO UPDATE SET tv = excluded.tv, disabled = excluded.disabled, ' +
        'role = excluded.role, store = excluded.store',
      u.uid,
      u.tv,
      u.disabled ? 1 : 0,
      u.role,
      u.store,
    );
  }

  socketsChanged() {
    this.rooms.clear();
  }

  /** sockets.rs access: the one check before anything is sent to a socket. */
  static access(info, known, now) {
    if (info.exp <= Math.floor(now / 1000) || !info.sid || known.revoked.has(info.sid))
      return 'revoked';
    const u = known.users.get(info.uid);
    if (u === undefined || !stillAllowed(info, u)) return 'revoked';
    if (info.lease < now) return 'lease_over';
    return 'allowed';
  }

  static closeFor(ws, access) {
    if (access === 'revoked') ws.close(CLOSE_REVOKED, 'session ended');
    else if (access === 'lease_over') ws.close(CLOSE_TRY_AGAIN, 'reconnect');
  }

  /** sockets.rs send_to_rooms: a call's message to its rooms (the staff's version to the
   * store's and the desk's), after the access check, kept per room until one of its sockets
   * could lose access by itself. */
  sendToRooms(store, text, staffText, now) {
    let delivered = 0;
    let closed = false;
    for (const room of callRooms(store)) {
      const body = staffText !== null && room !== ADMIN_ROOM ? staffText : text;
      let r = this.rooms.get(room);
      if (r === undefined) {
        r = { list: withInfos(this.ctx.getWebSockets(room)), allowed: null };
        this.rooms.set(room, r);
      }
      if (r.allowed === null || now > r.allowed.until) {
        const known = this.known();
        const sockets = [];
        let until = Number.MAX_SAFE_INTEGER;
        for (const [ws, info] of r.list) {
          const access = Hub.access(info, known, now);
          if (access === 'allowed') {
            sockets.push(ws);
            until = Math.min(until, allowedUntil(info));
          } else {
            Hub.closeFor(ws, access);
            closed = true;
          }
        }
        r.allowed = { sockets, until };
      }
      for (const ws of r.allowed.sockets) {
        try {
          ws.send(body);
          delivered++;
        } catch {
          /* closed meanwhile */
        }
      }
    }
    if (closed) this.socketsChanged();
    return delivered;
  }

  /** connect.rs Replays::left */
  replayLeft(sid, now) {
    this.replays = this.replays.filter(([, start]) => now - start < REPLAY_WINDOW_MS);
    const e = this.replays.find(([s]) => s === sid);
    return e ? Math.max(0, REPLAY_BUDGET - e[2]) : REPLAY_BUDGET;
  }

  replaySpend(sid, now, n) {
    const e = this.replays.find(([s]) => s === sid);
    if (e) e[2] += n;
    else this.replays.push([sid, now, n]);
  }

  /** connect.rs catch_up: the events after `since` (within the session's replay budget), or
   * the latest event of every live call; only what the socket's viewer may see. */
  catchUp(ws, info, since) {
    const latest = this.latestSeq();
    const now = Date.now();
    let rows;
    if (since !== null && since === latest) rows = [];
    else if (since !== null && since < latest) {
      const left = this.replayLeft(info.sid, now);
      rows = this.sql
        .exec(
          'SELECT seq, store_id, body, staff_body FROM events WHERE seq > ? ORDER BY seq LIMIT ?',
          since,
          left + 1,
        )
        .toArray();
      if (rows.length > left) {
        console.log(JSON.stringify({ event: 'replay_cut', uid: info.uid, since }));
        rows = this.sql
          .exec(
            'SELECT seq, store_id, body, staff_body FROM events WHERE seq IN ' +
              '(SELECT max(seq) FROM events WHERE seq > ? GROUP BY call_id) ORDER BY seq DESC LIMIT ?',
            since,
            REPLAY_CUT_MAX,
          )
          .toArray()
          .reverse();
      }
    } else
      rows = this.sql
        .exec(
          'SELECT seq, store_id, body, staff_body FROM events WHERE seq IN ' +
            '(SELECT max(seq) FROM events GROUP BY call_id) AND live = 1 ORDER BY seq',
        )
        .toArray();
    const viewer = viewerOf(info);
    const visible = rows.filter((r) => {
      let change = false;
      try {
        change = JSON.parse(r.body)?.type === 'customer_changed';
      } catch {
        change = false;
      }
      return change
        ? maySeeCall(viewer, r.store_id) && mayHearCustomerChange(viewer, r.store_id)
        : maySeeCall(viewer, r.store_id);
    });
    ws.send(JSON.stringify({ type: 'hello', seq: latest, replay: visible.length }));
    for (const r of visible) {
      const body = r.staff_body !== null && viewer.role !== 'admin' ? r.staff_body : r.body;
      ws.send(`{"seq":${r.seq},${body.slice(1)}`);
    }
    if (since !== null) this.replaySpend(info.sid, now, visible.length);
  }

  /** connect.rs accept: the identity the Worker checked, the hub's later knowledge of it, the
   * user's socket limit, its rooms and attachment, what it missed. */
  accept(request) {
    let info;
    try {
      info = JSON.parse(request.headers.get(SOCKET_HEADER) ?? '');
    } catch {
      info = null;
    }
    if (info === null || typeof info !== 'object') return json(401, { error: 'missing_identity' });
    const now = Date.now();
    const known = this.knownOf(info);
    const u = known.users.get(info.uid);
    if (
      known.revoked.has(info.sid) ||
      (u !== undefined && (u.tv > info.tv || (u.tv === info.tv && u.disabled)))
    )
      return json(401, { error: 'session_revoked' });
    if (this.ctx.getWebSockets(`u:${info.uid}`).length >= MAX_SOCKETS_PER_USER)
      return json(429, { error: 'rate_limited' });
    const user = {
      uid: info.uid,
      tv: info.tv,
      disabled: false,
      role: info.role,
      store: info.store ?? null,
    };
    if (!sameUser(u, user)) this.putUser(user);
    info.lease = now + LEASE_MS;
    info.bucket = { t: 0, at: 0 };
    const since = new URL(request.url).searchParams.get('since');
    const pair = new WebSocketPair();
    const tags = [...roomsOf(viewerOf(info)), `u:${info.uid}`, `s:${info.sid}`];
    this.ctx.acceptWebSocket(pair[1], tags);
    pair[1].serializeAttachment(JSON.stringify(info));
    this.socketsChanged();
    this.catchUp(pair[1], info, since !== null && /^\d+$/.test(since) ? Number(since) : null);
    this.scheduleAt(now + RECHECK_MS);
    return new Response(null, {
      status: 101,
      webSocket: pair[0],
      headers: { 'Strict-Transport-Security': HSTS },
    });
  }

  /** sockets.rs recheck: every connected user and session read again from D1; the sockets
   * whose access changed closed, the others' leases renewed. */
  async recheck() {
    this.socketsChanged();
    const sockets = this.ctx.getWebSockets();
    if (!sockets.length) return;
    const infos = withInfos(sockets);
    const uids = [...new Set(infos.map(([, i]) => i.uid))];
    const sids = infos.map(([, i]) => i.sid);
    const nowSecs = Math.floor(Date.now() / 1000);
    let users;
    let live;
    try {
      const db = this.env.DB;
      users = (
        await db
          .prepare(`${USER_SELECT} WHERE u.id IN (SELECT value FROM json_each(?1))`)
          .bind(JSON.stringify(uids))
          .all()
      ).results;
      live = (
        await db
          .prepare(
            'SELECT id FROM sessions WHERE id IN (SELECT value FROM json_each(?1)) AND expires_at > ?2 AND last_seen > ?3',
          )
          .bind(JSON.stringify(sids), nowSecs, nowSecs - IDLE_SECS)
          .all()
      ).results;
    } catch {
      console.warn(JSON.stringify({ event: 'hub_recheck_failed', users: uids.length }));
      return;
    }
    const states = users.map((r) => ({
      uid: r.id,
      tv: r.token_version,
      disabled: r.disabled !== 0,
      role: r.role,
      store: r.store_id,
    }));
    for (const st of states) this.putUser(st);
    const byUid = new Map(states.map((u) => [u.uid, u]));
    const liveSids = new Set(live.map((r) => r.id));
    const lease = Date.now() + LEASE_MS;
    for (const [ws, info] of infos) {
      const u = byUid.get(info.uid);
      if (liveSids.has(info.sid) && u !== undefined && stillAllowed(info, u)) {
        info.lease = lease;
        ws.serializeAttachment(JSON.stringify(info));
      } else ws.close(CLOSE_REVOKED, 'session ended');
    }
    this.socketsChanged();
    for (const uid of uids.filter((x) => !byUid.has(x)))
      this.putUser({ uid, tv: Number.MAX_SAFE_INTEGER, disabled: true, role: null, store: null });
  }

  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === '/connect' && request.headers.get('Upgrade') === 'websocket')
      return this.accept(request);
    if (url.pathname === '/outbox') {
      return Response.json({
        pending: this.sql.exec('SELECT count(*) AS n FROM outbox').one().n,
        alarm: this.alarmAt !== null,
      });
    }
    if (url.pathname === '/event' && request.method === 'POST') {
      const { event, now } = JSON.parse(await request.text());
      // From here to the answer: no await. The whole step is one implicit transaction of the
      // object's storage, and no other event can interleave with it.
      return Response.json(this.process(event, now));
    }
    return new Response('not found', { status: 404 });
  }

  /** webhook.rs process(), on the hub's own SQLite. Returns the JSON answered to Dialpad. */
  process(ev, now) {
    const sql = this.sql;
    const caller = ev.external;
    const dialled = ev.internal;
    const groupId = ev.entryPointCallId ?? ev.masterCallId ?? ev.callId;
    const key = `${ev.callId}:${ev.state}:${ev.eventTimestamp ?? 0}`;
    const legRank = RANK[ev.phase];
    const rank = ev.callId !== groupId && ev.phase === 'missed' ? 0 : legRank;
    const occurred =
      ev.eventTimestamp ?? ev.dateEnded ?? ev.dateConnected ?? ev.dateRang ?? ev.dateStarted ?? now;
    const terminal =
      (ev.phase === 'ended' || ev.phase === 'missed' || ev.phase === 'voicemail') && rank > 0;
    const endedAt = terminal ? (ev.dateEnded ?? occurred) : null;
    const duration =
      ev.phase === 'ended'
        ? (ev.durationMs ??
          (endedAt !== null && ev.dateConnected !== null ? endedAt - ev.dateConnected : null))
        : null;
    const answeredBy =
      ev.phase === 'connected' && ev.target?.kind === 'user' ? ev.target.name : null;
    const mayPop = ev.direction !== 'outbound' && LIVE.has(ev.phase);

    // (1) Dedupe: once per (leg, state) and occurrence.
    const eventRow = [ev.callId, ev.state, groupId, now, ev.eventTimestamp, legRank];
    if (sql.exec(INSERT_EVENT, ...eventRow).toArray().length === 0) {
      console.log(
        JSON.stringify({
          event: 'webhook',
          callId: groupId,
          leg: ev.callId,
          state: ev.state,
          decision: 'duplicate',
          ms: Date.now() - now,
        }),
      );
      return { ok: true, status: 'duplicate', callId: groupId };
    }

    // (2) The store: longest prefix of the dialled number, then the office, then the entry number.
    const table = { prefixes: [], offices: [] };
    for (const r of sql.exec(TABLE_SQL))
      (r.kind === 'office' ? table.offices : table.prefixes).push(
        r.kind === 'office' ? r : { prefix: r.key, store_id: r.store_id, store_name: r.store_name },
      );
    const resolved = storeOfCall(
      table,
      dialled,
      ev.targetOfficeId ?? ev.entryPointOfficeId,
      ev.entryPointPhone || null,
    );

    // (3) The customer card(s) of the caller, usage counted over the call log.
    const cards = caller
      ? sql
          .exec(CARD_SQL, caller, now - THIRTY_DAYS_MS, null)
          .toArray()
          .map(card)
      : [];
    const customerId = cards.length === 1 ? cards[0].id : null;

    // (4) The call row, the pop claim, what this event decided, the call read back.
    const callRow = [
      groupId,
      ev.direction,
      caller,
      dialled,
      ev.state,
      ev.phase,
      rank,
      0,
      ev.dateStarted ?? ev.dateRang ?? occurred,
      ev.dateConnected,
      endedAt,
      duration,
      answeredBy,
      now,
      ev.callId,
      ev.voicemailLink,
      ev.recordingUrls.length ? JSON.stringify(ev.recordingUrls) : null,
      ev.transcriptionText,
      ev.recapSummary,
    ];
    sql.exec(UPSERT_CALL, ...callRow);
    if (mayPop) sql.exec(CLAIM_POP, groupId, key);
    sql.exec(FINISH_CALL, groupId, resolved.id, customerId);
    const call = sql.exec(CALL_STATE, groupId).one();
    const store =
      call.store_id !== null && call.store_name !== null
        ? { id: call.store_id, name: call.store_name }
        : resolved;

    // (5) The same writes for D1, drained by the alarm.
    sql.exec(
      'INSERT INTO outbox (body) VALUES (?)',
      JSON.stringify({
        event: eventRow,
        call: callRow,
        pop: mayPop ? key : null,
        store: resolved.id,
        customer: customerId,
      }),
    );
    this.scheduleAt(Date.now() + DRAIN_DELAY_MS);

    const customerFound = !caller
      ? 'withheld'
      : cards.length === 0
        ? 'unknown'
        : cards.length === 1
          ? 'found'
          : 'multiple';
    const enriches =
      ev.voicemailLink !== null ||
      ev.recordingUrls.length > 0 ||
      ev.transcriptionText !== null ||
      ev.recapSummary !== null;
    if (ev.phase === 'postcall' && !enriches) {
      console.log(
        JSON.stringify({
          event: 'webhook',
          callId: groupId,
          leg: ev.callId,
          state: ev.state,
          store: store.name,
          customer: customerFound,
          caller: mask(caller),
          sockets: 0,
          decision: 'recorded',
          ms: Date.now() - now,
        }),
      );
      return { ok: true, status: 'recorded', callId: groupId };
    }

    // (6) The message (messages.rs CallMessage, in its field order), stored with a seq, sent.
    const pops = call.popped_by === key;
    const staffCards = cards.filter(
      (c) => c.homeStore === null || (store.id !== null && c.homeStore.id === store.id),
    );
    const message = {
      type: pops ? 'incoming_call' : 'call_state',
      callId: groupId,
      legId: ev.callId,
      customerPhone: caller,
      incomingNumber: dialled,
      timestamp: iso(occurred),
      isTest: false,
      state: call.state,
      phase: call.phase,
      direction: ev.direction,
      store,
      customer: cards.length === 1 ? cards[0] : null,
      candidates: cards.length > 1 ? cards : [],
      contactName: ev.contact?.name ?? null,
      startedAt: call.started_at,
      connectedAt: call.connected_at,
      endedAt: call.ended_at,
      durationMs: call.duration_ms,
    };
    if (call.answered_by !== null) message.answeredBy = call.answered_by;
    if (call.voicemail_url !== null) message.voicemailUrl = call.voicemail_url;
    let recordings = [];
    try {
      recordings = call.recording_urls === null ? [] : JSON.parse(call.recording_urls);
    } catch {
      recordings = [];
    }
    if (recordings.length) message.recordingUrls = recordings;
    if (call.transcript !== null) message.transcript = call.transcript;
    if (call.summary !== null) message.summary = call.summary;
    const text = JSON.stringify(message);
    const staffText =
      staffCards.length !== cards.length
        ? JSON.stringify({
            ...message,
            customer: staffCards.length === 1 ? staffCards[0] : null,
            candidates: staffCards.length > 1 ? staffCards : [],
          })
        : null;
    const inserted = sql
      .exec(
        'INSERT INTO events (key, call_id, store_id, live, created_at, body, staff_body) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING RETURNING seq',
        key,
        groupId,
        store.id,
        LIVE.has(call.phase) ? 1 : 0,
        now,
        text,
        staffText,
      )
      .toArray();
    let delivered = 0;
    let seq = null;
    if (inserted.length) {
      seq = inserted[0].seq;
      delivered = this.sendToRooms(
        store.id,
        `{"seq":${seq},${text.slice(1)}`,
        staffText === null ? null : `{"seq":${seq},${staffText.slice(1)}`,
        now,
      );
      // hub/mod.rs prune: every PRUNE_EVERY events, as of the one just inserted.
      if (seq % PRUNE_EVERY === 0)
        sql.exec(
          'DELETE FROM events WHERE created_at < ? OR seq <= ?',
          now - KEEP_MS,
          seq - KEEP_COUNT,
        );
    }
    console.log(
      JSON.stringify({
        event: 'webhook',
        callId: groupId,
        leg: ev.callId,
        state: ev.state,
        store: store.name,
        customer: customerFound,
        caller: mask(caller),
        sockets: delivered,
        decision: pops ? 'pop' : 'update',
        ms: Date.now() - now,
      }),
    );
    return {
      ok: true,
      status: inserted.length ? 'broadcast' : 'duplicate',
      type: message.type,
      callId: groupId,
      delivered,
      seq,
      store,
      customerFound,
    };
  }

  /** Drains the outbox into D1, in order, with record.rs's statements; then deletes what it wrote. */
  async alarm() {
    this.alarmAt = null;
    this.alarmRunning = true;
    try {
      await this.drainAndRecheck();
    } finally {
      this.alarmRunning = false;
      const wanted = this.alarmWanted;
      this.alarmWanted = null;
      if (wanted !== null) this.scheduleAt(wanted);
    }
  }

  /** The alarm's work: the outbox into D1, then (every RECHECK_MS) the connected users. */
  async drainAndRecheck() {
    const rows = this.sql
      .exec('SELECT id, body FROM outbox ORDER BY id LIMIT ?', DRAIN_MAX_EVENTS)
      .toArray();
    if (rows.length) {
      const db = this.env.DB;
      const stmts = [];
      for (const r of rows) {
        const o = JSON.parse(r.body);
        const [id, state] = o.event;
        stmts.push(db.prepare(INSERT_EVENT_D1).bind(...o.event));
        stmts.push(db.prepare(UPSERT_CALL).bind(...o.call));
        if (o.pop !== null) stmts.push(db.prepare(CLAIM_POP).bind(o.call[0], o.pop));
        stmts.push(db.prepare(FINISH_CALL).bind(o.call[0], o.store, o.customer));
        stmts.push(db.prepare(FINISH_EVENT_D1).bind(id, state));
      }
      // rollups::wrap: the calls' hours marked before and after the batch, then recomputed.
      const mark = db
        .prepare(ROLLUP_MARK)
        .bind(JSON.stringify(rows.map((r) => JSON.parse(r.body).call[0])));
      const recompute = [
        'DELETE FROM call_rollups WHERE hour IN (SELECT hour FROM call_rollup_dirty)',
        this.env.ROLLUP_SQL,
        'DELETE FROM call_wrapup_rollups WHERE hour IN (SELECT hour FROM call_rollup_dirty)',
        this.env.ROLLUP_WRAPUPS_SQL,
        `DELETE FROM call_rollups_day WHERE day IN (${ROLLUP_DIRTY_DAYS})`,
        ROLLUP_DAYS,
        'DELETE FROM call_rollup_dirty',
      ].map((q) => db.prepare(q));
      await db.batch([mark, ...stmts, mark, ...recompute]); // throws: the alarm is retried, the outbox kept
      this.sql.exec('DELETE FROM outbox WHERE id <= ?', rows[rows.length - 1].id);
    }
    if (this.sql.exec('SELECT 1 FROM outbox LIMIT 1').toArray().length) this.scheduleAt(Date.now());
    // hub/mod.rs alarm: the connected users re-checked every RECHECK_MS.
    if (this.ctx.getWebSockets().length) {
      const now = Date.now();
      let at =
        this.sql.exec("SELECT v FROM mirror_meta WHERE k = 'recheck_at'").toArray()[0]?.v ?? 0;
      if (at <= now) {
        await this.recheck();
        at = Date.now() + RECHECK_MS;
        this.sql.exec(
          "INSERT INTO mirror_meta (k, v) VALUES ('recheck_at', ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v",
          at,
        );
      }
      this.scheduleAt(at);
    }
  }

  webSocketMessage() {}

  webSocketClose(ws, code) {
    this.socketsChanged();
    try {
      ws.close(code === 1005 || code === 1006 ? 1000 : code, 'bye');
    } catch {
      /* already closed */
    }
  }
}
