// @ts-check
// 着信履歴: the call log with filters (store for admins, days, missed only, number); a row
// opens that call's popup.
import './lib/header.js';
import './lib/form-parts.js'; // before the forms are looked up
import { callDetails, hasDetails } from './lib/call-details.js';
import { $, el, onRowActivate, optionsOf } from './lib/dom.js';
import { api } from './lib/api.js';
import { fmtDateTime, fmtDuration, fmtPhone } from './lib/format.js';
import {
  LIVE_PHASES,
  phaseLabel,
  stateBadge,
  callerLink,
  customerCell,
  openCallPopup,
} from './lib/calls.js';
import { loadStores } from './lib/stores.js';
import { startPage, handleAuthError, loadOptional } from './lib/page.js';
import { takeHandoff } from './lib/handoff.js';
import { pagedTable, pageParam } from './lib/pager.js';
import { recordTable } from './lib/record-table.js';
import { TEXT } from './lib/messages.js';
import { loadFrontDesk } from './lib/front-desk.js';

const PER_PAGE = 50;

const list = recordTable($('[data-record-table]'), {
  paged: true,
  id: 'calls',
  className: 'records calls-log',
  columns: [
    '日時',
    '発信者番号',
    '顧客',
    '店舗',
    '状態',
    '応対者',
    { text: '通話時間', class: 'num' },
    '対応記録',
    '着信回線',
    '詳細',
  ],
  emptyText: '条件に合う着信はありません',
});

const ui = {
  view: $('#page-view'),
  filters: $('#filters'),
  store: $('#filter-store'),
  from: $('#filter-from'),
  to: $('#filter-to'),
  q: $('#filter-q'),
  missed: $('#filter-missed'),
  category: $('#filter-category'),
  outcome: $('#filter-outcome'),
  customer: $('#filter-customer'),
  customerName: $('#filter-customer-name'),
  customerClear: $('#filter-customer-clear'),
  reset: $('#filter-reset'),
  filterError: $('#filter-error'),
  body: list.body,
  total: $('#calls-total'),
  empty: list.empty,
  pager: list.pager,
};

const state = { user: null, page: 1, seq: 0, calls: new Map(), customer: null };
const table = pagedTable(ui, (page) => {
  state.page = page;
  load();
});
const isAdmin = () => state.user?.role === 'admin';

function filterParams() {
  const q = new URLSearchParams();
  if (isAdmin() && ui.store.value) q.set('store', ui.store.value);
  if (ui.from.value) q.set('from', ui.from.value);
  if (ui.to.value) q.set('to', ui.to.value);
  if (ui.missed.checked) q.set('missed', '1');
  const number = ui.q.value.trim();
  if (number) q.set('q', number);
  if (ui.category.value) q.set('category', ui.category.value);
  if (ui.outcome.value) q.set('outcome', ui.outcome.value);
  if (state.customer) q.set('customer', state.customer);
  return q;
}

/** The call log search's JSON body for the filters `q` (a URLSearchParams). */
function searchBody(q) {
  const body = { missed: q.get('missed') === '1' };
  for (const k of ['from', 'to', 'q', 'category', 'outcome']) if (q.get(k)) body[k] = q.get(k);
  for (const k of ['store', 'customer']) if (q.get(k)) body[k] = Number(q.get(k));
  body.page = Number(q.get('page'));
  body.perPage = Number(q.get('perPage'));
  return body;
}

function applyParams(params) {
  ui.store.value = params.get('store') ?? '';
  if (ui.store.selectedIndex < 0) ui.store.value = '';
  ui.from.value = params.get('from') ?? '';
  ui.to.value = params.get('to') ?? '';
  ui.missed.checked = params.get('missed') === '1';
  // A number handed over by the popup's 全履歴 (never in the address: see lib/handoff.js).
  ui.q.value = takeHandoff(params.get('h')) ?? params.get('q') ?? '';
  for (const [select, name] of [
    [ui.category, 'category'],
    [ui.outcome, 'outcome'],
  ]) {
    const v = params.get(name) ?? '';
    if (v && ![...select.options].some((o) => o.value === v))
      select.append(el('option', { text: v, attrs: { value: v } }));
    select.value = v;
  }
  state.customer = params.get('customer') || null;
  ui.customer.hidden = !state.customer;
  state.page = pageParam(params);
}

function renderRow(call) {
  return el(
    'tr',
    {
      class: ['row-link', 'call-row', `phase-${call.phase}`, LIVE_PHASES.has(call.phase) && 'live'],
      dataset: { callId: call.id, phase: call.phase },
    },
    el('td', { class: 'nowrap muted', text: fmtDateTime(call.startedAt) }),
    el('td', { class: 'nowrap mono' }, callerLink(call)),
    el('td', {}, customerCell(call)),
    el('td', { class: 'nowrap', text: call.storeName ?? '不明' }),
    el('td', {}, stateBadge(call.phase, phaseLabel(call.phase, call.direction))),
    el('td', { class: 'nowrap answered-by', text: call.answeredBy ?? '—' }),
    el('td', { class: 'num duration', text: call.durationMs ? fmtDuration(call.durationMs) : '—' }),
    el('td', { class: 'wrapup-cell' }, wrapupSummary(call)),
    el('td', {
      class: 'nowrap muted mono call-line',
      text: call.dialled ? fmtPhone(call.dialled) : '—',
    }),
    el(
      'td',
      { class: 'call-details' },
      hasDetails(call) ? callDetails(call) : el('span', { class: 'muted', text: '—' }),
    ),
  );
}

/** The call's wrap-up in one cell: 用件 · 対応結果, and the note below. */
function wrapupSummary(call) {
  const head = [call.wrapupCategory, call.wrapupOutcome].filter(Boolean).join(' · ');
  if (!head && !call.wrapupNote) return '—';
  return [
    head ? el('div', { class: 'wrapup-head', text: head }) : null,
    call.wrapupNote ? el('div', { class: 'muted small wrapup-note', text: call.wrapupNote }) : null,
  ];
}

async function load() {
  const seq = ++state.seq;
  ui.filterError.hidden = true;
  if (ui.from.value && ui.to.value && ui.from.value > ui.to.value) {
    ui.filterError.textContent = TEXT.dateOrder;
    ui.filterError.hidden = false;
    return;
  }
  const q = filterParams();
  // The page's own address keeps the filters for a reload, but never the number: addresses
  // end up in logs.
  const shown = new URLSearchParams(q);
  shown.delete('q');
  if (state.page > 1) shown.set('page', String(state.page));
  history.replaceState(null, '', shown.toString() ? `?${shown}` : location.pathname);
  q.set('page', String(state.page));
  q.set('perPage', String(PER_PAGE));
  table.loading();
  let data;
  try {
    data = await api('/api/calls/search', { method: 'POST', body: searchBody(q) });
  } catch (e) {
    if (seq !== state.seq || handleAuthError(e)) return;
    state.calls = new Map();
    table.clear();
    ui.filterError.textContent =
      e.field === 'q' ? TEXT.badPhoneFilter : TEXT.loadFailed('着信履歴', e.message);
    ui.filterError.hidden = false;
    return;
  }
  if (seq !== state.seq) return;
  const calls = Array.isArray(data.calls) ? data.calls : [];
  if (table.overflowed(calls, { total: data.total, page: state.page, perPage: PER_PAGE })) return;
  state.calls = new Map(calls.map((c) => [c.id, c]));
  table.show(calls.map(renderRow), data, q.toString());
  if (state.customer)
    ui.customerName.textContent =
      calls.find((c) => c.customerName)?.customerName ?? `ID ${state.customer}`;
  ui.total.textContent = isAdmin() ? `${data.total}件` : `${data.total}件（自店舗のみ）`;
}

onRowActivate(ui.body, 'tr.call-row', (row) => {
  const call = state.calls.get(row.dataset.callId);
  if (call && !openCallPopup(call)) {
    ui.filterError.textContent = TEXT.popupBlocked;
    ui.filterError.hidden = false;
  }
});

// Selects, dates and the checkbox apply at once; the number applies on Enter or when left.
table.reloadOn(ui.filters);
ui.customerClear.addEventListener('click', () => {
  state.customer = null;
  ui.customer.hidden = true;
  state.page = 1;
  load();
});
ui.reset.addEventListener('click', () => {
  applyParams(new URLSearchParams());
  load();
});

async function main() {
  state.user = await startPage();
  const storesListed =
    !isAdmin() ||
    (await loadOptional(async () => {
      ui.store.append(
        ...optionsOf(
          await loadStores(),
          (s) => s.name,
          (s) => String(s.id),
        ),
      );
    }));
  if (!storesListed) return;
  const choicesListed = await loadOptional(async () => {
    const fd = await loadFrontDesk();
    ui.category.append(...optionsOf(fd.settings?.categories ?? [], String));
    ui.outcome.append(...optionsOf(fd.outcomes ?? [], String));
  });
  if (!choicesListed) return;
  applyParams(new URLSearchParams(location.search));
  ui.view.hidden = false;
  await load();
}

main();
