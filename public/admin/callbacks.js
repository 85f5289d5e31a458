// 折り返し: missed and voicemail calls to call back, 未対応 → 対応中 → 対応済, who and when. The
// list and the nav's count follow the hub's `callbacks_changed` messages live.
import './lib/header.js';
import { $, el, setChildren } from './lib/dom.js';
import { api } from './lib/api.js';
import { fmtDateTime, fmtPhone } from './lib/format.js';
import { phaseLabel, stateBadge, callCustomer } from './lib/calls.js';
import { startPage, handleAuthError } from './lib/page.js';
import { renderPager, pageAfterOverflow } from './lib/pager.js';
import { CtiSocket } from './lib/socket.js';
import { loadFrontDesk, dialLink, refreshCallbackCount } from './lib/front-desk.js';
import { TEXT } from './lib/messages.js';

const PER_PAGE = 50;
export const STATUS_LABELS = Object.freeze({ open: '未対応', in_progress: '対応中', done: '対応済' });

const ui = {
  view: $('#page-view'),
  filters: $('#cb-filters'),
  status: $('#cb-status-filter'),
  body: $('#cb-body'),
  total: $('#cb-total'),
  empty: $('#cb-empty'),
  error: $('#cb-error'),
  pager: $('#pager'),
};

const state = { page: 1, seq: 0, settings: null };

function statusButton(cb, status, text) {
  return el('button', {
    class: 'btn btn-small',
    text,
    attrs: { type: 'button' },
    on: { click: () => setStatus(cb, status) },
  });
}

function renderRow(cb) {
  const actions = [];
  if (cb.status === 'open') actions.push(statusButton(cb, 'in_progress', '対応中にする'));
  if (cb.status !== 'done') actions.push(statusButton(cb, 'done', '対応済にする'));
  else actions.push(statusButton(cb, 'open', '未対応に戻す'));
  const updated = cb.status === 'open' && !cb.updatedBy ? '—' : `${cb.updatedBy ?? ''} ${fmtDateTime(cb.updatedAt)}`;
  return el(
    'tr',
    { class: ['cb-row', `cb-${cb.status}`], dataset: { id: cb.id, callId: cb.callId, status: cb.status } },
    el('td', { class: 'nowrap muted', text: fmtDateTime(cb.startedAt) }),
    el('td', { class: 'nowrap mono', text: fmtPhone(cb.phone) }),
    el('td', {}, callCustomer(cb)),
    el('td', { class: 'nowrap', text: cb.storeName ?? '不明' }),
    el('td', {}, stateBadge(cb.phase, phaseLabel(cb.phase))),
    el('td', {}, el('span', { class: `cb-status cb-status-${cb.status}`, text: STATUS_LABELS[cb.status] ?? cb.status })),
    el('td', { class: 'small' }, el('span', { text: updated }), cb.note ? el('div', { class: 'muted cb-note', text: cb.note }) : null),
    el('td', {}, el('div', { class: 'cb-actions' }, dialLink(cb.phone, cb.storeId, state.settings, { label: '発信' }), actions)),
  );
}

async function setStatus(cb, status) {
  ui.error.hidden = true;
  try {
    await api(`/api/callbacks/${encodeURIComponent(cb.id)}`, { method: 'PATCH', body: { status } });
  } catch (e) {
    if (handleAuthError(e)) return;
    ui.error.textContent = TEXT.saveFailed(e.message);
    ui.error.hidden = false;
    return;
  }
  load();
  refreshCallbackCount();
}

async function load() {
  const seq = ++state.seq;
  const q = new URLSearchParams({ status: ui.status.value, page: String(state.page), perPage: String(PER_PAGE) });
  history.replaceState(null, '', ui.status.value === 'todo' ? location.pathname : `?status=${ui.status.value}`);
  let data;
  try {
    data = await api(`/api/callbacks?${q}`);
  } catch (e) {
    if (seq !== state.seq || handleAuthError(e)) return;
    ui.error.textContent = TEXT.loadFailed('折り返し', e.message);
    ui.error.hidden = false;
    return;
  }
  if (seq !== state.seq) return;
  const rows = Array.isArray(data.callbacks) ? data.callbacks : [];
  const last = pageAfterOverflow({ rows: rows.length, total: data.total, page: state.page, perPage: PER_PAGE });
  if (last !== null) {
    state.page = last;
    load();
    return;
  }
  setChildren(ui.body, rows.map(renderRow));
  ui.body.dataset.loaded = q.toString();
  ui.empty.hidden = rows.length > 0;
  ui.total.textContent = `${data.total}件`;
  renderPager(ui.pager, { total: data.total, page: data.page, perPage: data.perPage }, (p) => {
    state.page = p;
    load();
  });
}

ui.filters.addEventListener('change', () => {
  state.page = 1;
  load();
});

async function main() {
  await startPage();
  try {
    state.settings = (await loadFrontDesk()).settings;
  } catch {
    state.settings = null;
  }
  const wanted = new URLSearchParams(location.search).get('status');
  if (wanted && STATUS_LABELS[wanted] !== undefined) ui.status.value = wanted;
  if (wanted === 'all') ui.status.value = 'all';
  ui.view.hidden = false;
  await load();
  const socket = new CtiSocket();
  socket.addEventListener('message', (ev) => {
    if (ev.detail.msg.type !== 'callbacks_changed') return;
    load();
    refreshCallbackCount();
  });
  socket.start();
  window.addEventListener('pagehide', () => socket.stop());
}

main();
