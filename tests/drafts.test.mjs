// @ts-check
// Wrap-up drafts on a shared store PC (public/admin/lib/drafts.js and api.js, run here as the
// browser runs them, over an in-memory localStorage): a draft is kept per signed-in user (a
// second user on the same PC never sees the first one's), dropped when anyone logs out or the
// session is found gone (401), and one older than a day is not offered.
import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';

class MemoryStorage {
  constructor() {
    this.m = new Map();
  }
  get length() {
    return this.m.size;
  }
  key(i) {
    return [...this.m.keys()][i] ?? null;
  }
  getItem(k) {
    return this.m.has(k) ? this.m.get(k) : null;
  }
  setItem(k, v) {
    this.m.set(k, String(v));
  }
  removeItem(k) {
    this.m.delete(k);
  }
  clear() {
    this.m.clear();
  }
}
globalThis.localStorage = new MemoryStorage();
const { readDraft, writeDraft, setDraftOwner, DRAFT_TTL_MS } = await import(
  '../public/admin/lib/drafts.js'
);
const { api } = await import('../public/admin/lib/api.js');

beforeEach(() => {
  globalThis.localStorage = new MemoryStorage();
  setDraftOwner(1);
});

const answer = (status, body) => async () =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

test('a draft is kept for its call and offered back', () => {
  writeDraft('c1', { category: '予約', outcome: '', note: '午後に折り返す' });
  assert.equal(readDraft('c1').note, '午後に折り返す');
  assert.equal(readDraft('c2'), null);
});

test('a draft older than a day is not offered (and is dropped)', () => {
  localStorage.setItem(
    'cti-wrapup-draft:1:old',
    JSON.stringify({ note: '昨日の', at: Date.now() - DRAFT_TTL_MS - 1 }),
  );
  localStorage.setItem('cti-wrapup-draft:1:legacy', JSON.stringify({ note: 'no time' }));
  assert.equal(readDraft('old'), null);
  assert.equal(readDraft('legacy'), null);
  assert.equal(localStorage.getItem('cti-wrapup-draft:1:old'), null);
});

test('a logout, or any 401, drops every draft of the browser (the next person sees none)', async () => {
  writeDraft('c1', { note: 'A の下書き' });
  writeDraft('c2', { note: 'A の別の下書き' });
  localStorage.setItem('cti.settings.1', '{"ringSound":true}');
  globalThis.fetch = answer(200, { ok: true });
  await api('/api/auth/logout', { method: 'POST' });
  assert.equal(readDraft('c1'), null);
  assert.equal(readDraft('c2'), null);
  assert.equal(localStorage.getItem('cti.settings.1'), '{"ringSound":true}', 'preferences stay');

  setDraftOwner(1); // signed in again
  writeDraft('c3', { note: '途中' });
  globalThis.fetch = answer(401, {
    error: { code: 'not_logged_in', message: 'ログインしてください' },
  });
  await assert.rejects(api('/api/calls/wrapup?callId=c3'), { status: 401 });
  assert.equal(readDraft('c3'), null);
  // Other refusals keep the draft (a 409 must not lose what was typed).
  setDraftOwner(1);
  writeDraft('c4', { note: '残す' });
  globalThis.fetch = answer(409, { error: { code: 'version_conflict', message: '…' } });
  await assert.rejects(api('/api/calls/wrapup', { method: 'PUT', body: {} }));
  assert.equal(readDraft('c4').note, '残す');
});

test("drafts are keyed by the signed-in user: the next user on the PC never sees the first one's", async () => {
  // User 7 signs in (the server's answer to /api/auth/me names them) and types a draft.
  globalThis.fetch = answer(200, { user: { id: 7, loginId: 'a', role: 'staff' } });
  await api('/api/auth/me');
  writeDraft('c1', { note: '7 の下書き' });
  assert.equal(readDraft('c1').note, '7 の下書き');
  assert.ok(localStorage.getItem('cti-wrapup-draft:7:c1'), 'stored under the user');
  // Without a logout, user 8 signs in on the same browser: 7's draft is not offered to them,
  // and it is gone (a change of user drops every draft).
  globalThis.fetch = answer(200, { expiresAt: 'x', user: { id: 8, loginId: 'b', role: 'staff' } });
  await api('/api/auth/login', { method: 'POST', body: { loginId: 'b', password: 'p' } });
  assert.equal(readDraft('c1'), null);
  assert.equal(localStorage.getItem('cti-wrapup-draft:7:c1'), null);
  writeDraft('c1', { note: '8 の下書き' });
  assert.equal(readDraft('c1').note, '8 の下書き');
  // The same user again (a page's /api/auth/me): their draft stays.
  globalThis.fetch = answer(200, { user: { id: 8, loginId: 'b', role: 'staff' } });
  await api('/api/auth/me');
  assert.equal(readDraft('c1').note, '8 の下書き');
  // A draft written under another user's key (an older release, another profile's copy) is
  // never read for this one.
  localStorage.setItem('cti-wrapup-draft:9:c2', JSON.stringify({ note: '9 の', at: Date.now() }));
  assert.equal(readDraft('c2'), null);
});

test('with no signed-in user known (after a logout), nothing is kept', async () => {
  globalThis.fetch = answer(200, { ok: true });
  await api('/api/auth/logout', { method: 'POST' });
  writeDraft('c1', { note: '誰の?' });
  assert.equal(readDraft('c1'), null);
  assert.equal(
    [...Array(localStorage.length).keys()]
      .map((i) => localStorage.key(i))
      .filter((k) => k.startsWith('cti-wrapup-draft')).length,
    0,
  );
});
