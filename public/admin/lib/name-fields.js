// @ts-check
// A customer's 氏名, フリガナ and メモ: the same fields in every form that names a customer (顧客's
// edit form and 新規顧客登録, the popup's registration), defined once so that their labels and
// limits cannot drift apart. A form holds `<div data-name-fields="edit" hidden></div>` where
// the name fields go and `<div data-memo-field="edit" hidden></div>` where the memo goes (its
// own classes and `data-rows` carried over); importing this module puts them there (ids
// `edit-name`, `edit-kana` and `edit-memo`, names `name`, `kana` and `memo`), before the page's
// own code looks its form up.
import { el } from './dom.js';
import { LIMITS } from './limits.js';

/** The longest 氏名 / フリガナ the server takes. */
export const NAME_MAX_CHARS = LIMITS['customer.name'];
/** The longest メモ the server takes. */
export const MEMO_MAX_CHARS = LIMITS['customer.memo'];

/**
 * One labelled field with its error line (`data-error-for`, lib/forms.js).
 * @param {string} label
 * @param {HTMLInputElement | HTMLTextAreaElement} input
 * @param {boolean} required
 */
function field(label, input, required) {
  return el(
    'label',
    { class: 'field' },
    el(
      'span',
      { class: 'field-label' },
      label,
      required ? ' ' : null,
      required ? el('span', { class: 'req', text: '必須' }) : null,
    ),
    input,
    el('span', { class: 'field-error', dataset: { errorFor: input.name }, hidden: true }),
  );
}

/**
 * The 氏名 (required) and フリガナ fields, their ids prefixed with `prefix`.
 * @param {string} prefix
 */
export function nameFields(prefix) {
  const input = (/** @type {string} */ name, /** @type {boolean} */ required) =>
    /** @type {HTMLInputElement} */ (
      el('input', {
        attrs: {
          type: 'text',
          name,
          id: `${prefix}-${name}`,
          maxlength: NAME_MAX_CHARS,
          required,
          autocomplete: 'off',
        },
      })
    );
  return [field('氏名', input('name', true), true), field('フリガナ', input('kana', false), false)];
}

/**
 * The メモ field, its id prefixed with `prefix`, `rows` lines tall.
 * @param {string} prefix
 * @param {number} rows
 */
export function memoField(prefix, rows) {
  const input = /** @type {HTMLTextAreaElement} */ (
    el('textarea', {
      attrs: { name: 'memo', id: `${prefix}-memo`, rows, maxlength: MEMO_MAX_CHARS },
    })
  );
  return field('メモ', input, false);
}

/**
 * What a form's 氏名, フリガナ and メモ hold, as the API takes them (the names trimmed).
 * @param {HTMLFormElement} form
 */
export function nameAndMemo(form) {
  const f = /** @type {any} */ (form.elements);
  return { name: f.name.value.trim(), kana: f.kana.value.trim(), memo: f.memo.value };
}

for (const slot of /** @type {NodeListOf<HTMLElement>} */ (
  document.querySelectorAll('[data-name-fields]')
)) {
  slot.replaceWith(...nameFields(slot.dataset.nameFields));
}
for (const slot of /** @type {NodeListOf<HTMLElement>} */ (
  document.querySelectorAll('[data-memo-field]')
)) {
  const memo = memoField(slot.dataset.memoField, Number(slot.dataset.rows) || 3);
  memo.classList.add(...slot.classList);
  slot.replaceWith(memo);
}
