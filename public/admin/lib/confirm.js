// @ts-check
// A confirmation in a modal <dialog> (never the browser's confirm(), which blocks every script
// of the page, the call listener's included): resolves true when the user confirms.
import { el } from './dom.js';

let seq = 0;

/** `{title, text, confirmLabel, cancelLabel = 'キャンセル', danger = true}` → Promise<boolean>. */
export function confirmDialog({
  title,
  text,
  confirmLabel,
  cancelLabel = 'キャンセル',
  danger = true,
}) {
  return new Promise((resolve) => {
    const id = `confirm-title-${++seq}`;
    const finish = (ok) => {
      dialog.close();
      dialog.remove();
      resolve(ok);
    };
    const cancel = el('button', {
      class: 'btn',
      text: cancelLabel,
      attrs: { type: 'button' },
      on: { click: () => finish(false) },
    });
    const dialog = el(
      'dialog',
      { class: 'dialog', attrs: { 'aria-labelledby': id } },
      el('h2', { text: title, attrs: { id } }),
      el('p', { text }),
      el(
        'div',
        { class: 'dialog-actions' },
        el('button', {
          class: danger ? 'btn btn-danger' : 'btn btn-primary',
          text: confirmLabel,
          attrs: { type: 'button' },
          on: { click: () => finish(true) },
        }),
        cancel,
      ),
    );
    dialog.addEventListener('cancel', (ev) => {
      ev.preventDefault();
      finish(false);
    });
    document.body.append(dialog);
    dialog.showModal();
    cancel.focus();
  });
}
