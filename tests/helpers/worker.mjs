// @ts-check
// One Miniflare instance running the *built* Workers (build/index.js and build/pop/index.js,
// with their wasm) in workerd, with local D1, the SQLite-backed hub Durable Object and the
// static assets, listening on a real
// port so tests use real HTTP and WebSocket clients. The idea of cloudflare/workers-rs's
// test/tests/mf.ts, without sleeps: helpers wait for the message they expect.
import { Miniflare } from 'miniflare';
import WebSocket from 'ws';
import { existsSync } from 'node:fs';
import { applyMigrations } from '../../scripts/lib/sql.mjs';
import { seedDemo, upsertUser, addCustomer, upsertStore } from '../../scripts/lib/seed.mjs';
import { signHS256, signRaw } from '../../scripts/lib/jwt.mjs';
import { randomPassword } from '../../scripts/lib/password.mjs';
import { assetsVersion } from '../../scripts/lib/assets-version.mjs';

// At least 32 characters, distinct, and not the .dev.vars.example placeholders: the Worker
// refuses to serve with anything else.
export const WEBHOOK_SECRET = 'test-dialpad-webhook-secret-0123456789';
export const JWT_SECRET = 'test-session-signing-secret-0123456789';

/**
 * @typedef {object} WorkerOptions
 * @property {string} [persist] a directory for D1 and the Durable Objects' storage (a second
 *   Miniflare on the same directory sees the first one's data)
 * @property {Record<string, string>} [bindings] vars added to (or replacing) the test defaults
 * @property {(text: string) => void} [onLog] receives workerd's stdout and stderr
 * @property {boolean} [d1Fault] the builds behind tests/helpers/d1-fault-entry.mjs
 * @property {boolean} [direct] false: deliveries go through the console Worker's POP binding
 * @property {boolean} [seed] false: no demo data (startWorker)
 * @property {(options: import('miniflare').MiniflareOptions) => void} [configure] changes the
 *   Miniflare options before the start (startWorker)
 */

/**
 * The response of {@link WorkerClient#json}: the body parsed as JSON, or the text when it is not.
 * @typedef {{ status: number, body: any, headers: Headers }} JsonResponse
 */

/**
 * The options of the tests' small `api(who, path, opts)` helpers: a JSON `body` is sent
 * stringified (with its content type) when given.
 * @typedef {{ method?: string, body?: any, headers?: Record<string, string>, type?: string }} ApiOptions
 */

/**
 * An account made by {@link WorkerClient#login}.
 * @typedef {{ token: string, user: any, cookie: string, password: string, login: string }} Auth
 */

/**
 * Miniflare options for the product's two Workers (see wrangler.toml and wrangler.pop.toml):
 * `console` (first: the entry for every request, with the static assets, the login guard and
 * the crons) and `pop` (Dialpad's webhook and the hub), sharing one D1 database. Deliveries
 * reach the pop Worker through its route, as in production; `direct: false` leaves the route
 * out, so they go through the console Worker's `POP` service binding, as under `npm start`.
 */
/**
 * @param {WorkerOptions} [opts]
 * @returns {import('miniflare').MiniflareOptions}
 */
export function miniflareOptions({
  persist,
  bindings = {},
  onLog,
  d1Fault = false,
  direct = true,
} = {}) {
  // `d1Fault`: the same builds behind tests/helpers/d1-fault-entry.mjs, whose D1 binding a
  // test can make unavailable (`WorkerClient.setD1`).
  const common = {
    modules: true,
    ...(d1Fault ? { modulesRoot: '.', kvNamespaces: { FAULTS: 'faults' } } : {}),
    modulesRules: [
      { type: 'CompiledWasm', include: ['**/*.wasm'], fallthrough: true },
      ...(d1Fault ? [{ type: 'ESModule', include: ['**/*.js', '**/*.mjs'] }] : []),
    ],
    compatibilityDate: '2026-04-01',
    d1Databases: { DB: 'cti-test' },
    bindings: {
      DIALPAD_WEBHOOK_SECRET: WEBHOOK_SECRET,
      JWT_SECRET,
      TENANT: 'default',
      // As deployed (wrangler.toml): the hub and the guard are created with the apac hint.
      HUB_LOCATION: 'apac',
      // As started and deployed (scripts/start.sh, `npm run deploy`): the pages name their
      // files under /v/<version>/, cached for good (src/domain/assets.rs).
      ASSETS_VERSION: assetsVersion(),
      ALLOW_UNSIGNED_WEBHOOKS: 'false',
      ALLOWED_ORIGINS: '',
      // As .dev.vars: the demo passwords sign in (a test turns it off to see them refused).
      ALLOW_DEMO_PASSWORDS: 'true',
      ...bindings,
    },
  };
  return {
    host: '127.0.0.1',
    port: 0,
    // Tests that assert on the Workers' log lines read workerd's stdout.
    ...(onLog
      ? {
          handleRuntimeStdio(stdout, stderr) {
            stdout.on('data', (d) => onLog(d.toString()));
            stderr.on('data', (d) => onLog(d.toString()));
          },
        }
      : {}),
    ...(persist ? { d1Persist: `${persist}/d1`, durableObjectsPersist: `${persist}/do` } : {}),
    workers: [
      {
        ...common,
        name: 'console',
        scriptPath: d1Fault ? 'tests/helpers/d1-fault-entry.mjs' : 'build/index.js',
        durableObjects: {
          HUB: { className: 'CallHub', scriptName: 'pop', useSQLite: true },
          GUARD: { className: 'Guard', useSQLite: true },
          DIALPAD_SYNC: { className: 'DialpadSync', useSQLite: true },
        },
        serviceBindings: { POP: 'pop' },
        assets: {
          directory: 'public',
          binding: 'ASSETS',
          routerConfig: { invoke_user_worker_ahead_of_assets: true, has_user_worker: true },
        },
      },
      {
        ...common,
        name: 'pop',
        scriptPath: d1Fault ? 'tests/helpers/d1-fault-pop.mjs' : 'build/pop/index.js',
        durableObjects: { HUB: { className: 'CallHub', useSQLite: true } },
        ...(direct ? { routes: ['*/api/dialpad/webhook*'] } : {}),
      },
    ],
  };
}

/**
 * Starts the built Workers in workerd, with migrations applied and (unless `seed: false`) the
 * demo data.
 * @param {WorkerOptions} [opts]
 */
export async function startWorker(opts = {}) {
  for (const f of ['build/index.js', 'build/pop/index.js']) {
    if (!existsSync(f)) throw new Error(`${f} is missing: run \`npm run build\` first`);
  }
  for (let attempt = 1; ; attempt++) {
    const options = miniflareOptions(opts);
    // `configure(options)`: a test changes the configuration (a binding removed, a Worker alone).
    opts.configure?.(options);
    const mf = new Miniflare(options);
    try {
      const url = (await mf.ready).toString().replace(/\/$/, '');
      const db = await mf.getD1Database('DB');
      await applyMigrations(db);
      if (opts.seed !== false) await seedDemo(db);
      return new WorkerClient(mf, url, db);
    } catch (e) {
      // A workerd left running would keep the test process alive after its failure.
      await mf.dispose().catch(() => {});
      // Miniflare's synchronous proxy (`db.prepare` from Node) can lose its answer on a loaded
      // machine (`assert(message?.id === id)` in SynchronousFetcher): the setup, not the code
      // under test. Migrations and the demo seed are idempotent, so a fresh instance retries once.
      if (attempt < 2 && isProxyRace(e)) {
        console.log(
          `# startWorker: miniflare's synchronous proxy lost an answer during setup; retrying once`,
        );
        continue;
      }
      throw e;
    }
  }
}

/** @param {unknown} e */
function isProxyRace(e) {
  const err = /** @type {{ code?: string, stack?: string }} */ (e);
  return err?.code === 'ERR_ASSERTION' && String(err.stack ?? '').includes('SynchronousFetcher');
}

let callSeq = 0;
let holdSeq = 0;
/** A unique Dialpad-style integer call id. */
export function newCallId() {
  return 6_000_000_000_000_000 + Date.now() * 1000 + (callSeq++ % 1000);
}

/**
 * A Dialpad call event shaped like the real thing (see the Call Events docs).
 * @param {Record<string, any>} [overrides]
 * @returns {Record<string, any>}
 */
export function callEvent(overrides = {}) {
  const now = Date.now();
  return {
    call_id: newCallId(),
    master_call_id: null,
    entry_point_call_id: null,
    state: 'ringing',
    direction: 'inbound',
    external_number: '+819012345678',
    internal_number: '+815017481234',
    date_started: now,
    date_rang: now,
    date_connected: null,
    date_ended: null,
    event_timestamp: now,
    duration: null,
    contact: { id: 5139283921928192, name: '山田 太郎', phone: '+819012345678', type: 'local' },
    target: { id: 4785074604081152, name: '西船橋店', phone: '+815017481234', type: 'office' },
    ...overrides,
  };
}

/**
 * The D1 binding as tests use it, as an oracle: every query first gets what waits in the hub's
 * outbox into D1 (the product's own reads do the same), so a test reads what the hub decided.
 */
/**
 * @param {any} raw the D1 binding (Miniflare's D1Database)
 * @param {() => Promise<unknown>} flush
 * @returns {any} the D1Database surface the tests use (prepare/bind/first/all/run/raw, batch, exec, dump)
 */
function settledD1(raw, flush) {
  const wrap = (stmt) => ({
    unwrapped: stmt,
    bind: (...args) => wrap(stmt.bind(...args)),
    first: async (...a) => {
      await flush();
      return stmt.first(...a);
    },
    all: async (...a) => {
      await flush();
      return stmt.all(...a);
    },
    run: async (...a) => {
      await flush();
      return stmt.run(...a);
    },
    raw: async (...a) => {
      await flush();
      return stmt.raw(...a);
    },
  });
  return {
    prepare: (sql) => wrap(raw.prepare(sql)),
    batch: async (stmts) => {
      await flush();
      return raw.batch(stmts.map((s) => s.unwrapped ?? s));
    },
    exec: async (sql) => {
      await flush();
      return raw.exec(sql);
    },
    dump: () => raw.dump(),
  };
}

export class WorkerClient {
  /**
   * @param {Miniflare} mf
   * @param {string} url
   * @param {any} db the raw D1 binding
   */
  constructor(mf, url, db) {
    this.mf = mf;
    this.url = url;
    this.rawDb = db;
    this.db = settledD1(db, () => this.flush());
    /** @type {WebSocket[]} */
    this.sockets = [];
  }

  async close() {
    for (const s of this.sockets) s.terminate();
    await this.mf.dispose();
  }

  /**
   * @param {string} path
   * @param {RequestInit} [init]
   */
  fetch(path, init = {}) {
    return fetch(this.url + path, init);
  }

  /**
   * @param {string} path
   * @param {RequestInit} [init]
   * @returns {Promise<JsonResponse>}
   */
  async json(path, init = {}) {
    let res;
    try {
      res = await this.fetch(path, init);
    } catch (e) {
      throw new Error(
        `${init.method ?? 'GET'} ${path}: ${e.message} (${e.cause?.code ?? e.cause?.message ?? 'no cause'})`,
      );
    }
    const text = await res.text();
    let body;
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
    return { status: res.status, body, headers: res.headers };
  }

  /**
   * @param {BodyInit} body a signed JWT (or anything else, to see it refused)
   * @param {Record<string, string>} [headers]
   */
  postWebhook(body, headers = {}) {
    return this.json('/api/dialpad/webhook', {
      method: 'POST',
      headers: { 'content-type': 'application/jwt', ...headers },
      body,
    });
  }

  /**
   * @param {object} event
   * @param {string} [secret]
   */
  sendEvent(event, secret = WEBHOOK_SECRET) {
    return this.postWebhook(signHS256(event, secret));
  }

  /**
   * Creates an account and logs it in; returns { token, user, cookie, password }. The login
   * response carries no token (browsers keep it in the HttpOnly cookie): `token` is read from
   * the `__Host-cti_session` cookie, which non-browser clients may send as a Bearer token.
   * @param {{ login?: string, role?: string, store?: string | null, stores?: string[], name?: string }} [opts]
   * @returns {Promise<Auth>}
   */
  async login({ login, role = 'admin', store = null, stores, name } = {}) {
    login ??= `${role}-${Math.random().toString(36).slice(2, 8)}`;
    const password = randomPassword();
    await upsertUser(this.db, { login, name: name ?? login, role, store, stores, password });
    const r = await this.json('/api/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ loginId: login, password }),
    });
    if (r.status !== 200) throw new Error(`login failed: ${r.status} ${JSON.stringify(r.body)}`);
    const cookie = r.headers.get('set-cookie').split(';')[0];
    const token = cookie.slice(cookie.indexOf('=') + 1);
    return { token, user: r.body.user, cookie, password, login };
  }

  /**
   * Opens the CTI socket; resolves once the hub's hello arrived.
   * @param {{ token: string } | null | undefined} auth
   * @param {{ since?: number | string, headers?: Record<string, string> }} [opts]
   * @returns {Promise<SocketProbe>}
   */
  openSocket(auth, { since, headers = {} } = {}) {
    const q = since === undefined ? '' : `?since=${since}`;
    const ws = new WebSocket(`${this.url.replace('http', 'ws')}/api/cti/socket${q}`, {
      headers: auth ? { authorization: `Bearer ${auth.token}`, ...headers } : headers,
    });
    this.sockets.push(ws);
    return new SocketProbe(ws).ready();
  }

  /**
   * The tenant's hub object, reached the way the Worker reaches it (tests only).
   * @param {string} path
   * @param {unknown} [body] JSON, POSTed; GET without
   * @returns {Promise<any>}
   */
  async hub(path, body) {
    // Miniflare types its bindings with @cloudflare/workers-types, which is not installed.
    const ns = /** @type {any} */ (await this.mf.getDurableObjectNamespace('HUB'));
    const stub = ns.get(ns.idFromName('default'));
    const res = await stub.fetch(
      `https://hub${path}`,
      body === undefined ? {} : { method: 'POST', body: JSON.stringify(body) },
    );
    const text = await res.text();
    if (res.status !== 200) throw new Error(`hub ${path}: ${res.status} ${text}`);
    return JSON.parse(text);
  }

  /**
   * After writing straight into D1 (what the CLI or a migration does), tells the hub's pop
   * index to re-read it, as `POST /api/admin/index/rebuild` does.
   */
  reindex() {
    return this.hub('/index', { all: true });
  }

  /**
   * With `startWorker({ d1Fault: true })`: 'down', 'lost-answer', 'slow:<ms>' or 'up' (see d1-fault.mjs).
   * @param {string} mode
   */
  async setD1(mode) {
    const kv = /** @type {any} */ (await this.mf.getKVNamespace('FAULTS'));
    await kv.put('d1', mode);
  }

  /**
   * With `startWorker({ d1Fault: true })`: D1 statements whose SQL contains `sql` wait before
   * they run until `release()` is called; `reached()` resolves once one is waiting.
   * @param {string} sql
   */
  async holdD1(sql) {
    const kv = /** @type {any} */ (await this.mf.getKVNamespace('FAULTS'));
    await kv.delete('held');
    // A fresh nonce: a statement the previous hold released is not caught again (d1-fault.mjs).
    await kv.put('hold', `${sql}\0${++holdSeq}`);
    return {
      /** @returns {Promise<string | null>} the held statement's SQL (null: none within 10 s) */
      reached: async () => {
        for (let i = 0; i < 500 && !(await kv.get('held')); i++)
          await new Promise((r) => setTimeout(r, 20));
        return kv.get('held');
      },
      release: () => kv.delete('hold'),
    };
  }

  /** Gets what waits in the hub's outbox into D1 (what every call-log read does first). */
  flush() {
    return this.hub('/flush', {});
  }

  /** @param {Parameters<typeof addCustomer>[1]} c */
  async addCustomer(c) {
    const id = await addCustomer(this.db, c);
    await this.reindex();
    return id;
  }

  /**
   * @param {string} name
   * @param {string[]} prefixes
   */
  async upsertStore(name, prefixes) {
    const r = await upsertStore(this.db, name, prefixes);
    await this.reindex();
    return r;
  }

  /**
   * The number of rows `sql` returns (after the outbox flush).
   * @param {string} sql
   * @param {...unknown} args bound to its `?`s
   * @returns {Promise<number>}
   */
  async count(sql, ...args) {
    await this.flush();
    const row = await this.db
      .prepare(`SELECT count(*) AS n FROM (${sql})`)
      .bind(...args)
      .first();
    return row.n;
  }
}

/** Collects a socket's messages and lets a test wait for a specific one. */
export class SocketProbe {
  /** @param {WebSocket} ws */
  constructor(ws) {
    this.ws = ws;
    /** @type {any[]} every message so far, parsed (`{ raw }` when not JSON) */
    this.messages = [];
    /** @type {{ check: () => boolean }[]} */
    this.waiters = [];
    /** @type {{ code: number, reason: string } | null} */
    this.closed = null;
    ws.on('message', (data) => {
      const text = data.toString();
      let msg;
      try {
        msg = JSON.parse(text);
      } catch {
        msg = { raw: text };
      }
      this.messages.push(msg);
      this.waiters = this.waiters.filter((w) => !w.check());
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this.waiters = this.waiters.filter((w) => !w.check());
    });
  }

  /** @returns {Promise<SocketProbe>} */
  ready() {
    return new Promise((resolve, reject) => {
      this.ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () =>
          reject(
            Object.assign(new Error(`upgrade refused: ${res.statusCode}`), {
              status: res.statusCode,
              body,
            }),
          ),
        );
      });
      this.ws.once('error', reject);
      this.waitFor((m) => m.type === 'hello').then(() => resolve(this), reject);
    });
  }

  /**
   * Resolves with the first message (seen or future) matching `pred`.
   * @param {(m: any) => unknown} pred
   * @param {number} [timeoutMs]
   * @returns {Promise<any>}
   */
  waitFor(pred, timeoutMs = 5000) {
    return new Promise((resolve, reject) => {
      const waiter = {
        check: () => {
          const m = this.messages.find(pred);
          if (m) {
            clearTimeout(timer);
            resolve(m);
            return true;
          }
          if (this.closed) {
            clearTimeout(timer);
            reject(new Error(`socket closed (${this.closed.code}) before the expected message`));
            return true;
          }
          return false;
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`timed out; got ${JSON.stringify(this.messages)}`));
      }, timeoutMs);
      if (!waiter.check()) this.waiters.push(waiter);
    });
  }

  /**
   * The messages of one type so far.
   * @param {string} type
   * @returns {any[]}
   */
  of(type) {
    return this.messages.filter((m) => m.type === type);
  }

  /**
   * Proves the absence of further messages: a ping round trip is ordered after them.
   * @returns {Promise<any[]>} the messages that arrived meanwhile
   */
  async settle() {
    const before = this.messages.length;
    /** @type {Promise<void>} */
    const pong = new Promise((resolve) => {
      const onMsg = (d) => {
        if (d.toString() === 'pong') {
          this.ws.off('message', onMsg);
          resolve();
        }
      };
      this.ws.on('message', onMsg);
    });
    this.ws.send('ping');
    await pong;
    return this.messages.slice(before).filter((m) => m.raw !== 'pong');
  }

  /**
   * Resolves with the close code once the server's close frame arrived (rejects after `ms`,
   * a bound, not a measurement). `ws` fires 'close' only when the TCP connection ends, which
   * Miniflare's proxy delays by seconds; the frame is what a client acts on.
   * @param {number} [ms]
   * @returns {Promise<number | undefined>}
   */
  closedWith(ms = 5000) {
    return new Promise((resolve, reject) => {
      const started = Date.now();
      const poll = () => {
        if (this.ws.readyState >= WebSocket.CLOSING)
          return resolve(this.ws._closeCode ?? this.closed?.code);
        if (Date.now() - started > ms) return reject(new Error(`socket still open after ${ms} ms`));
        setTimeout(poll, 20);
      };
      poll();
    });
  }

  close() {
    this.ws.close();
  }
}

export { signHS256, signRaw };
