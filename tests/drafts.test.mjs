// @ts-check
// Wrap-up drafts on a shared store PC (public/admin/lib/drafts.js and api.js, run here as the
// browser runs them, over an in-memory localStorage): a draft is dropped when anyone logs out
// or the session is found gone (401), and one older than a day is not offered.
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
const { readDraft, writeDraft, DRAFT_TTL_MS } = await import('../public/admin/lib/drafts.js');
const { api } = await import('../public/admin/lib/api.js');

beforeEach(() => {
  globalThis.localStorage = new MemoryStorage();
});

const answer = (status, body) => async () => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

test('a draft is kept for its call and offered back', () => {
  writeDraft('c1', { category: '予約', outcome: '', note: '午後に折り返す' });
  assert.equal(readDraft('c1').note, '午後に折り返す');
  assert.equal(readDraft('c2'), null);
});

test('a draft older than a day is not offered (and is dropped)', () => {
  localStorage.setItem('cti-wrapup-draft:old', JSON.stringify({ note: '昨日の', at: Date.now() - DRAFT_TTL_MS - 1 }));
  localStorage.setItem('cti-wrapup-draft:legacy', JSON.stringify({ note: 'no time' }));
  assert.equal(readDraft('old'), null);
  assert.equal(readDraft('legacy'), null);
  assert.equal(localStorage.getItem('cti-wrapup-draft:old'), null);
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

  writeDraft('c3', { note: '途中' });
  globalThis.fetch = answer(401, { error: { code: 'not_logged_in', message: 'ログインしてください' } });
  await assert.rejects(api('/api/calls/wrapup?callId=c3'), { status: 401 });
  assert.equal(readDraft('c3'), null);
  // Other refusals keep the draft (a 409 must not lose what was typed).
  writeDraft('c4', { note: '残す' });
  globalThis.fetch = answer(409, { error: { code: 'version_conflict', message: '…' } });
  // (any: api.js is not type-checked yet, and its inferred options lack `body`.)
  await assert.rejects(api('/api/calls/wrapup', /** @type {any} */ ({ method: 'PUT', body: {} })));
  assert.equal(readDraft('c4').note, '残す');
});
