// @ts-check
// The start of a record page (顧客, 店舗, 着信履歴, 折り返し, 設定, アカウント): the session
// check, the header's user and logout, the call listener (every page pops calls), and what to
// do when the session is gone. The session is the HttpOnly cookie; nothing
// is kept in storage.
import { $, setStatusLine } from './dom.js';
import { api } from './api.js';
import { showUser } from './header.js';
import { TEXT } from './messages.js';
import { confirmLogout } from './logout.js';
import { initListener, startListening, live } from './listener.js';

/** Back to the console, which shows the login form. */
export function toLogin() {
  location.replace('/admin/');
}

/** Sends the browser to the login when an API call says the session is gone. */
export function handleAuthError(e) {
  if (e && e.status === 401) {
    toLogin();
    return true;
  }
  return false;
}

/**
 * An optional part of a page's start (a filter's choices): a failure leaves it out, a lost
 * session goes to the login. Resolves false when the page is leaving for the login.
 * @param {() => Promise<unknown>} work
 */
export async function loadOptional(work) {
  try {
    await work();
    return true;
  } catch (e) {
    return !handleAuthError(e);
  }
}

/**
 * Shows a refusal in a page's error line (`text`, else the server's message); a lost session
 * goes to the login instead.
 * @param {HTMLElement} node
 * @param {any} e the ApiError
 * @param {string} [text]
 */
export function showPageError(node, e, text = e?.message) {
  if (handleAuthError(e)) return;
  node.textContent = text;
  node.hidden = false;
}

/**
 * The save of a 設定 card (its `save` button, `error` and `status` lines), for [`whileSaving`]:
 * a refusal says 保存できませんでした with the server's reason.
 * @param {{ save: HTMLButtonElement, error: HTMLElement, status: HTMLElement }} card
 */
export const settingsSave = (card) => ({
  button: card.save,
  error: card.error,
  status: card.status,
  describe: (/** @type {any} */ e) => TEXT.saveFailed(e.message),
});

/**
 * A form's save: `button` is disabled while `work` runs and `error` hidden; a refusal is shown
 * in `error` (`describe(e)`, else the server's message; a lost session goes to the login).
 * With `status`, the status line says 保存中… meanwhile and is cleared by a refusal (`work` says
 * how it went).
 * @param {{ button: HTMLButtonElement, error: HTMLElement, status?: HTMLElement, describe?: (e: any) => string }} parts
 * @param {() => Promise<unknown>} work
 */
export async function whileSaving({ button, error, status, describe }, work) {
  error.hidden = true;
  button.disabled = true;
  if (status) setStatusLine(status, TEXT.saving, 'pending');
  try {
    await work();
  } catch (e) {
    if (status) setStatusLine(status, '', null);
    showPageError(error, e, describe?.(e));
  } finally {
    button.disabled = false;
  }
}

/**
 * Checks the session (401: back to /admin/), fills the header and wires the logout button.
 * Resolves with the user; never resolves when redirecting.
 */
export async function startPage() {
  const boot = $('#boot');
  let user;
  try {
    user = (await api('/api/auth/me')).user;
  } catch (e) {
    if (handleAuthError(e)) return new Promise(() => {});
    if (boot) {
      boot.textContent = TEXT.loadFailed(null, e.message);
      boot.classList.add('form-error');
    }
    throw e;
  }
  if (boot) boot.hidden = true;
  showUser(user);
  // Every signed-in page listens for calls and pops them (lib/listener.js).
  initListener();
  live.addEventListener('authlost', toLogin);
  startListening(user);
  document.body.dataset.role = user.role;
  for (const node of /** @type {NodeListOf<HTMLElement>} */ (
    document.querySelectorAll('[data-admin-only]')
  ))
    node.hidden = user.role !== 'admin';
  for (const node of /** @type {NodeListOf<HTMLElement>} */ (
    document.querySelectorAll('[data-staff-only]')
  ))
    node.hidden = user.role === 'admin';
  $('#logout').addEventListener('click', async () => {
    if (!(await confirmLogout())) return;
    try {
      await api('/api/auth/logout', { method: 'POST' });
    } catch {
      /* the cookie expires anyway */
    }
    toLogin();
  });
  return user;
}
