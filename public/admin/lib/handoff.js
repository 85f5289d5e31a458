// @ts-check
// A value handed from one page to another of this browser without putting it in the address
// (a phone number in a URL ends up in logs): the first page keeps it in localStorage under a
// random token and links to `?h=<token>`; the page opened takes it once. A token not taken
// within five minutes is dropped.
const PREFIX = 'cti.handoff.';
const TTL_MS = 5 * 60 * 1000;

function prune(now) {
  for (let i = localStorage.length - 1; i >= 0; i -= 1) {
    const k = localStorage.key(i);
    if (!k?.startsWith(PREFIX)) continue;
    try {
      const { at } = JSON.parse(localStorage.getItem(k) ?? '{}');
      if (!(now - at < TTL_MS)) localStorage.removeItem(k);
    } catch {
      localStorage.removeItem(k);
    }
  }
}

/** Keeps `value` for the next page; returns the token to put in its address (null: no storage). */
export function putHandoff(value) {
  const token = crypto.randomUUID().replace(/-/g, '').slice(0, 16);
  try {
    prune(Date.now());
    localStorage.setItem(PREFIX + token, JSON.stringify({ v: String(value), at: Date.now() }));
    return token;
  } catch {
    return null;
  }
}

/** The value handed over under `token` (once), or null. */
export function takeHandoff(token) {
  if (!token || !/^[0-9a-f]{1,32}$/.test(token)) return null;
  try {
    const raw = localStorage.getItem(PREFIX + token);
    localStorage.removeItem(PREFIX + token);
    if (!raw) return null;
    const { v, at } = JSON.parse(raw);
    return Date.now() - at < TTL_MS ? String(v) : null;
  } catch {
    return null;
  }
}
