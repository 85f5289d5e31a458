// Shared by the record pages (顧客, 店舗, 着信履歴): the session check, the header (nav, user,
// logout) and small helpers for paged tables. The session is the HttpOnly cookie; nothing is
// kept in storage.
import { $, el, api } from './common.js';

export const NAV_ITEMS = Object.freeze([
  { href: '/admin/', label: '着信' },
  { href: '/admin/customers.html', label: '顧客' },
  { href: '/admin/stores.html', label: '店舗' },
  { href: '/admin/calls.html', label: '着信履歴' },
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

/**
 * Checks the session (401: back to /admin/), fills the header and wires the logout button.
 * Resolves with the user; never resolves when redirecting.
 */
export async function startPage() {
  markCurrentNav();
  const boot = $('#boot');
  let user;
  try {
    user = (await api('/api/auth/me')).user;
  } catch (e) {
    if (handleAuthError(e)) return new Promise(() => {});
    if (boot) {
      boot.textContent = `読み込めませんでした: ${e.message}`;
      boot.classList.add('form-error');
    }
    throw e;
  }
  if (boot) boot.hidden = true;
  const bar = $('#session-bar');
  if (bar) bar.hidden = false;
  const name = $('#user-name');
  if (name) name.textContent = user.name;
  const role = $('#user-role');
  if (role) {
    role.textContent = user.role === 'admin' ? '管理者' : 'スタッフ';
    role.className = user.role === 'admin' ? 'badge badge-admin' : 'badge badge-staff';
  }
  document.body.dataset.role = user.role;
  for (const node of document.querySelectorAll('[data-admin-only]')) node.hidden = user.role !== 'admin';
  for (const node of document.querySelectorAll('[data-staff-only]')) node.hidden = user.role === 'admin';
  if (user.role !== 'admin' && user.storeId !== null && user.storeId !== undefined) {
    loadStores()
      .then((stores) => {
        const s = stores.find((x) => x.id === user.storeId);
        const label = $('#user-store');
        if (s && label) label.textContent = s.name;
      })
      .catch(() => {});
  }
  $('#logout')?.addEventListener('click', async () => {
    try {
      await api('/api/auth/logout', { method: 'POST' });
    } catch {
      /* the cookie expires anyway */
    }
    toLogin();
  });
  return user;
}

/** Renders a pager: 前へ / 次へ and "N件中 a–b件". Calls `go(page)` on a click. */
export function renderPager(node, { total, page, perPage }, go) {
  const pages = Math.max(1, Math.ceil(total / perPage));
  const first = total === 0 ? 0 : (page - 1) * perPage + 1;
  const last = Math.min(total, page * perPage);
  node.replaceChildren(
    el('button', {
      class: 'btn btn-small pager-prev',
      text: '前へ',
      attrs: { type: 'button', disabled: page <= 1 },
      on: { click: () => go(page - 1) },
    }),
    el('span', { class: 'pager-info', text: total === 0 ? '0件' : `${total}件中 ${first}–${last}件 (${page}/${pages}ページ)` }),
    el('button', {
      class: 'btn btn-small pager-next',
      text: '次へ',
      attrs: { type: 'button', disabled: page >= pages },
      on: { click: () => go(page + 1) },
    }),
  );
}

/** Splits "a, b c\nd" into ["a", "b", "c", "d"] (commas, 、, spaces, new lines). */
export function splitList(text) {
  return String(text ?? '')
    .split(/[\s,、，;；]+/)
    .map((s) => s.trim())
    .filter(Boolean);
}
