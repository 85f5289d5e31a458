// @ts-check
// 操作履歴 (admins): who opened or changed which customer, exports and imports, account and
// settings changes, logins — newest first, filtered by user, action, customer (id or name)
// and days, and written out as CSV. The filters go to the server in a POST body: a
// customer's name is personal data and never goes into an address.
import './lib/header.js';
import './lib/form-parts.js'; // before the forms are looked up
import { $, el, optionsOf } from './lib/dom.js';
import { api, ApiError } from './lib/api.js';
import { fmtDateTime } from './lib/format.js';
import { startPage, handleAuthError, loadOptional } from './lib/page.js';
import { pagedTable, pageParam } from './lib/pager.js';
import { recordTable } from './lib/record-table.js';
import { TEXT } from './lib/messages.js';

const PER_PAGE = 50;

const list = recordTable($('[data-record-table]'), {
  paged: true,
  id: 'audit',
  className: 'records audit-log',
  columns: [
    '日時',
    'ユーザー',
    '操作',
    '顧客',
    '着信ID',
    '店舗',
    { text: '件数', class: 'num' },
    '詳細',
  ],
  emptyText: '条件に合う記録はありません',
});

const ui = {
  view: $('#page-view'),
  filters: $('#filters'),
  user: $('#filter-user'),
  action: $('#filter-action'),
  customer: $('#filter-customer'),
  from: $('#filter-from'),
  to: $('#filter-to'),
  reset: $('#filter-reset'),
  exportBtn: $('#audit-export'),
  filterError: $('#filter-error'),
  body: list.body,
  total: $('#audit-total'),
  empty: list.empty,
  pager: list.pager,
};

const state = { page: 1, seq: 0, actionsLoaded: false };
const table = pagedTable(ui, (page) => {
  state.page = page;
  load();
});

/** The filters as the API's JSON body (without the page). */
function filterBody() {
  const body = {};
  if (ui.user.value) body.userId = Number(ui.user.value);
  if (ui.action.value) body.action = ui.action.value;
  const customer = ui.customer.value.trim();
  if (customer) body.customer = customer;
  if (ui.from.value) body.from = ui.from.value;
  if (ui.to.value) body.to = ui.to.value;
  return body;
}

function applyParams(params) {
  ui.user.value = params.get('user') ?? '';
  if (ui.user.selectedIndex < 0) ui.user.value = '';
  const action = params.get('action') ?? '';
  if (action && ![...ui.action.options].some((o) => o.value === action))
    ui.action.append(el('option', { text: action, attrs: { value: action } }));
  ui.action.value = action;
  ui.from.value = params.get('from') ?? '';
  ui.to.value = params.get('to') ?? '';
  ui.customer.value = '';
  state.page = pageParam(params);
}

/** Keeps the filters in the address for a reload — all but the customer (personal data). */
function rememberParams() {
  const shown = new URLSearchParams();
  if (ui.user.value) shown.set('user', ui.user.value);
  if (ui.action.value) shown.set('action', ui.action.value);
  if (ui.from.value) shown.set('from', ui.from.value);
  if (ui.to.value) shown.set('to', ui.to.value);
  if (state.page > 1) shown.set('page', String(state.page));
  history.replaceState(null, '', shown.toString() ? `?${shown}` : location.pathname);
}

function userCell(e) {
  if (e.userId === null || e.userId === undefined)
    return el('span', { class: 'muted', text: '（未ログイン）' });
  return [
    el('div', { text: e.userName ?? e.loginId ?? `ID ${e.userId}` }),
    el('div', { class: 'muted small mono', text: e.loginId ?? '' }),
  ];
}

function customerCell(e) {
  if (e.customerId === null || e.customerId === undefined) return '—';
  if (!e.customerName)
    return el('span', { class: 'muted', text: `ID ${e.customerId}（削除済み）` });
  return el('a', {
    text: e.customerName,
    attrs: { href: `/admin/customers.html?id=${e.customerId}` },
  });
}

function renderRow(e) {
  return el(
    'tr',
    { class: 'audit-row', dataset: { action: e.action, auditId: e.id } },
    el('td', { class: 'nowrap muted', text: fmtDateTime(e.at) }),
    el('td', { class: 'audit-user' }, userCell(e)),
    el('td', { class: 'nowrap audit-action', text: e.actionLabel }),
    el('td', { class: 'audit-customer' }, customerCell(e)),
    el('td', { class: 'nowrap mono muted', text: e.callId ?? '—' }),
    el('td', { class: 'nowrap', text: e.storeName ?? '—' }),
    el('td', {
      class: 'num',
      text: e.count === null || e.count === undefined ? '—' : String(e.count),
    }),
    el('td', { class: 'small audit-detail', text: e.detailText || '—' }),
  );
}

function fillActions(actions) {
  if (state.actionsLoaded || !Array.isArray(actions)) return;
  state.actionsLoaded = true;
  const chosen = ui.action.value;
  for (const o of [...ui.action.options]) if (o.value) o.remove();
  ui.action.append(
    ...actions.map((a) => el('option', { text: a.label, attrs: { value: a.code } })),
  );
  ui.action.value = chosen;
}

function showError(text) {
  ui.filterError.textContent = text;
  ui.filterError.hidden = false;
}

async function load() {
  const seq = ++state.seq;
  ui.filterError.hidden = true;
  if (ui.from.value && ui.to.value && ui.from.value > ui.to.value) {
    showError(TEXT.dateOrder);
    return;
  }
  rememberParams();
  const body = { ...filterBody(), page: state.page, perPage: PER_PAGE };
  table.loading();
  let data;
  try {
    data = await api('/api/audit/search', { method: 'POST', body });
  } catch (e) {
    if (seq !== state.seq || handleAuthError(e)) return;
    table.clear();
    showError(TEXT.loadFailed('操作履歴', e.message));
    return;
  }
  if (seq !== state.seq) return;
  fillActions(data.actions);
  const rows = Array.isArray(data.entries) ? data.entries : [];
  if (table.overflowed(rows, { total: data.total, page: state.page, perPage: PER_PAGE })) return;
  table.show(rows.map(renderRow), data, JSON.stringify(body));
  ui.total.textContent = `${data.total}件`;
}

/** The filtered list as CSV: fetched with the filters in the body, then saved as a file. */
async function exportCsv() {
  ui.filterError.hidden = true;
  ui.exportBtn.disabled = true;
  try {
    const res = await fetch('/api/audit/export', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(filterBody()),
    });
    if (!res.ok) {
      let data = null;
      try {
        data = await res.json();
      } catch {
        data = null;
      }
      throw new ApiError(res.status, data);
    }
    const blob = await res.blob();
    const url = URL.createObjectURL(blob);
    const a = el('a', { attrs: { href: url, download: 'audit-log.csv' }, hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  } catch (e) {
    if (handleAuthError(e)) return;
    showError(TEXT.loadFailed('操作履歴の CSV', e.message));
  } finally {
    ui.exportBtn.disabled = false;
  }
}

// Selects and dates apply at once; the customer applies on Enter or when left.
table.reloadOn(ui.filters);
ui.reset.addEventListener('click', () => {
  applyParams(new URLSearchParams());
  load();
});
ui.exportBtn.addEventListener('click', exportCsv);

async function main() {
  const user = await startPage();
  if (user.role !== 'admin') return;
  const usersListed = await loadOptional(async () => {
    const { users } = await api('/api/users');
    ui.user.append(
      ...optionsOf(
        users ?? [],
        (u) => `${u.name}（${u.loginId}）`,
        (u) => String(u.id),
      ),
    );
  });
  if (!usersListed) return;
  applyParams(new URLSearchParams(location.search));
  ui.view.hidden = false;
  await load();
}

main();
