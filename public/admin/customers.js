// 顧客: search, paged list, the edit panel (versioned PATCH; a 409 shows what is there now and
// keeps the user's input), notes, and (admin) CSV import / export.
import {
  $,
  el,
  setChildren,
  clearFormErrors,
  showFormError,
  apiRequest,
  badgeClass,
  fmtPhone,
  fmtDate,
  fmtDateTime,
  fmtDuration,
  fmtYen,
  fmtCount,
  phaseLabel,
  noteItem,
  noteTypeOptions,
  submitNote,
} from './common.js';
import { startPage, loadStores, renderPager, handleAuthError } from './nav.js';

const PER_PAGE = 20;

const FIELD_LABELS = Object.freeze({
  name: '氏名',
  kana: 'フリガナ',
  phones: '電話番号',
  homeStoreId: '登録店舗',
  customerType: '区分',
  flag: 'フラグ',
  visits: '来店回数',
  totalSpend: '累計利用額',
  lastVisit: '最終来店日',
  memo: 'メモ',
});

/** Field names of the import's row errors. */
const CSV_FIELDS = Object.freeze({
  id: 'ID',
  name: '氏名',
  kana: 'フリガナ',
  phone: '電話番号',
  phones: '電話番号',
  homeStore: '店舗',
  type: '区分',
  flag: 'フラグ',
  visits: '来店回数',
  spend: '累計利用額',
  lastVisit: '最終来店日',
  memo: 'メモ',
  header: 'ヘッダー',
  file: 'ファイル',
});

const ui = {
  view: $('#page-view'),
  searchForm: $('#search-form'),
  searchQ: $('#search-q'),
  body: $('#customer-body'),
  total: $('#list-total'),
  empty: $('#list-empty'),
  listError: $('#list-error'),
  pager: $('#pager'),
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
  noteForm: $('#note-form'),
  noteType: $('#note-type'),
  noteBody: $('#note-body'),
  noteSubmit: $('#note-submit'),
  noteError: $('#note-error'),
  historyCard: $('#history-card'),
  history: $('#history'),
  historyEmpty: $('#history-empty'),
  importForm: $('#import-form'),
  importFile: $('#import-file'),
  importSubmit: $('#import-submit'),
  importResult: $('#import-result'),
  importErrors: $('#import-errors'),
  importErrorsTitle: $('#import-errors-title'),
  importErrorsBody: $('#import-errors-body'),
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

const isAdmin = () => state.user?.role === 'admin';

// ---------------------------------------------------------------------------------------------
// List

function syncUrl() {
  const q = new URLSearchParams();
  if (state.q) q.set('q', state.q);
  if (state.page > 1) q.set('page', String(state.page));
  const search = q.toString();
  history.replaceState(null, '', search ? `?${search}` : location.pathname);
}

function badgeNodes(card) {
  return [
    card.customerType ? el('span', { class: badgeClass(card.customerType), text: card.customerType }) : null,
    card.flag ? el('span', { class: badgeClass(card.flag), text: card.flag }) : null,
  ];
}

function renderRow(card) {
  const selected = state.edit?.id === card.id;
  return el(
    'tr',
    {
      class: ['row-link', selected && 'selected'],
      attrs: { tabindex: 0, title: 'クリックで編集' },
      dataset: { id: card.id },
    },
    el(
      'td',
      {},
      el(
        'span',
        { class: 'cell-name' },
        el('span', { class: 'cust-name', text: card.name }),
        card.kana ? el('span', { class: 'kana', text: card.kana }) : null,
      ),
    ),
    el('td', { class: 'nowrap mono', text: (card.phones ?? []).map(fmtPhone).join(' / ') || '—' }),
    el('td', { class: 'nowrap', text: card.homeStore?.name ?? '—' }),
    el('td', { class: 'cell-badges' }, badgeNodes(card)),
    el('td', { class: 'num', text: fmtCount(card.usage?.visits, '回') }),
    el('td', { class: 'nowrap', text: card.usage?.lastVisit ? fmtDate(card.usage.lastVisit) : '—' }),
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
    data = await apiRequest(`/api/customers?${q}`);
  } catch (e) {
    if (seq !== state.listSeq || handleAuthError(e)) return;
    ui.body.setAttribute('aria-busy', 'false');
    ui.listError.textContent = `顧客一覧を読み込めませんでした: ${e.message}`;
    ui.listError.hidden = false;
    return;
  }
  if (seq !== state.listSeq) return;
  const list = Array.isArray(data.customers) ? data.customers : [];
  // Past the last page (after a search or an import): go to the last one.
  if (list.length === 0 && data.total > 0 && state.page > 1) {
    state.page = Math.max(1, Math.ceil(data.total / PER_PAGE));
    loadList();
    return;
  }
  state.rows = new Map(list.map((c) => [c.id, c]));
  setChildren(ui.body, list.map(renderRow));
  ui.body.setAttribute('aria-busy', 'false');
  ui.body.dataset.loaded = q.toString();
  ui.empty.hidden = list.length > 0;
  ui.total.textContent = state.q ? `「${state.q}」の検索結果 ${data.total}件` : `全${data.total}件`;
  renderPager(ui.pager, { total: data.total, page: data.page, perPage: data.perPage }, (p) => {
    state.page = p;
    loadList();
  });
}

ui.searchForm.addEventListener('submit', (ev) => {
  ev.preventDefault();
  state.q = ui.searchQ.value.trim();
  state.page = 1;
  loadList();
});

function activate(row) {
  if (row?.dataset.id) openEditor(Number(row.dataset.id));
}
ui.body.addEventListener('click', (ev) => activate(ev.target.closest('tr.row-link')));
ui.body.addEventListener('keydown', (ev) => {
  if (ev.key === 'Enter' || ev.key === ' ') {
    ev.preventDefault();
    activate(ev.target.closest('tr.row-link'));
  }
});

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

const normPhone = (p) => String(p).replace(/[^\d+]/g, '');

/** A card as the form's values. */
function cardValues(card) {
  const lv = card.usage?.lastVisit ?? null;
  return {
    name: card.name ?? '',
    kana: card.kana ?? '',
    phones: [...(card.phones ?? [])],
    homeStoreId: card.homeStore?.id ?? null,
    customerType: card.customerType ?? '新規',
    flag: card.flag ?? null,
    visits: card.usage?.visits ?? 0,
    totalSpend: card.usage?.totalSpend ?? 0,
    lastVisit: lv && /^\d{4}-\d\d-\d\d/.test(lv) ? lv.slice(0, 10) : lv,
    memo: card.memo ?? '',
  };
}

function sameValue(field, a, b) {
  if (field === 'phones') {
    const x = (a ?? []).map(normPhone);
    const y = (b ?? []).map(normPhone);
    return x.length === y.length && x.every((v, i) => v === y[i]);
  }
  if (field === 'name' || field === 'kana') return String(a ?? '').trim() === String(b ?? '').trim();
  return (a ?? null) === (b ?? null);
}

function diff(values, base) {
  const out = {};
  for (const k of Object.keys(FIELD_LABELS)) {
    if (!(k in values)) continue;
    if (!sameValue(k, values[k], base[k])) out[k] = values[k];
  }
  return out;
}

function storeOptions(selectedId) {
  const opts = [el('option', { text: '未設定', attrs: { value: '', selected: selectedId === null } })];
  for (const s of state.stores) {
    opts.push(el('option', { text: s.name, attrs: { value: String(s.id), selected: s.id === selectedId } }));
  }
  // A store that is not in the list (deleted meanwhile) still shows.
  if (selectedId !== null && !state.stores.some((s) => s.id === selectedId)) {
    opts.push(el('option', { text: `店舗 ${selectedId}`, attrs: { value: String(selectedId), selected: true } }));
  }
  return opts;
}

function fillForm(v) {
  const f = ui.form.elements;
  f.name.value = v.name;
  f.kana.value = v.kana;
  f.phones.value = v.phones.join('\n');
  setChildren(ui.store, storeOptions(v.homeStoreId));
  f.customerType.value = v.customerType;
  f.flag.value = v.flag ?? '';
  f.visits.value = String(v.visits ?? 0);
  f.totalSpend.value = String(v.totalSpend ?? 0);
  f.lastVisit.value = v.lastVisit ?? '';
  f.memo.value = v.memo;
}

/** Reads the form; returns { values } or { error: [field, message] }. */
function readForm() {
  const f = ui.form.elements;
  const int = (field, raw) => {
    const t = String(raw).trim();
    if (!/^\d+$/.test(t)) return { error: [field, '0以上の整数を入力してください'] };
    return { n: Number(t) };
  };
  const visits = int('visits', f.visits.value);
  if (visits.error) return visits;
  const spend = int('totalSpend', f.totalSpend.value);
  if (spend.error) return spend;
  const name = f.name.value.trim();
  if (!name) return { error: ['name', '氏名を入力してください'] };
  const phones = f.phones.value
    .split(/\r?\n/)
    .map((s) => s.trim())
    .filter(Boolean);
  if (phones.length === 0) return { error: ['phones', '電話番号を1件以上入力してください'] };
  const storeRaw = f.homeStoreId.value;
  return {
    values: {
      name,
      kana: f.kana.value.trim(),
      phones,
      homeStoreId: storeRaw === '' ? null : Number(storeRaw),
      customerType: f.customerType.value,
      flag: f.flag.value || null,
      visits: visits.n,
      totalSpend: spend.n,
      lastVisit: f.lastVisit.value || null,
      memo: f.memo.value,
    },
  };
}

function clearFieldErrors() {
  clearFormErrors(ui.form, ui.editError);
}

function fieldError(field, message) {
  showFormError(ui.form, ui.editError, field, message);
}

function setStatus(text, kind) {
  ui.editStatus.textContent = text ?? '';
  ui.editStatus.dataset.kind = kind ?? '';
}

function renderEditorHead(card) {
  ui.editorTitle.textContent = card.name;
  setChildren(ui.editorBadges, badgeNodes(card));
  const u = card.usage ?? {};
  ui.editorUsage.textContent = [
    `着信 ${fmtCount(u.calls, '回')}`,
    `最終着信 ${u.lastCall ? fmtDateTime(u.lastCall) : '—'}`,
    `30日以内の不在着信 ${fmtCount(u.missed30d, '件')}`,
    `累計 ${fmtYen(u.totalSpend)}`,
  ].join(' ・ ');
}

function setEditable(canEdit) {
  for (const node of ui.form.querySelectorAll('input, select, textarea, #edit-save')) node.disabled = !canEdit;
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
        el('span', {}, h.storeName ?? '不明', h.isTest ? el('span', { class: 'badge badge-test', text: 'テスト' }) : null),
        el(
          'span',
          {},
          el('span', { class: `state state-${h.phase}`, text: phaseLabel(h.phase, h.direction) }),
          h.durationMs ? el('span', { class: 'duration', text: ` ${fmtDuration(h.durationMs)}` }) : null,
        ),
      ),
    ),
  );
  ui.historyEmpty.hidden = list.length > 0;
}

function renderNotes() {
  const notes = state.edit?.notes ?? [];
  setChildren(ui.notes, notes.map(noteItem));
  ui.notesEmpty.hidden = notes.length > 0;
}

async function openEditor(id) {
  const seq = (state.editSeq = (state.editSeq ?? 0) + 1);
  setStatus('読み込み中…', 'pending');
  let data;
  try {
    data = await apiRequest(`/api/customers/${encodeURIComponent(id)}`);
  } catch (e) {
    if (seq !== state.editSeq || handleAuthError(e)) return;
    setStatus('', null);
    ui.listError.textContent = e.status === 403 ? 'この顧客は表示できません' : `顧客を読み込めませんでした: ${e.message}`;
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
  ui.conflict.hidden = true;
  setStatus('', null);
  renderEditorHead(card);
  fillForm(cardValues(card));
  setEditable(state.edit.canEdit);
  renderNotes();
  renderHistory(Array.isArray(data.history) ? data.history : []);
  ui.placeholder.hidden = true;
  ui.editor.hidden = false;
  ui.notesCard.hidden = false;
  ui.historyCard.hidden = false;
  ui.noteError.hidden = true;
  markSelected();
  replaceRow(card);
  // On a narrow screen the panel is below the list.
  if (ui.editor.getBoundingClientRect().top > window.innerHeight) ui.editor.scrollIntoView({ block: 'start', behavior: 'smooth' });
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

function displayValue(field, v) {
  switch (field) {
    case 'phones':
      return (v ?? []).map(fmtPhone).join(' / ') || '—';
    case 'homeStoreId':
      return v === null ? '未設定' : state.stores.find((s) => s.id === v)?.name ?? `店舗 ${v}`;
    case 'flag':
      return v ?? 'なし';
    case 'lastVisit':
      return v ? fmtDate(v) : '—';
    case 'totalSpend':
      return fmtYen(v);
    case 'visits':
      return fmtCount(v, '回');
    case 'memo':
      return v || '（空）';
    default:
      return v === '' || v === null || v === undefined ? '（空）' : String(v);
  }
}

ui.form.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const edit = state.edit;
  if (!edit || !edit.canEdit) return;
  clearFieldErrors();
  const read = readForm();
  if (read.error) {
    fieldError(...read.error);
    return;
  }
  const changes = diff(read.values, cardValues(edit.base));
  if (!isAdmin()) delete changes.homeStoreId;
  if (Object.keys(changes).length === 0) {
    setStatus('変更はありません', 'pending');
    return;
  }
  ui.save.disabled = true;
  setStatus('保存中…', 'pending');
  try {
    const res = await apiRequest(`/api/customers/${encodeURIComponent(edit.id)}`, {
      method: 'PATCH',
      body: { version: edit.base.version, ...changes },
    });
    if (state.edit !== edit) return;
    edit.base = res.customer;
    ui.conflict.hidden = true;
    renderEditorHead(res.customer);
    fillForm(cardValues(res.customer));
    replaceRow(res.customer);
    setStatus('保存しました', 'ok');
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
        Object.keys(changes).flatMap((k) => [el('dt', { text: FIELD_LABELS[k] }), el('dd', { text: displayValue(k, now[k]) })]),
      );
      ui.conflict.hidden = false;
      renderEditorHead(current);
      replaceRow(current);
      setStatus('', null);
    } else if (e.status === 400 && e.field) {
      setStatus('', null);
      fieldError(e.field, e.message);
    } else {
      setStatus(e.status === 403 ? 'この顧客を編集する権限がありません' : `保存できませんでした: ${e.message}`, 'error');
    }
  } finally {
    if (state.edit === edit) ui.save.disabled = !edit.canEdit;
  }
});

ui.reload.addEventListener('click', () => {
  if (state.edit) openEditor(state.edit.id);
});

// ---------------------------------------------------------------------------------------------
// Notes

setChildren(ui.noteType, noteTypeOptions('一般'));

ui.noteForm.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const edit = state.edit;
  if (!edit) return;
  try {
    const note = await submitNote(edit.id, { type: ui.noteType, body: ui.noteBody, error: ui.noteError, submit: ui.noteSubmit });
    if (note && state.edit === edit) {
      edit.notes = [note, ...edit.notes];
      renderNotes();
    }
  } catch (e) {
    handleAuthError(e);
  }
});

// ---------------------------------------------------------------------------------------------
// CSV import (admin)

function importStatus(text, kind) {
  ui.importResult.textContent = text ?? '';
  ui.importResult.dataset.kind = kind ?? '';
}

ui.importForm.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  ui.importErrors.hidden = true;
  const file = ui.importFile.files?.[0];
  if (!file) {
    importStatus('CSV ファイルを選んでください', 'error');
    return;
  }
  ui.importSubmit.disabled = true;
  importStatus(`「${file.name}」を取り込み中…`, 'pending');
  try {
    // The file's bytes as they are: the server detects UTF-8 or Shift_JIS.
    const res = await apiRequest('/api/customers/import?encoding=auto', {
      method: 'POST',
      raw: file,
      contentType: 'text/csv',
    });
    importStatus(`取り込みました: 新規 ${res.created}件・更新 ${res.updated}件（計 ${res.imported}行）`, 'ok');
    ui.importFile.value = '';
    loadList();
  } catch (e) {
    if (handleAuthError(e)) return;
    const rows = Array.isArray(e.details?.rows) ? e.details.rows : [];
    if (rows.length) {
      importStatus('', null);
      ui.importErrorsTitle.textContent = `${rows.length}件の誤りがあるため、取り込みませんでした（1件も登録されていません）`;
      setChildren(
        ui.importErrorsBody,
        rows.map((r) =>
          el(
            'tr',
            { dataset: { line: r.line, field: r.field } },
            el('td', { class: 'num', text: `${r.line}行目` }),
            el('td', { text: CSV_FIELDS[r.field] ?? r.field }),
            el('td', { text: r.message }),
          ),
        ),
      );
      ui.importErrors.hidden = false;
    } else {
      importStatus(`取り込めませんでした: ${e.message}`, 'error');
    }
  } finally {
    ui.importSubmit.disabled = false;
  }
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
  state.page = Math.max(1, Number.parseInt(params.get('page') ?? '1', 10) || 1);
  ui.searchQ.value = state.q;
  ui.view.hidden = false;
  await loadList();
  const open = Number.parseInt(params.get('id') ?? '', 10);
  if (open > 0) openEditor(open);
}

main();
