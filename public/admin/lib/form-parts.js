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
//       labelled with data-submit; data-admin-only on the slot is the button's too);
//   <div data-actions="delete" data-confirm="削除する" hidden></div>
//       the end of a dialog: its error line (`delete-error`), then its buttons, the one that
//       does it (`delete-confirm`, a danger button; data-disabled: disabled until the dialog's
//       code enables it) and キャンセル (`delete-cancel`). With data-submit="登録する" instead of
//       data-confirm, the first is the form's submit button (`create-submit`, primary).
import { el } from './dom.js';

/**
 * A labelled date input.
 * @param {string} label
 * @param {string} name
 */
const dateField = (label, name) =>
  el(
    'label',
    { class: 'field' },
    el('span', { class: 'field-label', text: label }),
    el('input', { attrs: { type: 'date', id: `filter-${name}`, name } }),
  );

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
    el('p', {
      class: 'status-line',
      attrs: { id: `${prefix}-status`, role: 'status', 'aria-live': 'polite' },
    }),
    el('button', {
      class: 'btn btn-primary btn-block',
      text: label,
      attrs: { type: 'submit', id: `${prefix}-submit`, 'data-admin-only': adminOnly },
      hidden: adminOnly,
    }),
  ];
}

/**
 * A dialog's error line and buttons, their ids prefixed with `prefix`.
 * @param {string} prefix
 * @param {{ submit?: string, confirm?: string, disabled?: boolean }} labels `submit`: the form's
 *   submit button's text; else `confirm`: the danger button's
 */
export function dialogActions(prefix, { submit, confirm, disabled = false }) {
  const act = submit
    ? el('button', {
        class: 'btn btn-primary',
        text: submit,
        attrs: { type: 'submit', id: `${prefix}-submit` },
      })
    : el('button', {
        class: 'btn btn-danger',
        text: confirm,
        attrs: { type: 'button', id: `${prefix}-confirm`, disabled },
      });
  return [
    el('p', { class: 'form-error', attrs: { id: `${prefix}-error`, role: 'alert' }, hidden: true }),
    el(
      'div',
      { class: 'form-actions' },
      act,
      el('button', {
        class: 'btn',
        text: 'キャンセル',
        attrs: { type: 'button', id: `${prefix}-cancel` },
      }),
    ),
  ];
}

for (const slot of /** @type {NodeListOf<HTMLElement>} */ (
  document.querySelectorAll('[data-date-range]')
)) {
  slot.replaceWith(...dateRange());
}
for (const slot of /** @type {NodeListOf<HTMLElement>} */ (
  document.querySelectorAll('[data-save-line]')
)) {
  slot.replaceWith(
    ...saveLine(slot.dataset.saveLine, slot.dataset.submit, slot.hasAttribute('data-admin-only')),
  );
}
for (const slot of /** @type {NodeListOf<HTMLElement>} */ (
  document.querySelectorAll('[data-actions]')
)) {
  const { submit, confirm } = slot.dataset;
  slot.replaceWith(
    ...dialogActions(slot.dataset.actions, {
      submit,
      confirm,
      disabled: slot.hasAttribute('data-disabled'),
    }),
  );
}
