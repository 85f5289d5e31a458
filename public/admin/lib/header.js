// The page header of every admin page, from this one source.
// The HTML holds only `<header class="topbar" data-app-header>` (`data-conn` adds the live
// connection indicator: every signed-in page listens for calls and says so there); importing this module fills it in, before any page code looks up
// `#session-bar`, `#logout` or `#conn-status`. 「すべての端末からログアウト」 (`#logout-all`) is
// wired here for every page: it ends every session of the user on the server (their other
// consoles close at once) and returns to the login screen.
import { $, el } from './dom.js';
import { api } from './api.js';
import { loadStores } from './stores.js';
import { refreshCallbackCount } from './front-desk.js';

export const NAV_ITEMS = Object.freeze([
  { href: '/admin/', label: '着信' },
  { href: '/admin/customers.html', label: '顧客' },
  { href: '/admin/stores.html', label: '店舗' },
  { href: '/admin/calls.html', label: '着信履歴' },
  { href: '/admin/callbacks.html', label: '折り返し' },
  { href: '/admin/reports.html', label: '着信分析' },
  { href: '/admin/settings.html', label: '設定' },
  { href: '/admin/accounts.html', label: 'アカウント', adminOnly: true },
  { href: '/admin/audit.html', label: '操作履歴', adminOnly: true },
]);

const canonical = (path) => path.replace(/\.html$/, '').replace(/\/index$/, '/');

/** Marks the nav link of the current page (the pages may be served with or without `.html`). */
export function markCurrentNav(root = document) {
  const here = canonical(location.pathname);
  for (const a of root.querySelectorAll('.topnav a[href]')) {
    if (canonical(new URL(a.href).pathname) === here) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

function connIndicator() {
  return el(
    'div',
    { class: 'conn', attrs: { id: 'conn', title: 'このページで着信を受けています（接続中のあいだ、着信のポップアップが開きます）' }, dataset: { status: 'connecting' } },
    el('span', { class: 'dot', attrs: { 'aria-hidden': 'true' } }),
    el('span', { text: '接続待ち', attrs: { id: 'conn-status', role: 'status', 'aria-live': 'polite' } }),
  );
}

/** Renders the header into `slot`. */
export function renderHeader(slot, { conn = false } = {}) {
  slot.replaceChildren(
    el('div', { class: 'brand' }, el('span', { class: 'brand-mark', text: 'CTI' }), ' 着信コンソール'),
    el(
      'div',
      { class: 'topbar-right', attrs: { id: 'session-bar' }, hidden: true },
      el(
        'nav',
        { class: 'topnav', attrs: { 'aria-label': 'メニュー' } },
        NAV_ITEMS.map(({ href, label, adminOnly }) =>
          el('a', { class: 'btn btn-ghost btn-small', text: label, attrs: { href, 'data-admin-nav': adminOnly }, hidden: adminOnly }),
        ),
      ),
      conn ? connIndicator() : null,
      el(
        'div',
        { class: 'user' },
        el('span', { class: 'user-name', attrs: { id: 'user-name' } }),
        el('span', { class: 'badge', attrs: { id: 'user-role' } }),
        el('span', { class: 'user-store', attrs: { id: 'user-store' } }),
      ),
      el('button', {
        class: 'btn btn-ghost btn-small',
        text: 'すべての端末からログアウト',
        attrs: { type: 'button', id: 'logout-all', title: 'この端末を含め、このユーザーのすべてのセッションを終了します' },
      }),
      el('button', { class: 'btn btn-ghost', text: 'ログアウト', attrs: { type: 'button', id: 'logout' } }),
    ),
  );
  markCurrentNav(slot);
  slot.querySelector('#logout-all').addEventListener('click', logoutEverywhere);
}

async function logoutEverywhere(ev) {
  const button = ev.currentTarget;
  button.disabled = true;
  try {
    await api('/api/auth/logout-all', { method: 'POST' });
  } catch (e) {
    // 401: already logged out; anything else: say so and let the user try again.
    if (e.status !== 401) {
      button.disabled = false;
      button.title = e.message;
      return;
    }
  }
  location.assign('/admin/');
}

/**
 * Shows the signed-in user in the header: name, role badge and (staff) their store's name.
 * Resolves with that store's name (null for admins or when unknown).
 */
let shownUser = null;
export async function showUser(user) {
  shownUser = user;
  $('#session-bar').hidden = false;
  // Admin-only entries (アカウント): shown to admins, hidden again when a staff member logs in.
  for (const a of document.querySelectorAll('.topnav a[data-admin-nav]')) a.hidden = user.role !== 'admin';
  refreshCallbackCount();
  $('#user-name').textContent = user.name;
  const role = $('#user-role');
  role.textContent = user.role === 'admin' ? '管理者' : 'スタッフ';
  role.className = user.role === 'admin' ? 'badge badge-admin' : 'badge badge-staff';
  role.hidden = user.name === role.textContent; // a user named 管理者: the role once
  const label = $('#user-store');
  label.textContent = '';
  if (user.role === 'admin' || user.storeId === null || user.storeId === undefined) return null;
  try {
    const s = (await loadStores()).find((x) => x.id === user.storeId);
    if (!s || shownUser !== user) return null; // another user logged in meanwhile
    label.textContent = s.name;
    return s.name;
  } catch {
    return null; // cosmetic
  }
}

const slot = document.querySelector('header[data-app-header]');
if (slot) renderHeader(slot, { conn: 'conn' in slot.dataset });
