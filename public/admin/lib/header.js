// @ts-check
// The page header of every console page, from this one source: importing this module puts it
// at the top of the page's <body> (the pages' HTML holds none of it, nor the favicon's link), before any page code
// looks up `#session-bar`, `#logout` or `#conn-status`. It carries the nav (built from the one
// list of pages, lib/pages.js), the live connection indicator (every signed-in page listens for
// calls and says so there) and the user. 「すべての端末からログアウト」 (`#logout-all`) is wired here for every page: it ends
// every session of the user on the server (their other consoles close at once) and returns to
// the login screen.
import { $, el } from './dom.js';
import { api } from './api.js';
import { loadStores } from './stores.js';
import { refreshCallbackCount } from './front-desk.js';
import { PAGES, visibleTo } from './pages.js';

const canonical = (/** @type {string} */ path) =>
  path.replace(/\.html$/, '').replace(/\/index$/, '/');

/**
 * Marks the nav link of the current page (the pages may be served with or without `.html`).
 * @param {ParentNode} [root]
 */
export function markCurrentNav(root = document) {
  const here = canonical(location.pathname);
  for (const a of root.querySelectorAll('.topnav a[href]')) {
    if (canonical(new URL(/** @type {HTMLAnchorElement} */ (a).href).pathname) === here)
      a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

function connIndicator() {
  return el(
    'div',
    {
      class: 'conn',
      attrs: {
        id: 'conn',
        title: 'このページで着信を受けています（接続中のあいだ、着信のポップアップが開きます）',
      },
      dataset: { status: 'connecting' },
    },
    el('span', { class: 'dot', attrs: { 'aria-hidden': 'true' } }),
    el('span', {
      text: '接続待ち',
      attrs: { id: 'conn-status', role: 'status', 'aria-live': 'polite' },
    }),
  );
}

/**
 * Renders the header into `slot`: the nav shows the pages everyone sees until [`showUser`]
 * knows the role.
 * @param {HTMLElement} slot
 */
export function renderHeader(slot) {
  slot.replaceChildren(
    el(
      'div',
      { class: 'brand' },
      el('span', { class: 'brand-mark', text: 'CTI' }),
      ' 着信コンソール',
    ),
    el(
      'div',
      { class: 'topbar-right', attrs: { id: 'session-bar' }, hidden: true },
      el(
        'nav',
        { class: 'topnav', attrs: { 'aria-label': 'メニュー' } },
        PAGES.map((page) =>
          el('a', {
            class: 'btn btn-ghost btn-small',
            text: page.label,
            attrs: { href: page.href },
            dataset: { roles: page.roles.join(' ') },
            hidden: !visibleTo(page, 'staff'),
          }),
        ),
      ),
      connIndicator(),
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
        attrs: {
          type: 'button',
          id: 'logout-all',
          title: 'この端末を含め、このユーザーのすべてのセッションを終了します',
        },
      }),
      el('button', {
        class: 'btn btn-ghost',
        text: 'ログアウト',
        attrs: { type: 'button', id: 'logout' },
      }),
    ),
  );
  markCurrentNav(slot);
  slot.querySelector('#logout-all').addEventListener('click', logoutEverywhere);
}

/** @param {Event} ev */
async function logoutEverywhere(ev) {
  const button = /** @type {HTMLButtonElement} */ (ev.currentTarget);
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

/** @type {{ name: string, role: string, storeId?: number | null, storeIds?: number[] } | null} */
let shownUser = null;
/** The console's names of the roles (`domain::token::Role::label`). */
const ROLE_LABELS = /** @type {Record<string, string>} */ ({
  admin: '管理者',
  area_manager: 'エリアマネージャー',
  staff: 'スタッフ',
  reception: '受付センター',
});

/**
 * Shows the signed-in user in the header: name, role badge and (staff) their store's name.
 * Resolves with that store's name (null for admins or when unknown).
 * @param {{ name: string, role: string, storeId?: number | null, storeIds?: number[] }} user
 * @returns {Promise<string | null>}
 */
export async function showUser(user) {
  shownUser = user;
  $('#session-bar').hidden = false;
  // Each page's link for the roles that see it (アカウント: admins), again at every login.
  for (const a of /** @type {NodeListOf<HTMLAnchorElement>} */ (
    document.querySelectorAll('.topnav a[data-roles]')
  )) {
    a.hidden = !a.dataset.roles.split(' ').includes(user.role);
  }
  refreshCallbackCount();
  $('#user-name').textContent = user.name;
  const role = $('#user-role');
  role.textContent = ROLE_LABELS[user.role] ?? user.role;
  role.className = user.role === 'admin' ? 'badge badge-admin' : 'badge badge-staff';
  role.hidden = user.name === role.textContent; // a user named 管理者: the role once
  const label = $('#user-store');
  label.textContent = '';
  const ids =
    user.storeIds ?? (user.storeId === null || user.storeId === undefined ? [] : [user.storeId]);
  if (user.role === 'admin' || user.role === 'reception' || !ids.length) return null;
  try {
    const stores = await loadStores();
    // Every store of the account (a member of several stores sees them all), the first first.
    const names = [user.storeId, ...ids.filter((/** @type {number} */ id) => id !== user.storeId)]
      .map((id) => stores.find((x) => x.id === id)?.name)
      .filter(Boolean);
    if (!names.length || shownUser !== user) return null; // another user logged in meanwhile
    label.textContent = names.join('・');
    return names.join('・');
  } catch {
    return null; // cosmetic
  }
}

// Every console page: its icon (the pages' HTML links none; lib/listener.js swaps it while a
// call rings), and the header first in <body>.
if (!document.querySelector('link[rel="icon"]')) {
  document.head.append(
    el('link', { attrs: { rel: 'icon', href: '/favicon.svg', type: 'image/svg+xml' } }),
  );
}
const header = el('header', { class: 'topbar' });
document.body.prepend(header);
renderHeader(header);
