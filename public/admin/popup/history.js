// @ts-check
// The popup's list of the number's recent calls (直近10件), with this call marked and kept in
// step with the live state. Each row shows the call's 用件 once written and is a button that
// opens the call's details (call-dialog.js).
import { $, el, setChildren } from '../lib/dom.js';
import { fmtDateTime, fmtDuration } from '../lib/format.js';
import { phaseLabel, stateBadge } from '../lib/calls.js';
import { recentCallsCard } from '../lib/recent-calls.js';
import { openCall } from './call-dialog.js';

const view = $('#history-view');
const ui = {
  view,
  ...recentCallsCard(view, {
    listClass: 'history',
    emptyClass: 'empty',
    emptyText: '履歴はありません',
  }),
};

/** the popup's call id (null: no call, e.g. opened from the call log of a number) */
let callId = null;
let history = [];

export function initHistory(id) {
  callId = id;
}

function render() {
  const items = history.slice(0, 10).map((h) => {
    const current = callId && h.id === callId;
    const wrapup = [h.wrapupCategory, h.wrapupOutcome].filter(Boolean).join(' · ');
    return el(
      'li',
      { class: ['history-item', current && 'current'], dataset: { callId: h.id } },
      el(
        'button',
        {
          class: 'h-open',
          attrs: { type: 'button', title: '着信の詳細を開く' },
          on: { click: (ev) => openCall(h, ev.currentTarget) },
        },
        el('span', { class: 'h-date', text: fmtDateTime(h.startedAt) }),
        el(
          'span',
          { class: 'h-store' },
          h.storeName ?? '不明',
          current ? el('span', { class: 'badge badge-current', text: 'この通話' }) : null,
          h.isTest ? el('span', { class: 'badge badge-test', text: 'テスト' }) : null,
        ),
        el('span', { class: 'h-state' }, stateBadge(h.phase, phaseLabel(h.phase))),
        el('span', {
          class: 'h-duration mono',
          text: h.durationMs ? fmtDuration(h.durationMs) : '',
        }),
        wrapup || h.wrapupNote
          ? el('span', {
              class: 'h-wrapup',
              text: [wrapup, h.wrapupNote].filter(Boolean).join('：'),
            })
          : null,
      ),
    );
  });
  setChildren(ui.list, items);
  ui.empty.hidden = items.length > 0;
  ui.view.hidden = false;
}

/** Shows the lookup's history; returns this call's entry, if listed. */
export function setHistory(list) {
  history = list;
  render();
  return callId ? history.find((h) => h.id === callId) : undefined;
}

/**
 * Shows a fresh lookup's history, keeping what the socket told us: calls the lookup does not
 * list (yet), and the live state of this call.
 */
export function refreshHistory(fresh) {
  const known = new Set(fresh.map((h) => h.id));
  const merged = [...fresh, ...history.filter((h) => !known.has(h.id))];
  merged.sort((a, b) => (Number(b.startedAt) || 0) - (Number(a.startedAt) || 0));
  const live = callId && history.find((h) => h.id === callId);
  history = merged.map((h) =>
    live && h.id === callId
      ? { ...h, phase: live.phase, state: live.state, durationMs: live.durationMs ?? h.durationMs }
      : h,
  );
  render();
}

/** Keeps this call's history row in step with the live state. */
export function updateHistoryFrom(msg) {
  if (!history.length && ui.view.hidden) return; // lookup not back yet
  let h = history.find((x) => x.id === msg.callId);
  if (!h) {
    h = {
      id: msg.callId,
      storeName: msg.store?.name ?? null,
      startedAt: Date.parse(msg.timestamp) || Date.now(),
      isTest: msg.isTest,
    };
    history.unshift(h);
  }
  h.phase = msg.phase;
  h.state = msg.state;
  h.durationMs = msg.durationMs ?? h.durationMs ?? null;
  render();
}

/**
 * When the number called before this call (epoch ms), from the history: the popup's 最終着信
 * is the previous call, not the one ringing now. Undefined when this call is not listed.
 */
export function previousCallBefore() {
  const mine = callId && history.find((h) => h.id === callId);
  if (!mine) return undefined;
  const start = Number(mine.startedAt);
  const earlier = history
    .filter((h) => h.id !== callId && Number(h.startedAt) < start)
    .map((h) => Number(h.startedAt));
  return { thisCall: start, previous: earlier.length ? Math.max(...earlier) : null };
}

/** The listed entry of a call, if any. */
export function historyEntry(id) {
  return history.find((h) => h.id === id);
}

export function hideHistory() {
  ui.view.hidden = true;
}
