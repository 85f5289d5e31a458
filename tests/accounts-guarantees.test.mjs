// @ts-check
// Accounts (issue 23, "Accounts"): a change that would leave no enabled admin is refused
// atomically (two admins disabling or demoting each other at once: one wins, the other gets
// 409 last_admin); another admin's password reset or an admin's demotion needs the acting
// admin's own password; who changed an account is recorded; the common-password list is real
// (thousands of 12+ character entries, the demo passwords and the product's names among them);
// the demo passwords sign in only where ALLOW_DEMO_PASSWORDS="true".
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorker } from './helpers/worker.mjs';

let w;
before(async () => {
  w = await startWorker();
});
after(() => w?.close());

const as = (who) => ({ authorization: `Bearer ${who.token}`, 'content-type': 'application/json' });
const call = (who, method, path, body) =>
  w.json(path, {
    method,
    headers: as(who),
    body: body === undefined ? undefined : JSON.stringify(body),
  });

/** Two admins, and no other enabled admin: the pair whose changes could leave none. */
async function onlyTwoAdmins() {
  await w.db.prepare("UPDATE users SET disabled = 1 WHERE role = 'admin'").run();
  const a = await w.login({ role: 'admin' });
  const b = await w.login({ role: 'admin' });
  return [a, b];
}

const storeId = async () =>
  (await w.db.prepare("SELECT id FROM stores WHERE name = '西船橋'").first()).id;

const enabledAdmins = async () =>
  (
    await w.db
      .prepare("SELECT count(*) AS n FROM users WHERE role = 'admin' AND disabled = 0")
      .first()
  ).n;

test('two admins disabling each other at the same moment: exactly one wins, the other gets 409 last_admin', async () => {
  for (let round = 0; round < 3; round++) {
    const [a, b] = await onlyTwoAdmins();
    const res = await Promise.all([
      call(a, 'PATCH', `/api/users/${b.user.id}`, { disabled: true }),
      call(b, 'PATCH', `/api/users/${a.user.id}`, { disabled: true }),
    ]);
    const statuses = res.map((r) => r.status).sort();
    // The loser is refused by the rule (409) or, when the winner's change already ended its
    // session, is no longer signed in (401): either way it changed nothing.
    assert.equal(
      statuses.filter((s) => s === 200).length,
      1,
      JSON.stringify(res.map((r) => r.body)),
    );
    const loser = res.find((r) => r.status !== 200);
    assert.ok([409, 401].includes(loser.status), JSON.stringify(loser.body));
    if (loser.status === 409) assert.equal(loser.body.error.code, 'last_admin');
    assert.equal(await enabledAdmins(), 1, 'one enabled admin remains');
  }
});

test('demoting each other at the same moment: one wins, the other is refused; the demotion needs the acting password', async () => {
  const [a, b] = await onlyTwoAdmins();
  const store = await storeId();
  const noPassword = await call(a, 'PATCH', `/api/users/${b.user.id}`, {
    role: 'staff',
    storeId: store,
  });
  assert.equal(noPassword.status, 403);
  assert.equal(noPassword.body.error.code, 'reauth_required');
  const wrong = await call(a, 'PATCH', `/api/users/${b.user.id}`, {
    role: 'staff',
    storeId: store,
    currentPassword: 'not-my-password-at-all',
  });
  assert.equal(wrong.status, 401);
  assert.equal(wrong.body.error.code, 'invalid_credentials');
  const res = await Promise.all([
    call(a, 'PATCH', `/api/users/${b.user.id}`, {
      role: 'staff',
      storeId: store,
      currentPassword: a.password,
    }),
    call(b, 'PATCH', `/api/users/${a.user.id}`, {
      role: 'staff',
      storeId: store,
      currentPassword: b.password,
    }),
  ]);
  assert.equal(
    res.filter((r) => r.status === 200).length,
    1,
    JSON.stringify(res.map((r) => r.body)),
  );
  const loser = res.find((r) => r.status !== 200);
  assert.ok([409, 401].includes(loser.status), JSON.stringify(loser.body));
  assert.equal(await enabledAdmins(), 1);
});

test("resetting another admin's password needs the acting admin's password; staff's does not; who changed is recorded", async () => {
  const a = await w.login({ role: 'admin' });
  const b = await w.login({ role: 'admin' });
  const s = await w.login({ role: 'staff', store: '西船橋' });
  const path = `/api/users/${b.user.id}/password`;
  const missing = await call(a, 'POST', path, {});
  assert.equal(missing.status, 403);
  assert.equal(missing.body.error.code, 'reauth_required');
  assert.match(missing.body.error.message, /パスワード/);
  const wrong = await call(a, 'POST', path, { currentPassword: 'definitely-not-it' });
  assert.equal(wrong.status, 401);
  assert.equal(wrong.body.error.code, 'invalid_credentials');
  // Nothing changed so far: b still signs in with the old password... and its session lives.
  assert.equal((await call(b, 'GET', '/api/auth/me')).status, 200);
  const ok = await call(a, 'POST', path, { currentPassword: a.password });
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  assert.ok(ok.body.password, 'a generated password, shown once');
  assert.equal((await call(b, 'GET', '/api/auth/me')).status, 401, "b's sessions ended");
  // A staff account's password: no re-authentication.
  const staff = await call(a, 'POST', `/api/users/${s.user.id}/password`, {});
  assert.equal(staff.status, 200);
  // updated_by: the list says which admin changed each account.
  const list = await call(a, 'GET', '/api/users');
  const byLogin = Object.fromEntries(list.body.users.map((u) => [u.loginId, u]));
  assert.equal(byLogin[b.login].updatedBy, a.login);
  assert.equal(byLogin[s.login].updatedBy, a.login);
  const created = await call(a, 'POST', '/api/users', {
    loginId: `made-by-${a.login}`,
    role: 'staff',
    storeId: await storeId(),
  });
  assert.equal(created.body.user.updatedBy, a.login);
});

test("a common password is refused: the package list, the product's names and the demo passwords", async () => {
  const a = await w.login({ role: 'admin' });
  for (const [i, password] of [
    'michaeljordan',
    'ctiedge12345',
    'Nishifunabashi2026',
    'cti-admin-demo',
    'CTI-STAFF-DEMO',
  ].entries()) {
    const r = await call(a, 'POST', '/api/users', {
      loginId: `common-${i}`,
      role: 'admin',
      password,
    });
    assert.equal(r.status, 400, password);
    assert.equal(r.body.error.code, 'password_too_common', password);
  }
  assert.equal(
    (
      await call(a, 'POST', '/api/users', {
        loginId: 'uncommon',
        role: 'admin',
        password: 'moss-under-the-quiet-bridge',
      })
    ).status,
    201,
  );
});

test('the demo passwords sign in only where ALLOW_DEMO_PASSWORDS="true" (never in production)', async () => {
  const demo = (worker, loginId, password) =>
    worker.json('/api/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ loginId, password }),
    });
  // The test helper sets it, as .dev.vars does (the demo admin was disabled by a test above).
  assert.equal((await demo(w, 'nishifunabashi', 'cti-staff-demo')).status, 200);
  const prod = await startWorker({ bindings: { ALLOW_DEMO_PASSWORDS: '' } });
  try {
    for (const [login, password] of [
      ['admin', 'cti-admin-demo'],
      ['nishifunabashi', 'cti-staff-demo'],
    ]) {
      const r = await demo(prod, login, password);
      assert.equal(r.status, 403, login);
      assert.equal(r.body.error.code, 'demo_password');
      assert.equal(r.headers.get('set-cookie'), null);
    }
  } finally {
    await prod.close();
  }
});
