// @ts-check
// The console's session: the first check (/api/auth/me), the login form and the logout
// button. The session is the HttpOnly cookie; nothing is stored client side. What a login or
// a logout means for the rest of the console is the entry module's (`start` / `stop` hooks).
import { $ } from '../lib/dom.js';
import { api } from '../lib/api.js';
import { TEXT } from '../lib/messages.js';
import { confirmLogout } from '../lib/logout.js';

const ui = {
  boot: $('#boot'),
  loginView: $('#login-view'),
  loginForm: $('#login-form'),
  loginError: $('#login-error'),
  loginSubmit: $('#login-submit'),
  consoleView: $('#console-view'),
  sessionBar: $('#session-bar'),
  logout: $('#logout'),
};

let user = null;
/** who was logged in last (kept through the login form: a different user starts afresh) */
let lastUser = null;
/**
 * @typedef {object} SessionHooks
 * @property {(user: any, previous: any, opts?: { loggedIn?: boolean }) => void} start
 * @property {() => void} stop
 * @property {() => void} logout
 */
/** @type {SessionHooks} */
let hooks = { start: () => {}, stop: () => {}, logout: () => {} };

export const currentUser = () => user;

/** Shows the login form (with `message`, if any) after stopping the console. */
export function showLogin(message) {
  hooks.stop();
  user = null;
  ui.consoleView.hidden = true;
  ui.sessionBar.hidden = true;
  ui.loginView.hidden = false;
  ui.loginError.hidden = !message;
  ui.loginError.textContent = message ?? '';
  ui.loginSubmit.disabled = false;
  document.title = 'CTI コンソール - ログイン';
  $('#login-id').focus();
}

function start(u, opts = {}) {
  const previous = lastUser;
  user = u;
  lastUser = u;
  ui.loginView.hidden = true;
  ui.consoleView.hidden = false;
  document.title = 'CTI コンソール';
  hooks.start(u, previous, opts);
}

async function login(ev) {
  ev.preventDefault();
  const loginId = ui.loginForm.elements.loginId.value.trim();
  const password = ui.loginForm.elements.password.value;
  if (!loginId || !password) {
    ui.loginError.textContent = !loginId ? TEXT.loginIdRequired : TEXT.passwordRequired;
    ui.loginError.hidden = false;
    return;
  }
  ui.loginSubmit.disabled = true;
  ui.loginError.hidden = true;
  try {
    const res = await api('/api/auth/login', { method: 'POST', body: { loginId, password } });
    ui.loginForm.elements.password.value = '';
    start(res.user, { loggedIn: true });
  } catch (e) {
    ui.loginError.textContent = e.message;
    ui.loginError.hidden = false;
    ui.loginSubmit.disabled = false;
  }
}

async function logout() {
  if (!(await confirmLogout())) return;
  hooks.stop();
  try {
    await api('/api/auth/logout', { method: 'POST' });
  } catch {
    /* the cookie is dropped server side anyway when it expires */
  }
  hooks.logout();
  showLogin(null);
}

/**
 * Wires the login form and the logout button, then checks the session. Hooks:
 * `start(user, previousUser, {loggedIn})` when someone is logged in (`previousUser`: the one
 * before, even if a login form came between; `loggedIn`: through the form, not a session
 * found at load); `stop()` before the login form shows;
 * `logout()` after a logout, before the form shows.
 */
export async function initSession(h) {
  hooks = h;
  ui.loginForm.addEventListener('submit', login);
  ui.logout.addEventListener('click', logout);
  try {
    const me = await api('/api/auth/me');
    start(me.user);
  } catch (e) {
    showLogin(e.status === 401 ? null : e.message);
  } finally {
    ui.boot.hidden = true;
  }
}
