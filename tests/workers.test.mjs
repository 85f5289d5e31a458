// @ts-check
// The product is two Workers built from one crate (wrangler.toml: the console; wrangler.pop.toml:
// the pop Worker with Dialpad's webhook and the hub). What each serves, the way a delivery takes
// when it reaches the console Worker (local development), and that the two configurations
// name the same hub, database and tenant.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startWorker, callEvent, signHS256 } from './helpers/worker.mjs';

const quiet = { onLog: () => {} };

test('a delivery that reaches the console Worker is handed to the pop Worker: it pops, answers 200 and is recorded', async () => {
  const w = await startWorker({ ...quiet, direct: false });
  try {
    const admin = await w.login({ role: 'admin' });
    const s = await w.openSocket(admin);
    const ev = callEvent();
    const r = await w.sendEvent(ev);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.status, 'broadcast');
    const msg = await s.waitFor(
      (m) => m.type === 'incoming_call' && m.legId === String(ev.call_id),
    );
    assert.equal(msg.customer.name, '山田 太郎');
    assert.equal(await w.count('SELECT * FROM calls WHERE id = ?1', String(ev.call_id)), 1);
    // A bad token is refused the same way on this path.
    const bad = await w.postWebhook(
      signHS256(callEvent(), 'another-secret-of-at-least-32-characters'),
    );
    assert.equal(bad.status, 401);
  } finally {
    await w.close();
  }
});

test('a console that cannot reach the pop Worker answers a delivery 503 (Dialpad retries), never a 4xx', async () => {
  const broken = (o) => {
    // The pop Worker failing as a whole: the hand-on's call throws.
    o.workers.push({
      name: 'down',
      modules: true,
      script: 'export default { fetch() { throw new Error("down"); } };',
    });
    o.workers[0].serviceBindings = { POP: 'down' };
  };
  const w = await startWorker({ ...quiet, direct: false, configure: broken });
  try {
    const r = await w.sendEvent(callEvent());
    assert.equal(r.status, 503, JSON.stringify(r.body));
    assert.equal(r.body.error.code, 'temporarily_unavailable');
  } finally {
    await w.close();
  }
});

test("with its route, a delivery goes straight to the pop Worker (the console's hand-on not needed)", async () => {
  // The console could not hand it on.
  const w = await startWorker({ ...quiet, configure: (o) => delete o.workers[0].serviceBindings });
  try {
    const ev = callEvent();
    const r = await w.sendEvent(ev);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(await w.count('SELECT * FROM calls WHERE id = ?1', String(ev.call_id)), 1);
  } finally {
    await w.close();
  }
});

test('the pop Worker alone serves deliveries and nothing else', async () => {
  const popAlone = (o) => {
    const pop = { ...o.workers[1] };
    delete pop.routes;
    o.workers = [pop];
  };
  const w = await startWorker({ ...quiet, configure: popAlone });
  try {
    const ev = callEvent();
    const r = await w.sendEvent(ev);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(await w.count('SELECT * FROM calls WHERE id = ?1', String(ev.call_id)), 1);
    for (const path of ['/api/health', '/admin/', '/api/auth/me', '/']) {
      const res = await w.json(path);
      assert.equal(res.status, 404, path);
      assert.equal(res.body.error.code, 'not_found');
    }
    assert.equal((await w.json('/api/dialpad/webhook')).status, 405);
    assert.equal((await w.json('/api/auth/login', { method: 'POST', body: '{}' })).status, 404);
  } finally {
    await w.close();
  }
});

test('wrangler.toml and wrangler.pop.toml name the same hub, D1 database and tenant, for production and staging', () => {
  const console_ = readFileSync('wrangler.toml', 'utf8');
  const pop = readFileSync('wrangler.pop.toml', 'utf8');
  const one = (text, re) => {
    const m = text.match(re);
    assert.ok(m, `${re} in the configuration`);
    return m[1];
  };
  const popName = one(pop, /^name = "([^"]+)"/m);
  assert.equal(one(pop, /^main = "([^"]+)"/m), 'build/pop/index.js');
  assert.equal(one(console_, /^main = "([^"]+)"/m), 'build/index.js');
  // The console reaches the pop Worker's hub class and hands deliveries to it.
  assert.equal(
    one(console_, /^name = "HUB"\nclass_name = "CallHub"\nscript_name = "([^"]+)"/m),
    popName,
  );
  assert.equal(one(console_, /^\[\[services\]\]\nbinding = "POP"\nservice = "([^"]+)"/m), popName);
  const stagingPop = one(pop, /^\[env\.staging\]\nname = "([^"]+)"/m);
  assert.equal(
    one(console_, /^name = "HUB"\nclass_name = "CallHub"\nscript_name = "([^"]+-staging)"/m),
    stagingPop,
  );
  assert.equal(
    one(console_, /^\[\[env\.staging\.services\]\]\nbinding = "POP"\nservice = "([^"]+)"/m),
    stagingPop,
  );
  // One database, one tenant.
  const ids = (text) => [...text.matchAll(/^database_id = "([^"]+)"/gm)].map((m) => m[1]);
  assert.deepEqual(ids(pop), ids(console_));
  const tenants = (text) => [...text.matchAll(/^TENANT = "([^"]+)"/gm)].map((m) => m[1]);
  assert.deepEqual(tenants(pop), tenants(console_));
  // The hub class lives in the pop Worker only; the console keeps the login guard.
  assert.match(pop, /new_sqlite_classes = \["CallHub"\]/);
  assert.match(console_, /deleted_classes = \["Hub"\]/);
  // Cloudflare refuses to delete a class that a binding of the same name still names.
  const bound = [...console_.matchAll(/^class_name = "([^"]+)"/gm)].map((m) => m[1]);
  assert.ok(!bound.includes('Hub'), `bindings: ${bound}`);
  // The unsigned-webhook switch is read by the pop Worker only.
  assert.match(pop, /^ALLOW_UNSIGNED_WEBHOOKS = "false"/m);
  assert.doesNotMatch(console_, /ALLOW_UNSIGNED_WEBHOOKS/);
});
