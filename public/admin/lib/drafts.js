// @ts-check
// Half-typed wrap-ups kept in this browser (under the signed-in user and the call's id) until
// saved. A shared store PC must not show one person's draft to the next: drafts are keyed by
// the user the server last said is signed in here (`setDraftOwner`, from /api/auth/me and the
// login's answer: lib/api.js), a change of user drops every draft, they are dropped when
// anyone logs out or a request finds the session gone (401), and a draft older than a day is
// not offered. With no known user nothing is kept.
export const DRAFT_PREFIX = 'cti-wrapup-draft:';
export const DRAFT_OWNER_KEY = 'cti-wrapup-draft-owner';
export const DRAFT_TTL_MS = 24 * 60 * 60 * 1000;

function owner() {
  try {
    return localStorage.getItem(DRAFT_OWNER_KEY);
  } catch {
    return null;
  }
}

/** The storage key of a call's draft for the signed-in user (null: no known user). */
function keyOf(callId) {
  const who = owner();
  return who ? `${DRAFT_PREFIX}${who}:${callId}` : null;
}

/** Drops every wrap-up draft of this browser, whoever wrote it, and forgets the user. */
export function clearDrafts() {
  try {
    for (let i = localStorage.length - 1; i >= 0; i -= 1) {
      const k = localStorage.key(i);
      if (k?.startsWith(DRAFT_PREFIX)) localStorage.removeItem(k);
    }
    localStorage.removeItem(DRAFT_OWNER_KEY);
  } catch {
    /* storage disabled: nothing kept */
  }
}

/**
 * The user signed in in this browser (the server's answer to /api/auth/me or a login). Another
 * user than before: every draft goes first, so nobody is offered someone else's text.
 */
export function setDraftOwner(userId) {
  const id = userId === null || userId === undefined ? null : String(userId);
  if (owner() === id) return;
  clearDrafts();
  if (id === null) return;
  try {
    localStorage.setItem(DRAFT_OWNER_KEY, id);
  } catch {
    /* storage disabled */
  }
}

/** The signed-in user's draft of a call (null: none, or older than a day, which is dropped). */
export function readDraft(callId) {
  const key = keyOf(callId);
  if (!key) return null;
  try {
    const v = JSON.parse(localStorage.getItem(key) ?? 'null');
    if (!v) return null;
    if (!(Date.now() - Number(v.at) < DRAFT_TTL_MS)) {
      localStorage.removeItem(key);
      return null;
    }
    return v;
  } catch {
    return null;
  }
}

/** Keeps `values` as the signed-in user's draft of the call (with the time, for the expiry). */
export function writeDraft(callId, values) {
  const key = keyOf(callId);
  if (!key) return;
  try {
    localStorage.setItem(key, JSON.stringify({ ...values, at: Date.now() }));
  } catch {
    /* storage full or disabled */
  }
}

export function removeDraft(callId) {
  const key = keyOf(callId);
  if (!key) return;
  try {
    localStorage.removeItem(key);
  } catch {
    /* ignore */
  }
}
