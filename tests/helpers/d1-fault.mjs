// @ts-check
// Test-only: a D1 binding behind a switch, so a test can make D1 unavailable and bring it back
// while the Workers and the hub keep running. The test entries d1-fault-entry.mjs (console
// Worker) and d1-fault-pop.mjs (pop Worker and hub) put it in front of the builds' DB.
// The switch lives in a KV namespace (FAULTS, key `d1`) that the test flips from Node:
//   'down'          every D1 call fails as a network loss does ("D1_ERROR: Network connection lost.")
//   'lost-answer'   a batch commits, then its answer is lost (the caller sees a failure): what a
//                   drain interrupted after D1 committed looks like to the hub
//   'slow:<ms>'     every D1 call waits <ms> first, as a far primary would (bench/tools/e2e-popup.mjs)
// And a hold (key `hold`, a piece of SQL, then optionally a NUL and a nonce): a statement
// containing the SQL waits, before it runs, until the test deletes or replaces the key (the
// entry sets `held` to the statement's SQL meanwhile), so a test can make something happen at
// an exact point of a multi-step D1 read. The nonce makes each hold distinct: a statement
// released by one hold is not caught again by the next hold on the same SQL.
// Nothing here is part of the product; the Worker sees a D1Database as usual.

const lost = () => new Error('D1_ERROR: Network connection lost.');

/** 'slow:<ms>': the delay every D1 call waits first (0 otherwise). */
const slowMs = (mode) => (mode.startsWith('slow:') ? Number(mode.slice(5)) || 0 : 0);
const pause = (ms) => (ms > 0 ? new Promise((r) => setTimeout(r, ms)) : null);

async function hold(kv, sql) {
  const value = await kv.get('hold');
  const pattern = value?.split('\0')[0];
  if (!pattern || !sql.includes(pattern)) return;
  await kv.put('held', sql);
  while ((await kv.get('hold')) === value) await new Promise((r) => setTimeout(r, 20));
}

class D1PreparedStatement {
  constructor(inner, mode, kv, sql) {
    this.inner = inner;
    this.mode = mode;
    this.kv = kv;
    this.sql = sql;
  }
  bind(...args) {
    return new D1PreparedStatement(this.inner.bind(...args), this.mode, this.kv, this.sql);
  }
  async ready() {
    await hold(this.kv, this.sql);
    const mode = await this.mode();
    if (mode === 'down') throw lost();
    await pause(slowMs(mode));
  }
  async first(...a) {
    await this.ready();
    return this.inner.first(...a);
  }
  async all(...a) {
    await this.ready();
    return this.inner.all(...a);
  }
  async run(...a) {
    await this.ready();
    return this.inner.run(...a);
  }
  async raw(...a) {
    await this.ready();
    return this.inner.raw(...a);
  }
}

// Named like the runtime's class: workers-rs checks the binding's constructor name.
class D1Database {
  constructor(inner, kv) {
    this.inner = inner;
    this.kv = kv;
    this.mode = async () => (await kv.get('d1')) ?? 'up';
  }
  prepare(sql) {
    return new D1PreparedStatement(this.inner.prepare(sql), this.mode, this.kv, sql);
  }
  async batch(stmts) {
    for (const s of stmts) if (s.sql) await hold(this.kv, s.sql);
    const mode = await this.mode();
    if (mode === 'down') throw lost();
    await pause(slowMs(mode));
    const result = await this.inner.batch(stmts.map((s) => s.inner ?? s));
    if (mode === 'lost-answer') throw lost();
    return result;
  }
  async exec(sql) {
    const mode = await this.mode();
    if (mode === 'down') throw lost();
    await pause(slowMs(mode));
    return this.inner.exec(sql);
  }
  dump() {
    return this.inner.dump();
  }
}

export function faulty(env) {
  const db = new D1Database(env.DB, env.FAULTS);
  return new Proxy(env, { get: (t, k) => (k === 'DB' ? db : Reflect.get(t, k)) });
}
