// @ts-check
// Same-origin JSON requests. The session travels in the HttpOnly cookie; nothing is stored
// client side. A refusal becomes an ApiError whose message comes from the catalogue.
import { errorText } from './messages.js';
import { clearDrafts, setDraftOwner } from './drafts.js';

/** An API failure: `status` 0 means the network itself failed. */
export class ApiError extends Error {
  constructor(status, body, retryAfter = null) {
    const err = body && typeof body === 'object' ? body.error : null;
    super(errorText(err, status, retryAfter));
    this.status = status;
    this.code = err?.code ?? null;
    this.field = err?.field ?? null;
    // The server's whole error object: a 409's `current` record, an import's `rows`.
    this.details = err && typeof err === 'object' ? err : null;
  }
}

/**
 * @typedef {object} ApiOptions
 * @property {string} [method] GET unless said
 * @property {unknown} [body] sent as JSON
 * @property {BodyInit} [raw] sent unchanged (a Blob / File / string, e.g. a CSV import)
 * @property {string} [contentType] the content type of `raw`
 * @property {AbortSignal} [signal]
 */

/**
 * `body` is sent as JSON, or `raw` (a Blob / File / string, e.g. a CSV import) unchanged with
 * `contentType`. Resolves with the parsed JSON body; rejects with ApiError.
 * @param {string} path
 * @param {ApiOptions} [options]
 * @returns {Promise<any>}
 */
export async function api(path, { method = 'GET', body, raw, contentType, signal } = {}) {
  /** @type {RequestInit & { headers: Record<string, string> }} */
  const init = {
    method,
    credentials: 'same-origin',
    headers: { accept: 'application/json' },
    signal,
  };
  if (raw !== undefined) {
    init.body = raw;
    if (contentType) init.headers['content-type'] = contentType;
  } else if (body !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch (e) {
    if (e?.name === 'AbortError') throw e;
    throw new ApiError(0, null);
  }
  const text = await res.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  // The session is over (401) or being ended: no half-typed wrap-up stays for the next person.
  if (res.status === 401 || (res.ok && /^\/api\/auth\/logout(-all)?$/.test(path))) clearDrafts();
  if (!res.ok) throw new ApiError(res.status, data, Number(res.headers.get('retry-after')) || null);
  // Who is signed in here: wrap-up drafts are kept per user (lib/drafts.js).
  if (path === '/api/auth/me' || path === '/api/auth/login') setDraftOwner(data?.user?.id);
  return data;
}
