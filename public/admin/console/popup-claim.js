// @ts-check
// Popups: exactly one per call across all tabs of this browser.
//
// Every tab hears every event. The tab that gets the Web Lock `cti-pop-<callId>` first (held a
// few seconds) and does not find the call in localStorage's popped list opens the window; the
// list (callId -> time, pruned after an hour, one per user) stops a later tab or a reload from
// popping it again. Windows are always named `cti-<callId>`, so a re-open reuses the window.

const POPPED_PREFIX = 'cti.popped.';
const POPPED_TTL_MS = 60 * 60 * 1000;
export const POPPED_MAX = 500;
const POP_LOCK_HOLD_MS = 3_000;

let userId = null;

/** Whose popped list is used (null: nobody logged in). */
export function setClaimUser(user) {
  userId = user ? user.id : null;
}

function poppedKey() {
  return `${POPPED_PREFIX}${userId ?? 'anon'}`;
}

function loadPopped() {
  let v;
  try {
    v = JSON.parse(localStorage.getItem(poppedKey()) ?? '{}');
  } catch {
    v = null;
  }
  const out = {};
  if (!v || typeof v !== 'object' || Array.isArray(v)) return out;
  const now = Date.now();
  for (const [id, ts] of Object.entries(v)) {
    if (typeof ts === 'number' && now - ts < POPPED_TTL_MS) out[id] = ts;
  }
  return out;
}

export function wasPopped(callId) {
  return Object.hasOwn(loadPopped(), String(callId));
}

/** Records (or refreshes) a popped call; entries older than an hour are dropped. */
export function markPopped(callId) {
  const map = loadPopped();
  map[String(callId)] = Date.now();
  let entries = Object.entries(map);
  if (entries.length > POPPED_MAX) entries = entries.sort((a, b) => a[1] - b[1]).slice(-POPPED_MAX);
  try {
    localStorage.setItem(poppedKey(), JSON.stringify(Object.fromEntries(entries)));
  } catch {
    /* storage full or disabled: the lock still keeps simultaneous tabs to one pop */
  }
}

/** Resolves true when this tab is the one to pop `callId`, and records it. */
export function claimPop(callId) {
  if (wasPopped(callId)) return Promise.resolve(false);
  const locks = navigator.locks;
  if (!locks?.request) {
    markPopped(callId);
    return Promise.resolve(true);
  }
  return new Promise((resolve) => {
    locks
      .request(`cti-pop-${callId}`, { ifAvailable: true }, (lock) => {
        if (!lock || wasPopped(callId)) {
          resolve(false);
          return undefined;
        }
        markPopped(callId);
        resolve(true);
        // Held a little longer, so that a tab deciding on the same event a moment later finds
        // it taken even before our localStorage write has reached it.
        return new Promise((r) => setTimeout(r, POP_LOCK_HOLD_MS));
      })
      .catch(() => {
        if (wasPopped(callId)) resolve(false);
        else {
          markPopped(callId);
          resolve(true);
        }
      });
  });
}
