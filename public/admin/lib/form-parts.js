// @ts-check
// Parts of the console pages' forms that stand in several forms, defined once (like the
// customer's fields, lib/name-fields.js). A form holds an empty, hidden slot where a part goes;
// importing this module puts the part there, before the page's own code looks it up:
//   <div data-date-range hidden></div>
//       開始日 and 終了日, the date filters of a record list (ids `filter-from`, `filter-to`;
//       names `from`, `to`);
//   <div data-save-line="add" data-submit="追加する" hidden></div>
//       the end of a side card's form: its error line (`add-error`), its status line
//       (`add-status`, lib/page.js whileSaving) and its full-width submit button (`add-submit`,
//       labelled with data-submit; data-admin-only on the slot is the button's too).
import { el } from './dom.js';

/**
 * A labelled date input.
 * @param {string} label
 * @param {string} name
 */
const dateField = (label, name) =>
  el('label', { class: 'field' }, el('span', { class: 'field-label', text: label }), el('input', { attrs: { type: 'date', id: `filter-${name}`, name } }));

/** 開始日 and 終了日. */
export const dateRange = () => [dateField('開始日', 'from'), dateField('終了日', 'to')];

/**
 * A form's error line, status line and submit button, their ids prefixed with `prefix`.
 * @param {string} prefix
 * @param {string} label the button's text
 * @param {boolean} adminOnly
 */
export function saveLine(prefix, label, adminOnly) {
  return [
    el('p', { class: 'form-error', attrs: { id: `${prefix}-error`, role: 'alert' }, hidden: true }),
    el('p', { class: 'status-line', attrs: { id: `${prefix}-status`, role: 'status', 'aria-live': 'polite' } }),
    el('button', {
      class: 'btn btn-primary btn-block',
      text: label,
      attrs: { type: 'submit', id: `${prefix}-submit`, 'data-admin-only': adminOnly },
      hidden: adminOnly,
    }),
  ];
}

for (const slot of /** @type {NodeListOf<HTMLElement>} */ (document.querySelectorAll('[data-date-range]'))) {
  slot.replaceWith(...dateRange());
}
for (const slot of /** @type {NodeListOf<HTMLElement>} */ (document.querySelectorAll('[data-save-line]'))) {
  slot.replaceWith(...saveLine(slot.dataset.saveLine, slot.dataset.submit, slot.hasAttribute('data-admin-only')));
}
