// @ts-check
// The stores list, fetched once per page load and shared by whoever needs it.
import { api } from './api.js';

let storesPromise = null;

/** The stores (cached per page load; `fresh` reloads). */
export function loadStores({ fresh = false } = {}) {
  if (fresh || !storesPromise) {
    storesPromise = api('/api/stores').then((r) => (Array.isArray(r?.stores) ? r.stores : []));
    storesPromise.catch(() => {
      storesPromise = null;
    });
  }
  return storesPromise;
}
