// @ts-check
// 顧客: search, paged list, the edit panel (versioned PATCH; a 409 shows what is there now and
// keeps the user's input), notes, and (admin) CSV import / export (customers/import.js) and
// 重複を統合 (customers/merge.js). A number another customer has is warned about before saving.
import './lib/header.js';
import { nameAndMemo } from './lib/name-fields.js'; // before the forms are looked up
import './lib/form-parts.js';
import { $, el, setChildren, setStatusLine, onRowActivate } from './lib/dom.js';
import { api } from './lib/api.js';
import { clearFormErrors, showFormError } from './lib/forms.js';
import { fmtPhone, fmtDate, fmtDateTime, fmtDuration, fmtYen, fmtCount } from './lib/format.js';
import { phaseLabel, stateBadge } from './lib/calls.js';
import { customerBadges } from './lib/customer.js';
import { renderNotes as renderNoteList, mountNoteForm } from './lib/notes.js';
import { loadStores } from './lib/stores.js';
import { startPage, handleAuthError } from './lib/page.js';
import { pagedTable, pageParam } from './lib/pager.js';
import { recordTable } from './lib/record-table.js';
import { TEXT } from './lib/messages.js';
import {
  FIELD_LABELS,
  cardValues,
  diff,
  fillForm as fill,
  readForm,
  displayValue,
  addedPhones,
} from './customers/fields.js';
import { renderCustomFields, customChanges, markCustomSaved } from './customers/fields.js';
import { initImport } from './customers/import.js';
import { initMerge } from './customers/merge.js';
import { sharedNumberGuard } from './lib/shared-numbers.js';
import { renderDialLinks } from './lib/front-desk.js';
import { recentCallsCard } from './lib/recent-calls.js';

const PER_PAGE = 20;

const list = recordTable($('[data-record-table]'), {
  paged: true,
  id: 'customer',
  columns: ['氏名', '電話番号', '登録店舗', '区分', { text: '来店', class: 'num' }, '最終来店'],
  emptyText: '該当する顧客はいません',
});
const historyCard = $('#history-card');
const recentCalls = recentCallsCard(historyCard, {
  listClass: 'mini-history',
  emptyClass: 'muted small',
  emptyText: '着信はありません',
});
const ui = {
  historyCard,
  history: recentCalls.list,
  historyEmpty: recentCalls.empty,
  view: $('#page-view'),
  searchForm: $('#search-form'),
  searchQ: $('#search-q'),
  body: list.body,
  total: $('#list-total'),
  empty: list.empty,
  listError: $('#list-error'),
  pager: list.pager,
  placeholder: $('#editor-placeholder'),
  editor: $('#editor'),
  editorTitle: $('#editor-title'),
  editorBadges: $('#editor-badges'),
  editorReadonly: $('#editor-readonly'),
  editorUsage: $('#editor-usage'),
  conflict: $('#edit-conflict'),
  conflictValues: $('#edit-conflict-values'),
  reload: $('#edit-reload'),
  form: $('#edit-form'),
  store: $('#edit-store'),
  save: $('#edit-save'),
  close: $('#edit-close'),
  editError: $('#edit-error'),
  editStatus: $('#edit-status'),
  notesCard: $('#notes-card'),
  notes: $('#notes'),
  notesEmpty: $('#notes-empty'),
  deleteOpen: $('#edit-delete'),
  deleteDialog: $('#delete-dialog'),
  deleteText: $('#delete-text'),
  deleteError: $('#delete-error'),
  deleteConfirm: $('#delete-confirm'),
  deleteCancel: $('#delete-cancel'),
  createOpen: $('#create-open'),
  createDialog: $('#create-dialog'),
  createForm: $('#create-form'),
  createStore: $('#create-store'),
  createError: $('#create-error'),
  createSubmit: $('#create-submit'),
  createCancel: $('#create-cancel'),
};

const state = {
  user: null,
  stores: [],
  q: '',
  page: 1,
  listSeq: 0,
  /** id -> card of the rows on screen */
  rows: new Map(),
  /** the record in the editor: `base` is the card the form was filled from (its version is sent) */
  edit: null,
};
const table = pagedTable(ui, (page) => {
  state.page = page;
  loadList();
});

const isAdmin = () => state.user?.role === 'admin';

// Before saving a number another customer has: a warning naming them, then 「それでも保存する」.
const editShared = sharedNumberGuard($('#edit-shared'), {
  form: ui.form,
  except: () => state.edit?.id ?? null,
  focusField: 'phones',
});
const createShared = sharedNumberGuard($('#create-shared'), {
  form: ui.createForm,
  confirmLabel: 'それでも登録する',
  focusField: 'phone',
});

// ---------------------------------------------------------------------------------------------
// List

/** The page's own address: the page number, never the search (it may be a phone number). */
function syncUrl() {
  const q = new URLSearchParams();
  if (state.page > 1) q.set('page', String(state.page));
  const search = q.toString();
  history.replaceState(null, '', search ? `?${search}` : location.pathname);
}

function renderRow(card) {
  const selected = state.edit?.id === card.id;
  return el(
    'tr',
    { class: ['row-link', selected && 'selected'], dataset: { id: card.id } },
    el(
      'td',
      {},
      el(
        'a',
        {
          class: ['cell-name', 'row-open'],
          attrs: { href: `?id=${encodeURIComponent(card.id)}`, title: 'クリックで編集' },
        },
        el('span', { class: 'cust-name', text: card.name }),
        card.kana ? el('span', { class: 'kana', text: card.kana }) : null,
      ),
    ),
    el('td', { class: 'nowrap mono', text: (card.phones ?? []).map(fmtPhone).join(' / ') || '—' }),
    el('td', { class: 'nowrap', text: card.homeStore?.name ?? '—' }),
    el('td', { class: 'cell-badges' }, customerBadges(card)),
    el('td', { class: 'num', text: fmtCount(card.usage?.visits, '回') }),
    el('td', {
      class: 'nowrap',
      text: card.usage?.lastVisit ? fmtDate(card.usage.lastVisit) : '—',
    }),
  );
}

async function loadList() {
  const seq = ++state.listSeq;
  ui.listError.hidden = true;
  ui.body.setAttribute('aria-busy', 'true');
  syncUrl();
  const q = new URLSearchParams({ page: String(state.page), perPage: String(PER_PAGE) });
  if (state.q) q.set('q', state.q);
  let data;
  try {
    data = await api('/api/customers/search', {
      method: 'POST',
      body: { q: state.q, page: state.page, perPage: PER_PAGE },
    });
  } catch (e) {
    if (seq !== state.listSeq || handleAuthError(e)) return;
    ui.body.setAttribute('aria-busy', 'false');
    ui.listError.textContent = TEXT.loadFailed('顧客一覧', e.message);
    ui.listError.hidden = false;
    return;
  }
  if (seq !== state.listSeq) return;
  const list = Array.isArray(data.customers) ? data.customers : [];
  if (table.overflowed(list, { total: data.total, page: state.page, perPage: PER_PAGE })) return;
  state.rows = new Map(list.map((c) => [c.id, c]));
  table.show(list.map(renderRow), data, q.toString());
  ui.total.textContent = state.q ? `「${state.q}」の検索結果 ${data.total}件` : `全${data.total}件`;
}

ui.searchForm.addEventListener('submit', (ev) => {
  ev.preventDefault();
  state.q = ui.searchQ.value.trim();
  state.page = 1;
  loadList();
});

onRowActivate(ui.body, 'tr.row-link', (row) => openEditor(Number(row.dataset.id)));

function replaceRow(card) {
  if (!state.rows.has(card.id)) return;
  state.rows.set(card.id, card);
  const old = ui.body.querySelector(`tr[data-id="${CSS.escape(String(card.id))}"]`);
  if (old) old.replaceWith(renderRow(card));
}

function markSelected() {
  for (const tr of ui.body.querySelectorAll('tr.row-link')) {
    tr.classList.toggle('selected', Number(tr.dataset.id) === state.edit?.id);
  }
}

// ---------------------------------------------------------------------------------------------
// Editor

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
    ui.history,
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
  ui.historyEmpty.hidden = list.length > 0;
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
  renderDialLinks($('#editor-dial'), card.phones, card.homeStore?.id ?? null, card.id);
  fillForm(cardValues(card));
  setEditable(state.edit.canEdit);
  renderCustomFields($('#edit-custom-fields'), data.customFields, state.edit.canEdit);
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
  const custom = customChanges($('#edit-custom-fields'));
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
    markCustomSaved($('#edit-custom-fields'));
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

// ---------------------------------------------------------------------------------------------
// 新規登録 and 削除 (admin), each in a dialog

ui.createOpen.addEventListener('click', () => {
  ui.createForm.reset();
  createShared.reset();
  clearFormErrors(ui.createForm, ui.createError);
  setChildren(ui.createStore, [
    el('option', { text: '未設定', attrs: { value: '' } }),
    ...state.stores.map((s) => el('option', { text: s.name, attrs: { value: String(s.id) } })),
  ]);
  ui.createDialog.showModal();
  ui.createForm.elements.name.focus();
});
ui.createCancel.addEventListener('click', () => ui.createDialog.close());

ui.createForm.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  clearFormErrors(ui.createForm, ui.createError);
  const f = ui.createForm.elements;
  /** @type {{ name: string, kana: string, memo: string, phone: string, homeStoreId?: number }} */
  const body = { ...nameAndMemo(ui.createForm), phone: f.phone.value.trim() };
  if (isAdmin() && f.homeStoreId.value) body.homeStoreId = Number(f.homeStoreId.value);
  if (!body.name) return showFormError(ui.createForm, ui.createError, 'name', TEXT.nameRequired);
  if (!body.phone) return showFormError(ui.createForm, ui.createError, 'phone', TEXT.phoneRequired);
  ui.createSubmit.disabled = true;
  try {
    if (!(await createShared.check([body.phone]))) return;
    const res = await api('/api/customers', { method: 'POST', body });
    ui.createDialog.close();
    await loadList();
    openEditor(res.customer.id);
  } catch (e) {
    if (handleAuthError(e)) return;
    showFormError(ui.createForm, ui.createError, e.field, e.message);
  } finally {
    ui.createSubmit.disabled = false;
  }
});

ui.deleteOpen.addEventListener('click', () => {
  if (!state.edit) return;
  ui.deleteText.textContent = `「${state.edit.base.name}」を削除しますか？`;
  ui.deleteError.hidden = true;
  ui.deleteDialog.showModal();
  ui.deleteCancel.focus();
});
ui.deleteCancel.addEventListener('click', () => ui.deleteDialog.close());

ui.deleteConfirm.addEventListener('click', async () => {
  const edit = state.edit;
  if (!edit) return;
  ui.deleteConfirm.disabled = true;
  try {
    await api(`/api/customers/${encodeURIComponent(edit.id)}`, { method: 'DELETE' });
    ui.deleteDialog.close();
    closeEditor();
    await loadList();
    ui.total.textContent = `「${edit.base.name}」を削除しました ・ ${ui.total.textContent}`;
  } catch (e) {
    if (handleAuthError(e)) return;
    ui.deleteError.textContent = e.status === 403 ? TEXT.editForbidden : e.message;
    ui.deleteError.hidden = false;
  } finally {
    ui.deleteConfirm.disabled = false;
  }
});

// ---------------------------------------------------------------------------------------------
// Notes and CSV import

const { error: noteError } = mountNoteForm($('#note-form-slot'), {
  customerId: () => state.edit?.id ?? null,
  onAdded(note, id) {
    if (state.edit?.id !== id) return;
    state.edit.notes = [note, ...state.edit.notes];
    renderNotes();
  },
  onAuthLost: handleAuthError,
});

initImport({ imported: () => loadList(), authLost: handleAuthError });

initMerge({
  kept: () => state.edit?.base ?? null,
  async merged(card, fromName) {
    await loadList();
    await openEditor(card.id);
    setStatus(`「${fromName}」を統合しました`, 'ok');
  },
  authLost: handleAuthError,
});

// ---------------------------------------------------------------------------------------------

async function main() {
  state.user = await startPage();
  try {
    state.stores = await loadStores();
  } catch (e) {
    if (handleAuthError(e)) return;
    state.stores = [];
  }
  const params = new URLSearchParams(location.search);
  state.q = (params.get('q') ?? '').trim();
  state.page = pageParam(params);
  ui.searchQ.value = state.q;
  ui.view.hidden = false;
  await loadList();
  const open = Number.parseInt(params.get('id') ?? '', 10);
  if (open > 0) openEditor(open);
}

main();
