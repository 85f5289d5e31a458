// @ts-check
// Paged tables (顧客, 着信履歴): the pager under the table.
import { el, setChildren } from './dom.js';

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

/**
 * A paged table (顧客, 着信履歴, 折り返し, 操作履歴): its body, its empty line, its pager and its
 * count. `go(page)` loads another page.
 * @param {{ body: HTMLElement, empty: HTMLElement, pager: HTMLElement, total: HTMLElement }} parts
 * @param {(page: number) => void} go
 */
export function pagedTable({ body, empty, pager, total }, go) {
  return {
    /**
     * The table's filter form: a submit or a change loads the first page.
     * @param {HTMLFormElement} form
     */
    reloadOn(form) {
      form.addEventListener('submit', (ev) => {
        ev.preventDefault();
        go(1);
      });
      form.addEventListener('change', () => go(1));
    },
    /** A page is being loaded. */
    loading() {
      body.setAttribute('aria-busy', 'true');
    },
    /** The load failed: the rows on screen answered another filter, so they go rather than look filtered. */
    clear() {
      body.setAttribute('aria-busy', 'false');
      setChildren(body, []);
      delete body.dataset.loaded;
      total.textContent = '';
      setChildren(pager, []);
      empty.hidden = true;
    },
    /**
     * A page past the last one came back empty (rows deleted elsewhere, a narrower search):
     * loads the last page instead and says so.
     * @param {unknown[]} rows
     * @param {PageOf} p the page asked for
     */
    overflowed(rows, p) {
      const last = pageAfterOverflow({ ...p, rows: rows.length });
      if (last === null) return false;
      go(last);
      return true;
    },
    /**
     * Shows a page's rows and the pager; `loaded` is what the rows answer (`data-loaded`: a
     * stale table can be told from a fresh one).
     * @param {Node[]} rows
     * @param {PageOf} p the page as the server answered it
     * @param {string} loaded
     */
    show(rows, p, loaded) {
      setChildren(body, rows);
      body.setAttribute('aria-busy', 'false');
      body.dataset.loaded = loaded;
      empty.hidden = rows.length > 0;
      renderPager(pager, p, go);
    },
  };
}
