// @ts-check
// Paged tables (顧客, 着信履歴): the pager under the table.
import { el } from './dom.js';

/** @typedef {{ total: number, page: number, perPage: number }} PageOf */

/**
 * How many pages `total` rows make (at least one).
 * @param {PageOf} p
 */
export const pageCount = ({ total, perPage }) => Math.max(1, Math.ceil(total / perPage));

/**
 * The pager's text: "N件中 a–b件 (p/nページ)", or 0件.
 * @param {PageOf} p
 */
export function pagerText({ total, page, perPage }) {
  if (total === 0) return '0件';
  const first = (page - 1) * perPage + 1;
  const last = Math.min(total, page * perPage);
  return `${total}件中 ${first}–${last}件 (${page}/${pageCount({ total, page, perPage })}ページ)`;
}

/**
 * Renders a pager: 前へ / 次へ and "N件中 a–b件". Calls `go(page)` on a click.
 * @param {Element} node
 * @param {PageOf} p
 * @param {(page: number) => void} go
 */
export function renderPager(node, { total, page, perPage }, go) {
  const pages = pageCount({ total, page, perPage });
  node.replaceChildren(
    el('button', {
      class: 'btn btn-small pager-prev',
      text: '前へ',
      attrs: { type: 'button', disabled: page <= 1 },
      on: { click: () => go(page - 1) },
    }),
    el('span', { class: 'pager-info', text: pagerText({ total, page, perPage }) }),
    el('button', {
      class: 'btn btn-small pager-next',
      text: '次へ',
      attrs: { type: 'button', disabled: page >= pages },
      on: { click: () => go(page + 1) },
    }),
  );
}

/**
 * The page number in the address (`?page=`), at least 1.
 * @param {URLSearchParams} params
 */
export function pageParam(params) {
  return Math.max(1, Number.parseInt(params.get('page') ?? '1', 10) || 1);
}

/**
 * A page past the last one (after a search, an import or a deletion elsewhere) came back
 * empty: the page to load instead (the last one), or null when `page` is fine.
 * @param {PageOf & { rows: number }} p
 */
export function pageAfterOverflow({ rows, total, page, perPage }) {
  if (rows === 0 && total > 0 && page > 1) return Math.max(1, Math.ceil(total / perPage));
  return null;
}
