// @ts-check
// 顧客 › the edit panel: the open customer's head (name, badges, usage), dial links and form
// (versioned PATCH; a 409 shows what is there now and keeps the user's input; a number another
// customer has is warned about before saving), Esc / Ctrl+Enter, and beside it the customer's
// notes and recent calls. customers.js (the page) gives it its elements, the page's state and
// the list's hooks; it owns `state.edit`.
import { el, setChildren, setStatusLine } from '../lib/dom.js';
import { api } from '../lib/api.js';
import { clearFormErrors, showFormError } from '../lib/forms.js';
import { fmtDateTime, fmtDuration, fmtYen, fmtCount } from '../lib/format.js';
import { phaseLabel, stateBadge } from '../lib/calls.js';
import { customerBadges } from '../lib/customer.js';
import { renderNotes as renderNoteList, mountNoteForm } from '../lib/notes.js';
import { handleAuthError } from '../lib/page.js';
import { TEXT } from '../lib/messages.js';
import {
  FIELD_LABELS,
  cardValues,
  diff,
  fillForm as fill,
  readForm,
  displayValue,
  addedPhones,
} from './fields.js';
import { renderCustomFields, customChanges, markCustomSaved } from './fields.js';
import { sharedNumberGuard } from '../lib/shared-numbers.js';
import { renderDialLinks } from '../lib/front-desk.js';
import { recentCallsCard } from '../lib/recent-calls.js';

/**
 * The panel's elements in customers.html (the page looks them up; the panel fills them).
 * @typedef {object} EditorUi
 * @property {HTMLElement} listError the list's error line (a customer that cannot be opened)
 * @property {HTMLElement} placeholder shown while no customer is open
 * @property {HTMLElement} editor the panel
 * @property {HTMLElement} editorTitle
 * @property {HTMLElement} editorBadges
 * @property {HTMLElement} editorReadonly
 * @property {HTMLElement} editorUsage
 * @property {HTMLElement} dial the customer's dial links
 * @property {HTMLElement} conflict the 409's box, with `conflictValues` and `reload`
 * @property {HTMLElement} conflictValues
 * @property {HTMLElement} reload
 * @property {any} form the edit form
 * @property {HTMLSelectElement} store
 * @property {HTMLElement} customFields the フリー項目 fieldset
 * @property {HTMLElement} shared the box of the shared-number warning
 * @property {HTMLButtonElement} save
 * @property {HTMLElement} close
 * @property {HTMLElement} editError
 * @property {HTMLElement} editStatus
 * @property {HTMLElement} notesCard
 * @property {HTMLElement} noteFormSlot
 * @property {HTMLElement} notes
 * @property {HTMLElement} notesEmpty
 * @property {HTMLElement} historyCard the recent calls' card (built here)
 */

/**
 * What the panel reads and writes of the page's state (customers.js `state`).
 * @typedef {object} EditorState
 * @property {any[]} stores the stores (the form's 登録店舗, the conflict's store names)
 * @property {{ id: number, base: any, canEdit: boolean, notes: any[] } | null} edit the record in
 *   the editor: `base` is the card the form was filled from (its version is sent); the list,
 *   削除 and 重複を統合 read it, only the panel sets it
 * @property {number} [editSeq] counts openings: the answer of an older one is dropped
 */

/**
 * Wires the panel. `isAdmin()`: the user is an admin (may change the store);
 * `replaceRow(card)` / `markSelected()`: the list shows a saved card / the open row.
 * Returns `openEditor(id)`, `closeEditor()` and `setStatus(text, kind)` (the panel's status
 * line) for the page.
 * @param {{
 *   ui: EditorUi,
 *   state: EditorState,
 *   isAdmin: () => boolean,
 *   replaceRow: (card: any) => void,
 *   markSelected: () => void,
 * }} page
 */
export function initEditor({ ui, state, isAdmin, replaceRow, markSelected }) {
  const recentCalls = recentCallsCard(ui.historyCard, {
    listClass: 'mini-history',
    emptyClass: 'muted small',
    emptyText: '着信はありません',
  });

  // Before saving a number another customer has: a warning naming them, then 「それでも保存する」.
  const editShared = sharedNumberGuard(ui.shared, {
    form: ui.form,
    except: () => state.edit?.id ?? null,
    focusField: 'phones',
  });

  const fillForm = (values) => fill(ui.form, state.stores, values);

  function clearFieldErrors() {
    clearFormErrors(ui.form, ui.editError);
  }

  function fieldError(field, message) {
    showFormError(ui.form, ui.editError, field, message);
  }

  const setStatus = (text, kind) => setStatusLine(ui.editStatus, text, kind);

  function renderEditorHead(card) {
    ui.editorTitle.textContent = card.name;
    setChildren(ui.editorBadges, customerBadges(card));
    const u = card.usage ?? {};
    ui.editorUsage.textContent = [
      `着信 ${fmtCount(u.calls, '回')}`,
      `最終着信 ${u.lastCall ? fmtDateTime(u.lastCall) : '—'}`,
      `30日以内の不在着信 ${fmtCount(u.missed30d, '件')}`,
      `累計 ${fmtYen(u.totalSpend)}`,
    ].join(' ・ ');
  }

  function setEditable(canEdit) {
    for (const node of ui.form.querySelectorAll('input, select, textarea, #edit-save'))
      node.disabled = !canEdit;
    // Staff keep customers in their own store: the store is not theirs to change.
    if (!isAdmin()) ui.store.disabled = true;
    ui.editorReadonly.hidden = canEdit;
  }

  function renderHistory(list) {
    setChildren(
      recentCalls.list,
      list.map((h) =>
        el(
          'li',
          { dataset: { callId: h.id } },
          el('span', { class: 'muted', text: fmtDateTime(h.startedAt) }),
          el(
            'span',
            {},
            h.storeName ?? '不明',
            h.isTest ? el('span', { class: 'badge badge-test', text: 'テスト' }) : null,
          ),
          el(
            'span',
            {},
            stateBadge(h.phase, phaseLabel(h.phase, h.direction)),
            h.durationMs
              ? el('span', { class: 'duration', text: ` ${fmtDuration(h.durationMs)}` })
              : null,
          ),
        ),
      ),
    );
    recentCalls.empty.hidden = list.length > 0;
  }

  function renderNotes() {
    renderNoteList(ui.notes, ui.notesEmpty, state.edit?.notes ?? []);
  }

  async function openEditor(id) {
    state.editSeq = (state.editSeq ?? 0) + 1;
    const seq = state.editSeq;
    setStatus(TEXT.loading, 'pending');
    let data;
    try {
      data = await api(`/api/customers/${encodeURIComponent(id)}`);
    } catch (e) {
      if (seq !== state.editSeq || handleAuthError(e)) return;
      setStatus('', null);
      ui.listError.textContent =
        e.status === 403 ? TEXT.viewForbidden : TEXT.loadFailed('顧客', e.message);
      ui.listError.hidden = false;
      return;
    }
    if (seq !== state.editSeq) return;
    const card = data.customer;
    state.edit = {
      id: card.id,
      base: card,
      canEdit: Boolean(data.canEdit),
      notes: Array.isArray(data.notes) ? data.notes : [],
    };
    clearFieldErrors();
    editShared.reset();
    ui.conflict.hidden = true;
    setStatus('', null);
    renderEditorHead(card);
    renderDialLinks(ui.dial, card.phones, card.homeStore?.id ?? null, card.id);
    fillForm(cardValues(card));
    setEditable(state.edit.canEdit);
    renderCustomFields(ui.customFields, data.customFields, state.edit.canEdit);
    renderNotes();
    renderHistory(Array.isArray(data.history) ? data.history : []);
    ui.placeholder.hidden = true;
    ui.editor.hidden = false;
    ui.notesCard.hidden = false;
    ui.historyCard.hidden = false;
    noteError.hidden = true;
    markSelected();
    replaceRow(card);
    // On a narrow screen the panel is below the list.
    if (ui.editor.getBoundingClientRect().top > window.innerHeight)
      ui.editor.scrollIntoView({ block: 'start', behavior: 'smooth' });
  }

  function closeEditor() {
    state.edit = null;
    state.editSeq = (state.editSeq ?? 0) + 1;
    ui.editor.hidden = true;
    ui.notesCard.hidden = true;
    ui.historyCard.hidden = true;
    ui.placeholder.hidden = false;
    markSelected();
  }
  ui.close.addEventListener('click', closeEditor);

  ui.form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const edit = state.edit;
    if (!edit?.canEdit) return;
    clearFieldErrors();
    const read = readForm(ui.form);
    if (read.error) {
      fieldError(...read.error);
      return;
    }
    const changes = diff(read.values, cardValues(edit.base));
    if (!isAdmin()) delete changes.homeStoreId;
    const custom = customChanges(ui.customFields);
    if (custom) changes.fields = custom;
    if (Object.keys(changes).length === 0) {
      setStatus('変更はありません', 'pending');
      return;
    }
    ui.save.disabled = true;
    setStatus(TEXT.saving, 'pending');
    try {
      if (
        changes.phones &&
        !(await editShared.check(addedPhones(changes.phones, edit.base.phones)))
      ) {
        setStatus('', null);
        return;
      }
      if (state.edit !== edit) return;
      const res = await api(`/api/customers/${encodeURIComponent(edit.id)}`, {
        method: 'PATCH',
        body: { version: edit.base.version, ...changes },
      });
      if (state.edit !== edit) return;
      edit.base = res.customer;
      markCustomSaved(ui.customFields);
      editShared.reset();
      ui.conflict.hidden = true;
      renderEditorHead(res.customer);
      fillForm(cardValues(res.customer));
      replaceRow(res.customer);
      setStatus(TEXT.saved, 'ok');
      // Focus returns to what was edited (the first changed field), ready for the next change.
      ui.form.elements[Object.keys(changes)[0]]?.focus();
    } catch (e) {
      if (handleAuthError(e) || state.edit !== edit) return;
      const current = e.details?.current;
      if (e.status === 409 && current && typeof current === 'object') {
        // Someone saved first. Show their values of the fields this user changed, put the
        // current record in the form with this user's changes over it, and base the next save
        // on the current version: saving again applies exactly these changes.
        edit.base = current;
        const now = cardValues(current);
        fillForm({ ...now, ...changes });
        setChildren(
          ui.conflictValues,
          Object.keys(changes).flatMap((k) => [
            el('dt', { text: FIELD_LABELS[k] }),
            el('dd', { text: displayValue(state.stores, k, now[k]) }),
          ]),
        );
        ui.conflict.hidden = false;
        renderEditorHead(current);
        replaceRow(current);
        setStatus('', null);
      } else if (e.status === 400 && e.field) {
        setStatus('', null);
        fieldError(e.field, e.message);
      } else {
        setStatus(e.status === 403 ? TEXT.editForbidden : TEXT.saveFailed(e.message), 'error');
      }
    } finally {
      if (state.edit === edit) ui.save.disabled = !edit.canEdit;
    }
  });

  ui.reload.addEventListener('click', () => {
    if (state.edit) openEditor(state.edit.id);
  });

  // Esc cancels the edit (the form goes back to the record as loaded); Ctrl+Enter saves.
  ui.form.addEventListener('keydown', (ev) => {
    if (!state.edit) return;
    if (ev.key === 'Escape') {
      ev.preventDefault();
      const changed =
        Object.keys(diff(readForm(ui.form).values ?? {}, cardValues(state.edit.base))).length > 0;
      clearFieldErrors();
      editShared.reset();
      fillForm(cardValues(state.edit.base));
      setStatus(changed ? '変更を取り消しました' : '', changed ? 'pending' : null);
    } else if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) {
      ev.preventDefault();
      if (state.edit.canEdit) ui.form.requestSubmit();
    }
  });

  // The note form (lib/notes.js): an added note goes first in the open customer's notes.
  const { error: noteError } = mountNoteForm(ui.noteFormSlot, {
    customerId: () => state.edit?.id ?? null,
    onAdded(note, id) {
      if (state.edit?.id !== id) return;
      state.edit.notes = [note, ...state.edit.notes];
      renderNotes();
    },
    onAuthLost: handleAuthError,
  });

  return { openEditor, closeEditor, setStatus };
}
