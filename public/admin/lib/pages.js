// @ts-check
// The console's pages, in nav order, from this one list: lib/header.js builds the nav from it
// (and shows each link to the roles that see the page); tests/unit-pages.test.mjs checks that
// every page file is listed and every listed page exists and shares the head.

/** @typedef {'admin' | 'area_manager' | 'staff' | 'reception'} Role */
/** @typedef {{ href: string, label: string, roles: readonly Role[] }} Page */

const EVERYONE = Object.freeze(
  /** @type {Role[]} */ (['admin', 'area_manager', 'staff', 'reception']),
);
const ADMINS = Object.freeze(/** @type {Role[]} */ (['admin']));
// 受付センター sees a customer only while handling their call (README: roles): no 顧客 list,
// no 着信分析.
const NOT_RECEPTION = Object.freeze(/** @type {Role[]} */ (['admin', 'area_manager', 'staff']));

/**
 * The address, the nav label (tests and checks find the pages by these texts), and who sees
 * the page in the nav.
 * @type {readonly Page[]}
 */
export const PAGES = Object.freeze([
  { href: '/admin/', label: '着信', roles: EVERYONE },
  { href: '/admin/customers.html', label: '顧客', roles: NOT_RECEPTION },
  { href: '/admin/stores.html', label: '店舗', roles: EVERYONE },
  { href: '/admin/calls.html', label: '着信履歴', roles: EVERYONE },
  { href: '/admin/callbacks.html', label: '折り返し', roles: EVERYONE },
  { href: '/admin/reports.html', label: '着信分析', roles: NOT_RECEPTION },
  { href: '/admin/settings.html', label: '設定', roles: EVERYONE },
  { href: '/admin/accounts.html', label: 'アカウント', roles: ADMINS },
  { href: '/admin/audit.html', label: '操作履歴', roles: ADMINS },
]);

/**
 * Whether `role` sees `page` in the nav.
 * @param {Page} page
 * @param {string} role
 */
export const visibleTo = (page, role) => page.roles.includes(/** @type {Role} */ (role));
