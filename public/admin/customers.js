// @ts-check
// 顧客: search, paged list, 新規登録 and 削除, and the page's parts: the edit panel with its
// notes and recent calls (customers/editor.js: versioned PATCH; a 409 shows what is there now
// and keeps the user's input), and (admin) CSV import / export (customers/import.js) and
// 重複を統合 (customers/merge.js). A number another customer has is warned about before saving.
import './lib/header.js';
import { nameAndMemo } from './lib/name-fields.js'; // before the forms are looked up
import './lib/form-parts.js';
import { $, el, setChildren, onRowActivate } from './lib/dom.js';
import { api } from './lib/api.js';
import { clearFormErrors, showFormError } from './lib/forms.js';
import { fmtPhone, fmtDate, fmtCount } from './lib/format.js';
import { customerBadges } from './lib/customer.js';
import { loadStores } from './lib/stores.js';
import { startPage, handleAuthError } from './lib/page.js';
import { pagedTable, pageParam } from './lib/pager.js';
import { recordTable } from './lib/record-table.js';
import { TEXT } from './lib/messages.js';
import { initEditor } from './customers/editor.js';
import { initImport } from './customers/import.js';
import { initMerge } from './customers/merge.js';
import { sharedNumberGuard } from './lib/shared-numbers.js';

const PER_PAGE = 20;

const list = recordTable($('[data-record-table]'), {
  paged: true,
  id: 'customer',
  columns: ['氏名', '電話番号', '登録店舗', '区分', { text: '来店', class: 'num' }, '最終来店'],
  emptyText: '該当する顧客はいません',
});
const ui = {
  view: $('#page-view'),
  searchForm: $('#search-form'),
  searchQ: $('#search-q'),
  body: list.body,
  total: $('#list-total'),
  empty: list.empty,
  listError: $('#list-error'),
  pager: list.pager,
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
  /** the record in the editor (customers/editor.js sets it): `base` is the card the form was
   * filled from (its version is sent) */
  edit: null,
};
const table = pagedTable(ui, (page) => {
  state.page = page;
  loadList();
});

const isAdmin = () => state.user?.role === 'admin';

// The edit panel with its notes and recent calls (customers/editor.js); the list shows its row.
const { openEditor, closeEditor, setStatus } = initEditor({
  ui: {
    listError: ui.listError,
    placeholder: $('#editor-placeholder'),
    editor: $('#editor'),
    editorTitle: $('#editor-title'),
    editorBadges: $('#editor-badges'),
    editorReadonly: $('#editor-readonly'),
    editorUsage: $('#editor-usage'),
    dial: $('#editor-dial'),
    conflict: $('#edit-conflict'),
    conflictValues: $('#edit-conflict-values'),
    reload: $('#edit-reload'),
    form: $('#edit-form'),
    store: $('#edit-store'),
    customFields: $('#edit-custom-fields'),
    shared: $('#edit-shared'),
    save: $('#edit-save'),
    close: $('#edit-close'),
    editError: $('#edit-error'),
    editStatus: $('#edit-status'),
    notesCard: $('#notes-card'),
    noteFormSlot: $('#note-form-slot'),
    notes: $('#notes'),
    notesEmpty: $('#notes-empty'),
    historyCard: $('#history-card'),
  },
  state,
  isAdmin,
  replaceRow,
  markSelected,
});

// The same warning before registering a number another customer has, then 「それでも登録する」.
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
// CSV import and 重複を統合

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
