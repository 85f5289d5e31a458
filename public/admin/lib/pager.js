// @ts-check
// Paged tables (顧客, 着信履歴): the pager under the table.
import { el } from './dom.js';

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

/** The page number in the address (`?page=`), at least 1. */
export function pageParam(params) {
  return Math.max(1, Number.parseInt(params.get('page') ?? '1', 10) || 1);
}

/**
 * A page past the last one (after a search, an import or a deletion elsewhere) came back
 * empty: the page to load instead (the last one), or null when `page` is fine.
 */
export function pageAfterOverflow({ rows, total, page, perPage }) {
  if (rows === 0 && total > 0 && page > 1) return Math.max(1, Math.ceil(total / perPage));
  return null;
}
