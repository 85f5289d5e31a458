// @ts-check
// Business hours as the pages need them live: which stores are open now (the server decides,
// `GET /api/settings/hours`), refreshed every minute, so a ringing call can be marked 時間外 and
// its ring muted without waiting; and which stores require a 用件 before a popup is closed.
import { api } from './api.js';

const TTL_MS = 60 * 1000;
let state = { at: 0, closed: new Set(), requireWrapup: new Set() };
let pending = null;

/** Reloads (at most once a minute unless `force`). Never throws: hours are a hint. */
export async function refreshHours({ force = false } = {}) {
  if (!force && Date.now() - state.at < TTL_MS) return state;
  pending ??= api('/api/settings/hours')
    .then((res) => {
      state = {
        at: Date.now(),
        closed: new Set((res.stores ?? []).filter((s) => !s.openNow).map((s) => s.storeId)),
        requireWrapup: new Set(res.requireWrapup ?? []),
      };
      return state;
    })
    .catch(() => state)
    .finally(() => {
      pending = null;
    });
  return pending;
}

/** Whether the store is outside its hours now (as of the last refresh). */
export const closedNow = (storeId) =>
  storeId !== null && storeId !== undefined && state.closed.has(storeId);

/** Whether an answered call of the store must have a 用件 before its popup is closed. */
export const wrapupRequired = (storeId) =>
  storeId !== null && storeId !== undefined && state.requireWrapup.has(storeId);
