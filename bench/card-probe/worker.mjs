// A Durable Object that times the customer card's lookup on its own SQLite (the hub's tables
// and indexes, one customer with one number), after adding calls from that number up to
// `?calls=N`: the card as the product reads it (src/resources/customers/queries.rs), the card
// as it read before commit 0dc36b1, and the card without its call count.
import { DurableObject } from 'cloudflare:workers';

const VIS = '(?3 IS NULL OR k.store_id = ?3)';
const PHONES = 'SELECT phone FROM customer_phones WHERE customer_id = c.id';
const HEAD =
  'SELECT c.id, c.name, c.kana, c.memo, c.customer_type, c.flag, c.visit_count, c.total_spend, c.last_visit_at, ' +
  "c.updated_at, c.version, c.home_store_id, hs.name AS home_store_name, (SELECT group_concat(phone, ',') FROM customer_phones WHERE customer_id = c.id) AS phones, ";
const TAIL =
  ' FROM customer_phones p JOIN customers c ON c.id = p.customer_id LEFT JOIN stores hs ON hs.id = c.home_store_id ' +
  'WHERE p.phone = ?1 ORDER BY c.updated_at DESC, c.id LIMIT 10';
const COUNT = `(SELECT count(*) FROM calls k WHERE k.is_test = 0 AND ${VIS} AND k.caller IN (${PHONES})) AS call_count, `;
const NOW =
  COUNT +
  `(SELECT max((SELECT max(k.started_at) FROM calls k WHERE k.caller = cp.phone AND k.is_test = 0 AND ${VIS})) FROM customer_phones cp WHERE cp.customer_id = c.id) AS last_call, ` +
  `(SELECT min((SELECT min(k.started_at) FROM calls k WHERE k.caller = cp.phone AND k.is_test = 0 AND ${VIS})) FROM customer_phones cp WHERE cp.customer_id = c.id) AS first_contact, ` +
  `(SELECT count(*) FROM calls k WHERE k.is_test = 0 AND k.phase IN ('missed', 'voicemail') AND ${VIS} AND k.started_at >= ?2 AND k.caller IN (${PHONES})) AS missed_30d`;
const BEFORE =
  COUNT +
  `(SELECT max(started_at) FROM calls k WHERE k.is_test = 0 AND ${VIS} AND k.caller IN (${PHONES})) AS last_call, ` +
  `(SELECT min(started_at) FROM calls k WHERE k.is_test = 0 AND ${VIS} AND k.caller IN (${PHONES})) AS first_contact, ` +
  `(SELECT count(*) FROM calls k WHERE k.is_test = 0 AND ${VIS} AND k.phase IN ('missed', 'voicemail') AND k.started_at >= ?2 AND k.caller IN (${PHONES})) AS missed_30d`;
const CARDS = { now: HEAD + NOW + TAIL, 'now without the count': HEAD + NOW.replace(COUNT, '0 AS call_count, ') + TAIL };
const BEFORE_CARD = HEAD + BEFORE + TAIL;

const SCHEMA = [
  'CREATE TABLE IF NOT EXISTS stores (id INTEGER PRIMARY KEY, name TEXT NOT NULL, dialpad_office_id TEXT)',
  'CREATE TABLE IF NOT EXISTS customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, kana TEXT NOT NULL, memo TEXT NOT NULL, home_store_id INTEGER, customer_type TEXT NOT NULL, flag TEXT, visit_count INTEGER NOT NULL, total_spend INTEGER NOT NULL, last_visit_at TEXT, updated_at TEXT NOT NULL, version INTEGER NOT NULL)',
  'CREATE TABLE IF NOT EXISTS customer_phones (phone TEXT NOT NULL, customer_id INTEGER NOT NULL, PRIMARY KEY (phone, customer_id))',
  'CREATE INDEX IF NOT EXISTS customer_phones_customer ON customer_phones(customer_id)',
  "CREATE TABLE IF NOT EXISTS calls (id TEXT PRIMARY KEY, direction TEXT NOT NULL, caller TEXT NOT NULL DEFAULT '', dialled TEXT NOT NULL DEFAULT '', store_id INTEGER, customer_id INTEGER, state TEXT NOT NULL, phase TEXT NOT NULL, rank INTEGER NOT NULL DEFAULT 0, popped_by TEXT, is_test INTEGER NOT NULL DEFAULT 0, started_at INTEGER NOT NULL, connected_at INTEGER, ended_at INTEGER, duration_ms INTEGER, answered_by TEXT, updated_at INTEGER NOT NULL, voicemail_url TEXT, recording_urls TEXT, transcript TEXT, summary TEXT)",
  'CREATE INDEX IF NOT EXISTS calls_caller ON calls(caller, started_at DESC)',
  'CREATE INDEX IF NOT EXISTS calls_caller_usage ON calls(caller, is_test, started_at, store_id, phase)',
];
// migrations/0010 (and the hub's schema since): only in the object that measures the card now.
const NOW_SCHEMA = ['CREATE INDEX IF NOT EXISTS calls_caller_phase ON calls(caller, is_test, phase, started_at, store_id)'];
const ROWS = [
  "INSERT OR REPLACE INTO stores VALUES (1, '西船橋', NULL)",
  "INSERT OR REPLACE INTO customers VALUES (1, '山田 太郎', 'ヤマダ タロウ', '', 1, '常連', NULL, 0, 0, NULL, '2026-01-01', 1)",
  "INSERT OR REPLACE INTO customer_phones VALUES ('+819012345678', 1)",
];
const PHONE = '+819012345678';
const T0 = 1_780_000_000_000;

export class Probe extends DurableObject {
  async fetch(req) {
    const sql = this.ctx.storage.sql;
    const params = new URL(req.url).searchParams;
    const now = params.get('schema') === 'now';
    for (const d of [...SCHEMA, ...(now ? NOW_SCHEMA : []), ...ROWS]) sql.exec(d);
    const want = Number(params.get('calls') ?? 0);
    let have = sql.exec('SELECT count(*) AS n FROM calls').one().n;
    // Ringing calls, one a minute, every 50th missed: as the bench's caller, with a few misses.
    for (; have < want; have++) {
      const phase = have % 50 ? 'ringing' : 'missed';
      sql.exec(
        "INSERT INTO calls (id, direction, caller, state, phase, store_id, started_at, updated_at) VALUES (?, 'inbound', ?, ?, ?, 1, ?, ?)",
        String(have), PHONE, phase, phase, T0 + have * 60000, T0,
      );
    }
    const out = { calls: have, answers: {} };
    for (const [name, q] of Object.entries(now ? CARDS : { before: BEFORE_CARD })) {
      const run = () => sql.exec(q, PHONE, T0 + have * 60000 - 30 * 86400000, null).toArray();
      out.answers[name] = JSON.stringify(run());
      for (let i = 0; i < 100; i++) run();
      const t = performance.now();
      for (let i = 0; i < 1000; i++) run();
      out[name] = Math.round(performance.now() - t); // ms per 1000 = µs per lookup
    }
    return Response.json(out);
  }
}
// One object per schema: the card as it was read before, on the tables as they were.
export default {
  fetch: (req, env) => env.PROBE.get(env.PROBE.idFromName(new URL(req.url).searchParams.get('schema'))).fetch(req),
};
