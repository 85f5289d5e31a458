// @ts-check
// Demo data: stores with their number prefixes (the seed prototype's rule: 0501748 -> 西船橋),
// a few customers, and accounts. Idempotent; every value is a bound parameter.
import { hashPassword, checkPolicy } from './password.mjs';

export const DEMO_STORES = [
  { name: '西船橋', prefixes: ['0501748'] },
  { name: '錦糸町', prefixes: ['0501749'] },
  { name: '葛西', prefixes: ['0501750'] },
  { name: '松戸', prefixes: ['0501751'] },
];

export const DEMO_CUSTOMERS = [
  {
    name: '山田 太郎',
    kana: 'ヤマダ タロウ',
    phone: '09012345678',
    store: '西船橋',
    type: '会員',
    visits: 12,
    spend: 86000,
    lastVisit: '2026-11-02',
    memo: '平日夕方の来店が多い。駐車場利用。',
  },
  {
    name: '佐藤 花子',
    kana: 'サトウ ハナコ',
    phone: '08011112222',
    store: '錦糸町',
    type: 'VIP',
    visits: 40,
    spend: 512000,
    lastVisit: '2026-11-20',
    memo: '担当: 鈴木。誕生日 5/14。',
  },
  {
    name: '高橋 健',
    kana: 'タカハシ ケン',
    phone: '07033334444',
    store: '葛西',
    type: '新規',
    visits: 1,
    spend: 5500,
    lastVisit: '2026-10-30',
    memo: '',
  },
  {
    name: '伊藤 美咲',
    kana: 'イトウ ミサキ',
    phone: '09055556666',
    store: '松戸',
    type: '会員',
    visits: 7,
    spend: 43000,
    lastVisit: '2026-09-18',
    memo: '前回キャンセルあり',
    flag: '要注意',
  },
];

export const DEMO_USERS = [
  { login: 'admin', name: '管理者', role: 'admin', store: null, password: 'cti-admin-demo' },
  {
    login: 'nishifunabashi',
    name: '西船橋スタッフ',
    role: 'staff',
    store: '西船橋',
    password: 'cti-staff-demo',
  },
];

/**
 * Creates the store when missing and adds the prefixes it lacks; returns its id.
 * @param {any} db a D1 binding
 * @param {string} name
 * @param {string[]} prefixes
 * @returns {Promise<number>}
 */
export async function upsertStore(db, name, prefixes) {
  await db
    .prepare('INSERT INTO stores (name) VALUES (?1) ON CONFLICT (name) DO NOTHING')
    .bind(name)
    .run();
  const { id } = await db.prepare('SELECT id FROM stores WHERE name = ?1').bind(name).first();
  for (const p of prefixes) {
    await db
      .prepare(
        'INSERT INTO store_prefixes (prefix, store_id) VALUES (?1, ?2) ON CONFLICT (prefix) DO NOTHING',
      )
      .bind(p, id)
      .run();
  }
  return id;
}

/**
 * A store's id from its name or id (null for none); throws when there is no such store.
 * @param {any} db
 * @param {string | number | null | undefined} nameOrId
 * @returns {Promise<number | null>}
 */
export async function storeId(db, nameOrId) {
  if (nameOrId === null || nameOrId === undefined) return null;
  const row = await db
    .prepare('SELECT id FROM stores WHERE name = ?1 OR CAST(id AS TEXT) = ?1')
    .bind(String(nameOrId))
    .first();
  if (!row) throw new Error(`no store named or numbered ${nameOrId}`);
  return row.id;
}

/**
 * Creates or updates an account. Any change bumps token_version: the user's sessions end (their
 * open sockets close within the hub's re-check, at most a minute). The password must pass the
 * policy (at least 12 characters, not a common one); `demo: true` (the demo seed only) lets the
 * demo passwords through. `updated_by` is cleared: the change was not an admin's in the console.
 * `stores` (names or ids) makes the account a member of several stores, the first of them its
 * first store (`store_id`); `store` alone means that one store. The set replaces the old one.
 * @param {any} db
 * @param {{ login: string, name?: string | null, role: string, store?: string | number | null,
 *   stores?: Array<string | number>, password: string, demo?: boolean }} user
 */
export async function upsertUser(db, { login, name, role, store, stores, password, demo = false }) {
  if (!ROLES.includes(role))
    throw new Error(`role must be one of ${ROLES.join(', ')}, not ${role}`);
  checkPolicy(password, { demo });
  /** @type {number[]} */
  const ids = [];
  for (const s of stores ?? (store === null || store === undefined ? [] : [store])) {
    const id = await storeId(db, s);
    if (!ids.includes(id)) ids.push(id);
  }
  const sid = ids[0] ?? null;
  if (NEEDS_STORE.includes(role) && sid === null)
    throw new Error(`a ${role} account needs --store`);
  const [base, orgRole] = roleColumns(role);
  await db
    .prepare(
      `INSERT INTO users (login_id, display_name, role, org_role, store_id, password_hash) VALUES (?1, ?2, ?3, ?6, ?4, ?5)
       ON CONFLICT (login_id) DO UPDATE SET display_name = excluded.display_name, role = excluded.role,
         org_role = excluded.org_role, store_id = excluded.store_id, password_hash = excluded.password_hash, disabled = 0,
         token_version = users.token_version + 1, updated_by = NULL,
         updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`,
    )
    .bind(login, name ?? login, base, sid, hashPassword(password), orgRole)
    .run();
  const user = await db
    .prepare(
      'SELECT id, login_id, coalesce(org_role, role) AS role, store_id FROM users WHERE login_id = ?1',
    )
    .bind(login)
    .first();
  await setStores(db, user.id, ids);
  return user;
}

/** The roles an account may have (`domain::token::Role`). */
export const ROLES = ['admin', 'area_manager', 'staff', 'reception'];
/** The roles that work for stores, so need at least one (`domain::account::store_fits`). */
export const NEEDS_STORE = ['area_manager', 'staff'];

/**
 * `users.role` (admin | staff, its CHECK) and `users.org_role` (the finer role, migration 0019)
 * for a role: read back as `coalesce(org_role, role)`.
 */
/** @param {string} role @returns {[string, string | null]} */
export function roleColumns(role) {
  return role === 'admin' ? ['admin', null] : ['staff', role === 'staff' ? null : role];
}

/**
 * Replaces the stores of account `uid` (`user_stores`, migration 0019) by `ids`.
 * @param {any} db @param {number} uid @param {number[]} ids
 */
export async function setStores(db, uid, ids) {
  await db.prepare('DELETE FROM user_stores WHERE user_id = ?1').bind(uid).run();
  if (ids.length) {
    await db
      .prepare('INSERT INTO user_stores (user_id, store_id) SELECT ?1, value FROM json_each(?2)')
      .bind(uid, JSON.stringify(ids))
      .run();
  }
}

/**
 * @typedef {object} NewCustomer
 * @property {string} name
 * @property {string | string[]} phone one number or several
 * @property {string} [kana]
 * @property {string} [memo]
 * @property {string | number | null} [store] the home store's name or id
 * @property {string} [type] customer_type (新規 by default)
 * @property {string | null} [flag]
 * @property {number} [visits]
 * @property {number} [spend]
 * @property {string | null} [lastVisit]
 */

/**
 * Adds a customer with their numbers; returns the id.
 * @param {any} db
 * @param {NewCustomer} c
 * @returns {Promise<number>}
 */
export async function addCustomer(db, c) {
  const sid = await storeId(db, c.store ?? null);
  const row = await db
    .prepare(
      `INSERT INTO customers (name, kana, memo, home_store_id, customer_type, flag, visit_count, total_spend, last_visit_at)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) RETURNING id`,
    )
    .bind(
      c.name,
      c.kana ?? '',
      c.memo ?? '',
      sid,
      c.type ?? '新規',
      c.flag ?? null,
      c.visits ?? 0,
      c.spend ?? 0,
      c.lastVisit ?? null,
    )
    .first();
  for (const p of [].concat(c.phone)) {
    await db
      .prepare('INSERT INTO customer_phones (phone, customer_id) VALUES (?1, ?2)')
      .bind(p, row.id)
      .run();
  }
  return row.id;
}

/**
 * Loads the demo data once; returns the accounts that were created this time.
 * @param {any} db
 */
export async function seedDemo(db) {
  for (const s of DEMO_STORES) await upsertStore(db, s.name, s.prefixes);
  for (const c of DEMO_CUSTOMERS) {
    const exists = await db
      .prepare('SELECT 1 FROM customer_phones WHERE phone = ?1')
      .bind(c.phone)
      .first();
    if (!exists) await addCustomer(db, c);
  }
  for (const u of DEMO_USERS) checkPolicy(u.password, { demo: true });
  const created = [];
  for (const u of DEMO_USERS) {
    const exists = await db
      .prepare('SELECT 1 FROM users WHERE login_id = ?1')
      .bind(u.login)
      .first();
    if (!exists) {
      await upsertUser(db, { ...u, demo: true });
      created.push(u);
    }
  }
  return created;
}
