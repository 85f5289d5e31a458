// @ts-check
// The popup's memo: edited in place (a click on the text or 編集), saved against the card's
// version. The new text shows at once; a 409 shows what someone else saved and keeps the draft.
import { $, setStatusLine } from '../lib/dom.js';
import { api } from '../lib/api.js';
import { TEXT } from '../lib/messages.js';

const ui = {
  memo: $('#memo'),
  edit: $('#memo-edit'),
  form: $('#memo-form'),
  input: $('#memo-input'),
  save: $('#memo-save'),
  cancel: $('#memo-cancel'),
  status: $('#memo-status'),
  conflict: $('#memo-conflict'),
  current: $('#memo-current'),
  readonly: $('#memo-readonly'),
};

/** Whether this user may edit the memo on screen (the lookup's `canEdit`). */
let editable = true;

/** Offers 編集 only where the user may edit; otherwise says why the memo is read-only. */
export function setMemoEditable(can) {
  editable = Boolean(can);
  if (!editable && edit.open) closeEditor();
  ui.edit.hidden = !editable || edit.open;
  ui.readonly.hidden = editable;
  ui.memo.title = editable ? 'クリックして編集' : '';
  ui.memo.classList.toggle('memo-readonly', !editable);
}

/** the editor: the version the edit is based on, and whether a save is under way */
let edit = { open: false, baseVersion: null, saving: false };
/**
 * What the memo needs of the popup (`initMemo`).
 * @typedef {object} MemoHooks
 * @property {() => any} customer the card shown
 * @property {(card: any) => void} show shows a card again
 * @property {(e?: unknown) => void} authLost
 */
/** @type {MemoHooks} */
let page = { customer: () => null, show: () => {}, authLost: () => {} };

/** A save is under way (a refresh must not overwrite the optimistic text). */
export const memoSaving = () => edit.saving;

export function showMemoText(text) {
  ui.memo.textContent = text || 'メモはありません';
  ui.memo.classList.toggle('empty-memo', !text);
}

const setStatus = (text, kind) => setStatusLine(ui.status, text, kind);

/** Closes the editor and forgets its draft (another customer is shown). */
export function resetMemoEditor() {
  edit = { open: false, baseVersion: null, saving: false };
  ui.form.hidden = true;
  ui.memo.hidden = false;
  ui.edit.hidden = !editable;
  ui.conflict.hidden = true;
  ui.save.disabled = false;
  setStatus('', null);
}

/** Opens the editor with `text`; `baseVersion` is the version the edit starts from. */
function openEditor(text, baseVersion) {
  const card = page.customer();
  if (!card || !editable) return;
  edit.open = true;
  edit.baseVersion = baseVersion ?? card.version;
  ui.input.value = text ?? card.memo ?? '';
  ui.form.hidden = false;
  ui.memo.hidden = true;
  ui.edit.hidden = true;
  ui.input.focus();
}

function closeEditor() {
  edit.open = false;
  ui.form.hidden = true;
  ui.memo.hidden = false;
  ui.edit.hidden = !editable;
}

/** Back to where the edit started: the 編集 button (what was edited). */
function focusEditButton() {
  if (!ui.edit.hidden) ui.edit.focus();
}

function cancel() {
  closeEditor();
  ui.conflict.hidden = true;
  edit.baseVersion = null;
  focusEditButton();
}

async function save(ev) {
  ev.preventDefault();
  const card = page.customer();
  if (!card || edit.saving) return;
  const draft = ui.input.value;
  const version = edit.baseVersion ?? card.version;
  const previous = card.memo;
  // Optimistic: the new text is shown at once; a failure puts the old one back.
  edit.saving = true;
  ui.save.disabled = true;
  closeEditor();
  ui.conflict.hidden = true;
  showMemoText(draft);
  setStatus(TEXT.saving, 'pending');
  try {
    const res = await api(`/api/customers/${encodeURIComponent(card.id)}`, {
      method: 'PATCH',
      body: { version, memo: draft },
    });
    edit.saving = false;
    edit.baseVersion = null;
    if (page.customer()?.id === card.id) page.show(res.customer);
    setStatus(TEXT.saved, 'ok');
    if (!edit.open) focusEditButton();
  } catch (e) {
    edit.saving = false;
    if (page.customer()?.id !== card.id) return;
    const current = e.details?.current;
    if (e.status === 409 && current && typeof current === 'object') {
      // Someone else saved first: show their text, keep this draft, and base the next save on
      // the version that is there now.
      page.show(current);
      ui.current.textContent = current.memo || '（空）';
      ui.conflict.hidden = false;
      openEditor(draft, current.version);
      setStatus('', null);
    } else {
      showMemoText(previous);
      if (e.status === 401) {
        page.authLost();
        return;
      }
      openEditor(draft, version);
      setStatus(e.status === 403 ? TEXT.memoForbidden : TEXT.saveFailed(e.message), 'error');
    }
  } finally {
    ui.save.disabled = false;
  }
}

/**
 * Wires the memo. `customer()` is the card on screen; `show(card)` renders a newer card of the
 * same customer; `authLost()` runs when the session is gone.
 */
export function initMemo(hooks) {
  page = hooks;
  ui.edit.addEventListener('click', () => {
    if (edit.saving) return;
    setStatus('', null);
    openEditor();
  });
  ui.memo.addEventListener('click', () => {
    // Click-to-edit, but not when the click ended a text selection (copying the memo).
    if (!editable || window.getSelection()?.toString()) return;
    if (!edit.open && !edit.saving) {
      setStatus('', null);
      openEditor();
    }
  });
  ui.cancel.addEventListener('click', cancel);
  ui.form.addEventListener('submit', save);
  // Esc cancels the edit, Ctrl+Enter (⌘+Enter) saves it.
  ui.form.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape') {
      ev.preventDefault();
      cancel();
    } else if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) {
      ev.preventDefault();
      ui.form.requestSubmit();
    }
  });
}
