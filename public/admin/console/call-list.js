// @ts-check
// 最近の着信: the console's list of recent calls, newest first, kept live from the socket.
// Each row's number is a link to the call's popup; a click anywhere on the row opens it too.
import { $, el, onRowActivate } from '../lib/dom.js';
import { api } from '../lib/api.js';
import { fmtTime, fmtDuration } from '../lib/format.js';
import { LIVE_PHASES, phaseLabel, stateBadge, callerLink, customerCell } from '../lib/calls.js';
export { callFromMessage } from '../lib/calls.js';
import { TEXT } from '../lib/messages.js';
import { recordTable } from '../lib/record-table.js';

const MAX_ROWS = 50;

// The calls as they come (the console's 着信).
const list = recordTable($('[data-record-table]'), {
  id: 'calls',
  className: 'calls',
  columns: [
    { text: '時刻', class: 'col-time' },
    { text: '発信者番号', class: 'col-caller' },
    { text: '顧客', class: 'col-customer' },
    { text: '店舗', class: 'col-store' },
    { text: '状態', class: 'col-state' },
  ],
  emptyText: '着信はまだありません',
});

const ui = {
  body: list.body,
  empty: list.empty,
  error: $('#calls-error'),
};

/** callId -> { call, row } */
const calls = new Map();

/** The call with this id as the list has it now (undefined when not listed). */
export function listedCall(id) {
  return calls.get(id)?.call;
}

function stateText(call) {
  const label = phaseLabel(call.phase, call.direction);
  if (call.phase === 'ended' && call.durationMs)
    return `${label} (${fmtDuration(call.durationMs)})`;
  return label;
}

/** callId -> name of who has the call (the hub's `call_claimed`), kept across row updates. */
const claims = new Map();

/** 対応中: <name>: who claimed the call, or who answered it, while the call goes on. */
function claimNote(call) {
  if (!LIVE_PHASES.has(call.phase)) return null; // over: nobody is on it any more
  if (call.wrapupCategory || call.wrapupBy) return null; // recorded: the row shows the 用件
  const by = claims.get(call.id) ?? (call.phase !== 'ringing' ? call.answeredBy : null);
  return by ? el('span', { class: 'badge call-claim', text: `対応中: ${by}` }) : null;
}

/** 用件: the wrap-up's subject once someone wrote it. */
function wrapupNote(call) {
  if (!call.wrapupCategory) return null;
  return el('span', {
    class: 'badge call-wrapup',
    text: `用件: ${call.wrapupCategory}`,
    attrs: { title: call.wrapupOutcome ?? '' },
  });
}

/** A `call_claimed` message: shows 対応中 on the call's row (when listed). */
export function markClaimed(callId, by) {
  const id = String(callId);
  if (!by) return;
  claims.set(id, String(by));
  const entry = calls.get(id);
  if (entry) upsertCall(entry.call);
}

/** A `call_wrapup` message: the row shows the 用件, and 対応中 is over (the record is written). */
export function applyWrapup(msg) {
  const id = String(msg?.callId ?? '');
  claims.delete(id);
  const entry = calls.get(id);
  if (!entry) return;
  upsertCall({
    ...entry.call,
    wrapupCategory: msg.category ?? null,
    wrapupOutcome: msg.outcome ?? null,
    wrapupBy: msg.by ?? null,
    answeredBy: LIVE_PHASES.has(entry.call.phase) ? entry.call.answeredBy : null,
  });
}

function renderRow(call) {
  return el(
    'tr',
    {
      class: ['call-row', `phase-${call.phase}`, LIVE_PHASES.has(call.phase) && 'live'],
      dataset: { callId: call.id },
    },
    el('td', { class: 'col-time', text: fmtTime(call.startedAt) }),
    el('td', { class: 'col-caller mono' }, callerLink(call)),
    el('td', { class: 'col-customer' }, customerCell(call, { outbound: true })),
    el('td', { class: 'col-store', text: call.storeName ?? '不明' }),
    el(
      'td',
      { class: 'col-state' },
      stateBadge(call.phase, stateText(call)),
      claimNote(call),
      wrapupNote(call),
    ),
  );
}

/** Adds or updates the row of a call. */
export function upsertCall(call) {
  if (!LIVE_PHASES.has(call.phase)) claims.delete(call.id);
  const entry = calls.get(call.id);
  const row = renderRow(call);
  if (entry) {
    entry.row.replaceWith(row);
    entry.call = call;
    entry.row = row;
  } else {
    calls.set(call.id, { call, row });
  }
  placeRow(call.id);
  trimRows();
  ui.empty.hidden = calls.size > 0;
}

/** Live calls (ringing, connected, on hold) first, then the rest; newest first within each. */
function before(a, b) {
  const la = LIVE_PHASES.has(a.phase);
  const lb = LIVE_PHASES.has(b.phase);
  if (la !== lb) return la;
  return a.startedAt > b.startedAt;
}

/** Keeps rows ordered: live calls pinned at the top (いま), then by start time, newest first. */
function placeRow(id) {
  const { call, row } = calls.get(id);
  let next = null;
  for (const other of ui.body.children) {
    if (other === row) continue;
    const o = calls.get(other.dataset.callId);
    if (o && !before(o.call, call)) {
      next = other;
      break;
    }
  }
  if (row.nextSibling !== next || row.parentNode !== ui.body) ui.body.insertBefore(row, next);
  markLiveEdge();
}

/** The last live row carries a divider under it: what is going on now, then the log. */
function markLiveEdge() {
  let last = null;
  for (const r of ui.body.children) {
    r.classList.remove('live-edge');
    if (LIVE_PHASES.has(calls.get(r.dataset.callId)?.call.phase)) last = r;
  }
  if (last?.nextElementSibling) last.classList.add('live-edge');
}

function trimRows() {
  // The oldest ended calls go first; a live call is never trimmed away.
  while (calls.size > MAX_ROWS) {
    const last = ui.body.lastElementChild;
    if (!last || LIVE_PHASES.has(calls.get(last.dataset.callId)?.call.phase)) break;
    calls.delete(last.dataset.callId);
    last.remove();
  }
}

/**
 * A customer was registered or renamed (`customer_changed`): the rows of calls from one of
 * their numbers show the new name at once.
 */
export function applyCustomer(customer) {
  const phones = new Set(Array.isArray(customer?.phones) ? customer.phones : []);
  if (!customer?.name || !phones.size) return;
  for (const { call } of [...calls.values()]) {
    if (phones.has(call.caller) && call.customerName !== customer.name)
      upsertCall({ ...call, customerName: customer.name });
  }
}

/** Empties the list (logout, another user). */
export function clearList() {
  calls.clear();
  claims.clear();
  ui.body.replaceChildren();
  ui.empty.hidden = false;
}

/** Loads the recent calls (those the socket already delivered keep the newer state). */
export async function loadRecent() {
  ui.error.hidden = true;
  try {
    const { calls: list } = await api('/api/calls/recent?limit=20');
    for (const c of list) {
      if (calls.has(c.id)) continue;
      upsertCall({ ...c, isTest: Boolean(c.isTest) });
    }
    ui.empty.hidden = calls.size > 0;
  } catch (e) {
    if (e.status === 401) return; // the socket notices too and shows the login
    ui.error.textContent = TEXT.loadFailed('着信一覧', e.message);
    ui.error.hidden = false;
  }
}

/** `open(call)` runs when a row (or its link) is activated. */
export function initCallList(open) {
  onRowActivate(ui.body, 'tr.call-row', (row) => {
    const entry = calls.get(row.dataset.callId);
    if (entry) open(entry.call);
  });
  // Refresh relative times ("HH:MM" vs "M/D HH:MM") after midnight.
  setInterval(() => {
    for (const { call, row } of calls.values()) {
      const cell = row.querySelector('.col-time');
      if (cell) cell.textContent = fmtTime(call.startedAt);
    }
  }, 60_000);
}
