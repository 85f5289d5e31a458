// @ts-check
// Customer notes: the list items and the add-a-note form, one for the popup and the 顧客 page.
import { el, setChildren } from './dom.js';
import { api } from './api.js';
import { fmtDateTime } from './format.js';
import { TEXT } from './messages.js';
import { LIMITS } from './limits.js';

/** Note types, in the order forms offer them, with the CSS modifier of each. */
export const NOTE_TYPES = Object.freeze(['一般', '好み', '苦情', '注意', '重要']);
const NOTE_KEYS = Object.freeze({
  一般: 'general',
  好み: 'pref',
  苦情: 'complaint',
  注意: 'caution',
  重要: 'important',
});

export function noteKey(type) {
  return NOTE_KEYS[type] ?? 'general';
}

/** One note as a list item: type badge, text, author and time. Text only, never markup. */
export function noteItem(note) {
  const key = noteKey(note.noteType);
  return el(
    'li',
    {
      class: ['note', `note-${key}`],
      dataset: { type: note.noteType ?? '', noteId: note.id ?? '' },
    },
    el('span', { class: ['note-type', `note-type-${key}`], text: note.noteType ?? '一般' }),
    el('span', { class: 'note-body', text: note.body ?? '' }),
    el('span', {
      class: 'note-meta',
      text: [note.authorName, note.createdAt ? fmtDateTime(note.createdAt) : null]
        .filter(Boolean)
        .join(' · '),
    }),
  );
}

/** Fills a note list (`#notes`) and shows its empty line (`#notes-empty`) when there are none. */
export function renderNotes(list, empty, notes) {
  setChildren(list, notes.map(noteItem));
  empty.hidden = notes.length > 0;
}

/**
 * Builds the add-a-note form into `slot` (type select, text, 追加, error line) and wires it:
 * the note goes to the customer `customerId()` names; `onAdded(note, id)` gets the created
 * note; a 401 goes to `onAuthLost(error)`.
 */
export function mountNoteForm(slot, { customerId, onAdded, onAuthLost }) {
  const type = el('select', { attrs: { id: 'note-type', name: 'type' } });
  setChildren(
    type,
    NOTE_TYPES.map((t) => el('option', { text: t, attrs: { value: t, selected: t === '一般' } })),
  );
  const body = el('input', {
    attrs: {
      type: 'text',
      id: 'note-body',
      name: 'body',
      maxlength: LIMITS['note.body'],
      placeholder: 'ノートを追加',
      autocomplete: 'off',
    },
  });
  const submit = el('button', {
    class: 'btn btn-primary btn-small',
    text: '追加',
    attrs: { type: 'submit', id: 'note-submit' },
  });
  const error = el('p', {
    class: 'form-error',
    attrs: { id: 'note-error', role: 'alert' },
    hidden: true,
  });
  const form = el(
    'form',
    { class: 'note-form', attrs: { id: 'note-form', novalidate: true } },
    el('label', { class: 'sr-only', text: '種類', attrs: { for: 'note-type' } }),
    type,
    el('label', { class: 'sr-only', text: 'ノート', attrs: { for: 'note-body' } }),
    body,
    submit,
  );
  slot.replaceWith(form, error);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const id = customerId();
    if (id === null || id === undefined) return;
    try {
      const note = await submitNote(id, { type, body, error, submit });
      if (note) onAdded(note, id);
    } catch (e) {
      onAuthLost(e);
    }
  });
  return { error };
}

/**
 * Posts the form's note for customer `id`. Resolves with the created note, or null when the
 * input was empty or the server refused (the reason is shown in `form.error`). A 401 is
 * rethrown so the page can send the user to the login.
 */
async function submitNote(id, form) {
  form.error.hidden = true;
  const body = form.body.value.trim();
  if (!body) {
    form.error.textContent = TEXT.noteRequired;
    form.error.hidden = false;
    form.body.focus();
    return null;
  }
  form.submit.disabled = true;
  try {
    const res = await api(`/api/customers/${encodeURIComponent(id)}/notes`, {
      method: 'POST',
      body: { type: form.type.value, body },
    });
    form.body.value = '';
    return res.note;
  } catch (e) {
    if (e.status === 401) throw e;
    form.error.textContent = e.status === 403 ? TEXT.noteForbidden : e.message;
    form.error.hidden = false;
    return null;
  } finally {
    form.submit.disabled = false;
  }
}
