// @ts-check
// Half-typed wrap-ups kept in this browser (under the call's id) until saved. A shared store
// PC must not show one person's draft to the next: drafts are dropped when anyone logs out or
// a request finds the session gone (401), and a draft older than a day is not offered.
export const DRAFT_PREFIX = 'cti-wrapup-draft:';
export const DRAFT_TTL_MS = 24 * 60 * 60 * 1000;

/** Drops every wrap-up draft of this browser. */
export function clearDrafts() {
  try {
    for (let i = localStorage.length - 1; i >= 0; i -= 1) {
      const k = localStorage.key(i);
      if (k?.startsWith(DRAFT_PREFIX)) localStorage.removeItem(k);
    }
  } catch {
    /* storage disabled: nothing kept */
  }
}

/** The draft of a call (null: none, or older than a day, which is dropped). */
export function readDraft(callId) {
  const key = DRAFT_PREFIX + callId;
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

/** Keeps `values` as the call's draft (with the time, for the day's expiry). */
export function writeDraft(callId, values) {
  try {
    localStorage.setItem(DRAFT_PREFIX + callId, JSON.stringify({ ...values, at: Date.now() }));
  } catch {
    /* storage full or disabled */
  }
}

export function removeDraft(callId) {
  try {
    localStorage.removeItem(DRAFT_PREFIX + callId);
  } catch {
    /* ignore */
  }
}
