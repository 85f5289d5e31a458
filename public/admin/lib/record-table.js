// @ts-check
// The console's record tables (顧客, 着信履歴, 折り返し, 操作履歴, 店舗, the console's 着信 list),
// built once from each page's columns: the page's HTML holds `<div data-record-table hidden>
// </div>` where the table goes, and the page's module, which renders the rows, names the
// columns next to them.
import { el } from './dom.js';

/**
 * A column heading: its text (or a node, e.g. a select-all box), or that with its cell's class
 * (`num`: a number, right-aligned) and whether only admins see it.
 * @typedef {string | Node | { text: string, class?: string, adminOnly?: boolean }} Column
 */

/** @param {Column} c */
function heading(c) {
  if (typeof c === 'string' || c instanceof Node) return el('th', {}, c);
  return el('th', {
    class: c.class,
    text: c.text,
    attrs: { 'data-admin-only': c.adminOnly },
    hidden: c.adminOnly,
  });
}

/**
 * Replaces `slot` with the table (`#{id}-table`, class `className`, body `#{id}-body`), the
 * line shown when it has no rows (`#{id}-empty`, `emptyText`; none without it) and, for a
 * paged table, the pager (`#pager`, lib/pager.js). Returns those parts.
 * @param {Element} slot
 * @param {{ id: string, className?: string, columns: readonly Column[], emptyText?: string, paged?: boolean }} spec
 */
export function recordTable(
  slot,
  { id, className = 'records', columns, emptyText, paged = false },
) {
  const body = el('tbody', { attrs: { id: `${id}-body` } });
  const empty = el('p', {
    class: 'empty',
    text: emptyText,
    attrs: { id: `${id}-empty` },
    hidden: true,
  });
  const pager = el('div', { class: 'pager', attrs: { id: 'pager' } });
  const table = el(
    'table',
    { class: className, attrs: { id: `${id}-table` } },
    el('thead', {}, el('tr', {}, columns.map(heading))),
    body,
  );
  slot.replaceWith(
    el('div', { class: 'table-wrap' }, table),
    ...(emptyText === undefined ? [] : [empty]),
    ...(paged ? [pager] : []),
  );
  return { table, body, empty, pager };
}
