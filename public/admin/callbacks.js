// @ts-check
// 折り返し: a queue of promises. One row per item (a number at a store, with every call that
// asked for a call back), 未対応 → 対応中 → 対応済, an owner (担当), the last attempt; a row
// opens its calls (each with its wrap-up) and attempts, with a form to log one. Checkboxes close
// several at once. The list and the nav's count follow the hub's `callbacks_changed` live.
import './lib/header.js';
import { $, el } from './lib/dom.js';
import { api } from './lib/api.js';
import { fmtDateTime, fmtPhone } from './lib/format.js';
import { startPage, handleAuthError } from './lib/page.js';
import { pagedTable } from './lib/pager.js';
import { recordTable } from './lib/record-table.js';
import { CtiSocket } from './lib/socket.js';
import { MessageType } from './lib/protocol.js';
import { loadFrontDesk, dialLink, refreshCallbackCount } from './lib/front-desk.js';
import { loadStores } from './lib/stores.js';
import { TEXT } from './lib/messages.js';
import { openDetail, reloadDetail, detailId } from './callbacks/detail.js';

const PER_PAGE = 50;
export const STATUS_LABELS = Object.freeze({
  open: '未対応',
  in_progress: '対応中',
  done: '対応済',
});

const selectAll = /** @type {HTMLInputElement} */ (
  el('input', { attrs: { type: 'checkbox', id: 'cb-select-all', 'aria-label': 'すべて選択' } })
);
const list = recordTable($('[data-record-table]'), {
  paged: true,
  id: 'cb',
  columns: [
    selectAll,
    '電話番号 / 顧客',
    '店舗',
    '着信',
    '最終着信',
    '状態',
    '担当 / 期限',
    '最後の折り返し',
    '操作',
  ],
  emptyText: '折り返しはありません',
});

const ui = {
  view: $('#page-view'),
  filters: $('#cb-filters'),
  store: $('#cb-store-filter'),
  status: $('#cb-status-filter'),
  assignee: $('#cb-assignee-filter'),
  body: list.body,
  total: $('#cb-total'),
  empty: list.empty,
  error: $('#cb-error'),
  pager: list.pager,
  selectAll,
  closeSelected: $('#cb-close-selected'),
  selectedCount: $('#cb-selected-count'),
};

const state = { page: 1, seq: 0, settings: null, user: null, selected: new Set() };
const table = pagedTable(ui, (page) => {
  state.page = page;
  load();
});

export function showError(text) {
  ui.error.textContent = text;
  ui.error.hidden = !text;
}

/** PATCH an item (status, assignee); the list, the open detail and the count follow. */
export async function patchItem(id, body) {
  showError('');
  try {
    await api(`/api/callbacks/${encodeURIComponent(id)}`, { method: 'PATCH', body });
  } catch (e) {
    if (handleAuthError(e)) return false;
    showError(TEXT.saveFailed(e.message));
    return false;
  }
  await refresh();
  return true;
}

/** The buttons that move an item: 対応中にする, 対応済にする or 未対応に戻す. */
export function statusButtons(cb) {
  const button = (status, text) =>
    el('button', {
      class: 'btn btn-small',
      text,
      attrs: { type: 'button' },
      on: { click: () => patchItem(cb.id, { status }) },
    });
  const out = [];
  if (cb.status === 'open') out.push(button('in_progress', '対応中にする'));
  if (cb.status !== 'done') out.push(button('done', '対応済にする'));
  else out.push(button('open', '未対応に戻す'));
  return out;
}

/** 担当にする (take it) or 担当を外す (when it is yours or someone's). */
export function ownerButton(cb) {
  const mine = state.user && cb.assigneeId === state.user.id;
  return el('button', {
    class: 'btn btn-small',
    text: mine ? '担当を外す' : '担当にする',
    attrs: { type: 'button' },
    on: { click: () => patchItem(cb.id, { assignee: mine ? null : 'me' }) },
  });
}

export function customerCell(cb) {
  if (cb.customerId && cb.customerName) {
    return el('a', {
      class: 'cust',
      text: cb.customerName,
      attrs: { href: `/admin/customers.html?id=${encodeURIComponent(cb.customerId)}` },
    });
  }
  // Another store's customer under 顧客の共有: チェーン共通: named, without a link (read-only).
  if (cb.customerName) return el('span', { class: 'cust cust-shared', text: cb.customerName });
  return el('span', { class: 'unregistered', text: '未登録' });
}

export function attemptText(a) {
  if (!a) return '—';
  return [
    a.result,
    a.note ? `「${a.note}」` : null,
    `${a.by ?? a.byName ?? ''} ${fmtDateTime(a.at)}`,
  ]
    .filter(Boolean)
    .join(' ');
}

function callsText(cb) {
  const parts = [];
  if (cb.missedCalls > 0) parts.push(`不在着信 ${cb.missedCalls}件`);
  if (cb.calls > cb.missedCalls) parts.push(`折り返し予定 ${cb.calls - cb.missedCalls}件`);
  return parts.join(' / ') || '—';
}

/** 期限: the due time, red with 期限切れ when it has passed; (目安) when it is the default one. */
export function dueLine(cb) {
  if (cb.status === 'done' || !cb.dueAt) return null;
  const text = `${cb.overdue ? '期限切れ ' : '期限 '}${fmtDateTime(cb.dueAt)}`;
  return el('div', { class: ['cb-due', cb.overdue ? 'cb-overdue' : null], text });
}

/** Who the items of a store may be assigned to (GET /api/callbacks/assignees), per store. */
const assigneeCache = new Map();
async function loadAssignees(storeIds) {
  await Promise.all(
    [...new Set(storeIds)]
      .filter((s) => !assigneeCache.has(s))
      .map(async (s) => {
        try {
          const q = s === null || s === undefined ? '' : `?store=${encodeURIComponent(s)}`;
          assigneeCache.set(s, (await api(`/api/callbacks/assignees${q}`)).users);
        } catch {
          assigneeCache.set(s, []);
        }
      }),
  );
}

/** A select of the store's users: choosing one assigns the item to them. */
export function assignSelect(cb) {
  if (cb.status === 'done') return null;
  const users = assigneeCache.get(cb.storeId ?? null) ?? [];
  const select = el(
    'select',
    { class: 'cb-assign', attrs: { 'aria-label': `割り当て先 ${fmtPhone(cb.phone)}` } },
    el('option', { text: '（割り当て先を選ぶ）', attrs: { value: '' } }),
    users.map((u) => el('option', { text: u.name, attrs: { value: String(u.id) } })),
  );
  select.value =
    cb.assigneeId && users.some((u) => u.id === cb.assigneeId) ? String(cb.assigneeId) : '';
  select.addEventListener('change', () => {
    if (select.value) patchItem(cb.id, { assignee: select.value });
  });
  return select;
}

function renderRow(cb) {
  const checkbox = el('input', {
    attrs: {
      type: 'checkbox',
      'aria-label': `選択 ${fmtPhone(cb.phone)}`,
      disabled: cb.status === 'done',
    },
    on: {
      change: (ev) => {
        if (ev.target.checked) state.selected.add(cb.id);
        else state.selected.delete(cb.id);
        renderSelection();
      },
    },
  });
  checkbox.checked = state.selected.has(cb.id);
  return el(
    'tr',
    {
      class: ['cb-row', `cb-${cb.status}`, detailId() === cb.id ? 'cb-row-open' : null],
      dataset: { id: cb.id, callId: cb.callId ?? '', status: cb.status },
    },
    el('td', {}, checkbox),
    el('td', {}, el('div', { class: 'nowrap mono', text: fmtPhone(cb.phone) }), customerCell(cb)),
    el('td', { class: 'nowrap', text: cb.storeName ?? '不明' }),
    el('td', { class: 'nowrap small cb-calls', text: callsText(cb) }),
    el('td', { class: 'nowrap muted', text: cb.lastCallAt ? fmtDateTime(cb.lastCallAt) : '—' }),
    el(
      'td',
      {},
      el('span', {
        class: `cb-status cb-status-${cb.status}`,
        text: STATUS_LABELS[cb.status] ?? cb.status,
      }),
      cb.status !== 'open' && cb.updatedBy
        ? el('div', { class: 'muted small', text: `${cb.updatedBy} ${fmtDateTime(cb.updatedAt)}` })
        : null,
      cb.note ? el('div', { class: 'muted small cb-note', text: cb.note }) : null,
    ),
    el(
      'td',
      { class: 'nowrap' },
      el('div', { class: 'cb-owner', text: cb.assigneeName ?? '—' }),
      assignSelect(cb),
      dueLine(cb),
    ),
    el('td', { class: 'small cb-last-attempt', text: attemptText(cb.lastAttempt) }),
    el(
      'td',
      {},
      el(
        'div',
        { class: 'cb-actions' },
        el('button', {
          class: 'btn btn-small',
          text: '詳細',
          attrs: { type: 'button', 'aria-label': `詳細 ${fmtPhone(cb.phone)}` },
          on: { click: () => openDetail(cb.id) },
        }),
        dialLink(cb.phone, cb.storeId, state.settings, {
          label: '発信',
          customerId: cb.customerId ?? null,
        }),
        statusButtons(cb),
      ),
    ),
  );
}

function renderSelection() {
  const n = state.selected.size;
  ui.closeSelected.disabled = n === 0;
  ui.selectedCount.textContent = n ? `${n}件選択中` : '';
}

async function closeSelected() {
  const ids = [...state.selected];
  if (!ids.length) return;
  showError('');
  ui.closeSelected.disabled = true;
  try {
    await api('/api/callbacks/close', { method: 'POST', body: { ids } });
  } catch (e) {
    if (handleAuthError(e)) return;
    showError(TEXT.saveFailed(e.message));
    renderSelection();
    return;
  }
  state.selected.clear();
  await refresh();
}

function filterQuery() {
  const q = new URLSearchParams();
  if (ui.status.value !== 'todo') q.set('status', ui.status.value);
  if (ui.store.value) q.set('store', ui.store.value);
  if (ui.assignee.value) q.set('assignee', ui.assignee.value);
  return q;
}

async function load() {
  const seq = ++state.seq;
  const filters = filterQuery();
  const q = new URLSearchParams({
    status: ui.status.value,
    page: String(state.page),
    perPage: String(PER_PAGE),
  });
  for (const [k, v] of filters) q.set(k, v);
  history.replaceState(null, '', filters.toString() ? `?${filters}` : location.pathname);
  let data;
  try {
    data = await api(`/api/callbacks?${q}`);
  } catch (e) {
    if (seq !== state.seq || handleAuthError(e)) return;
    showError(TEXT.loadFailed('折り返し', e.message));
    return;
  }
  if (seq !== state.seq) return;
  const rows = Array.isArray(data.callbacks) ? data.callbacks : [];
  if (table.overflowed(rows, { total: data.total, page: state.page, perPage: PER_PAGE })) return;
  // Only what is on screen (and still to do) stays selected.
  const selectable = new Set(rows.filter((r) => r.status !== 'done').map((r) => r.id));
  for (const id of [...state.selected]) if (!selectable.has(id)) state.selected.delete(id);
  ui.selectAll.checked = false;
  await loadAssignees(rows.filter((r) => r.status !== 'done').map((r) => r.storeId ?? null));
  if (seq !== state.seq) return;
  table.show(rows.map(renderRow), data, q.toString());
  ui.total.textContent = `${data.total}件`;
  renderSelection();
}

/** Reloads the list, the open detail and the nav's count. */
export async function refresh() {
  await Promise.all([load(), reloadDetail()]);
  refreshCallbackCount();
}

ui.filters.addEventListener('change', () => {
  state.page = 1;
  state.selected.clear();
  load();
});

ui.selectAll.addEventListener('change', () => {
  for (const box of ui.body.querySelectorAll('input[type="checkbox"]:not(:disabled)')) {
    box.checked = ui.selectAll.checked;
    const id = Number(box.closest('tr').dataset.id);
    if (box.checked) state.selected.add(id);
    else state.selected.delete(id);
  }
  renderSelection();
});

ui.closeSelected.addEventListener('click', closeSelected);

async function fillStores() {
  if (state.user?.role !== 'admin') return;
  try {
    const stores = await loadStores();
    ui.store.append(
      ...stores.map((s) => el('option', { text: s.name, attrs: { value: String(s.id) } })),
    );
  } catch {
    /* the filter stays at すべての店舗 */
  }
}

async function main() {
  state.user = await startPage();
  try {
    state.settings = (await loadFrontDesk()).settings;
  } catch {
    state.settings = null;
  }
  await fillStores();
  const wanted = new URLSearchParams(location.search);
  const status = wanted.get('status');
  if (status && (STATUS_LABELS[status] !== undefined || status === 'all')) ui.status.value = status;
  if (wanted.get('store') && [...ui.store.options].some((o) => o.value === wanted.get('store')))
    ui.store.value = wanted.get('store');
  if (['me', 'none'].includes(wanted.get('assignee'))) ui.assignee.value = wanted.get('assignee');
  ui.view.hidden = false;
  await load();
  const socket = new CtiSocket();
  socket.addEventListener('message', (ev) => {
    if (ev.detail.msg.type !== MessageType.CALLBACKS_CHANGED) return;
    refresh();
  });
  socket.start();
  window.addEventListener('pagehide', () => socket.stop());
}

main();
