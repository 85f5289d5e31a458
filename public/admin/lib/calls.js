// @ts-check
// A call as the pages show it: the Japanese phase labels, and the popup window of a call
// (its address and how it is opened), shared by the console, the call log and the popup.
import { closedNow } from './hours.js';
import { el } from './dom.js';
import { fmtPhone } from './format.js';

/** Japanese labels for the call phases the Worker sends. */
export const PHASE_LABELS = Object.freeze({
  ringing: '着信中',
  connected: '通話中',
  hold: '保留中',
  ended: '終了',
  missed: '不在着信',
  voicemail: '留守電',
  // Closed by the server when its end never arrived (no event for hours).
  unknown: '不明',
  other: 'その他',
});

/** Phases of a call that is still going on. */
export const LIVE_PHASES = new Set(['ringing', 'connected', 'hold']);

/** The label of a phase; an outbound call that is still ringing is 発信中, not 着信中. */
export function phaseLabel(phase, direction) {
  if (phase === 'ringing' && direction === 'outbound') return '発信中';
  return PHASE_LABELS[phase] ?? PHASE_LABELS.other;
}

/** Who called, as the call lists show it: the customer's name, 非通知 (withheld), or 未登録. */
export function callCustomer(call) {
  if (call.customerName) return el('span', { class: 'cust', text: call.customerName });
  if (!call.caller) return el('span', { class: 'withheld', text: '非通知' });
  return el('span', { class: 'unregistered', text: '未登録' });
}

/**
 * The customer cell of the call lists (着信履歴 and the console's 着信): who called, then the
 * call's badges: テスト, 時間外 (outside the store's hours), and with `outbound` 発信.
 * @param {any} call
 * @param {{ outbound?: boolean }} [opts]
 */
export function customerCell(call, { outbound = false } = {}) {
  return [
    callCustomer(call),
    outbound && call.direction === 'outbound'
      ? el('span', { class: 'badge badge-out', text: '発信' })
      : null,
    call.isTest ? el('span', { class: 'badge badge-test', text: 'テスト' }) : null,
    call.afterHours
      ? el('span', {
          class: 'badge after-hours',
          text: '時間外',
          attrs: { title: '店舗の営業時間外の着信' },
        })
      : null,
  ];
}

function customerNameOf(msg) {
  if (msg.customer) return msg.customer.name;
  const c = Array.isArray(msg.candidates) ? msg.candidates : [];
  if (c.length === 1) return c[0].name;
  if (c.length > 1) return `${c[0].name} 他${c.length - 1}名`;
  return null;
}

/** A socket message in the shape of a /api/calls/recent row, merged over what we had. */
export function callFromMessage(msg, prev) {
  const ts = Date.parse(msg.timestamp);
  return {
    ...(prev ?? {}),
    id: msg.callId,
    direction: msg.direction,
    caller: msg.customerPhone,
    dialled: msg.incomingNumber,
    storeId: msg.store?.id ?? null,
    storeName: msg.store?.name ?? prev?.storeName ?? null,
    customerName: customerNameOf(msg) ?? prev?.customerName ?? null,
    state: msg.state,
    phase: msg.phase,
    isTest: Boolean(msg.isTest),
    startedAt:
      prev?.startedAt ??
      (Number.isFinite(msg.startedAt) ? msg.startedAt : Number.isFinite(ts) ? ts : Date.now()),
    connectedAt: msg.connectedAt ?? prev?.connectedAt ?? null,
    endedAt: msg.endedAt ?? prev?.endedAt ?? null,
    durationMs: msg.durationMs ?? prev?.durationMs ?? null,
    answeredBy: msg.answeredBy ?? prev?.answeredBy ?? null,
    // 時間外 comes with the call log's rows; a call first seen live is marked by the console
    // from its store's hours (lib/hours.js).
    afterHours: prev?.afterHours ?? closedNow(msg.store?.id ?? null),
  };
}

/** The phase as a coloured label. */
export function stateBadge(phase, text) {
  return el('span', { class: `state state-${phase}`, text });
}

/**
 * The popup's URL for a call: the call id only. The popup asks the Worker for the numbers,
 * so no phone number ever appears in an address (addresses end up in logs).
 */
export function popupUrl({ callId }) {
  return `/admin/popup/cti?${new URLSearchParams({ callId })}`;
}

export const POPUP_FEATURES = 'width=500,height=700';

/** The popup of a call row (`{id, caller, dialled}`): its URL and window name. */
function popupOf(call) {
  return { url: popupUrl({ callId: call.id }), name: `cti-${call.id}` };
}

/**
 * Opens (or focuses: one window per call, named `cti-<callId>`) the popup of a call. Returns
 * false when the browser blocked it.
 */
export function openCallPopup(call) {
  const { url, name } = popupOf(call);
  const win = window.open(url, name, POPUP_FEATURES);
  if (!win) return false;
  try {
    win.focus();
  } catch {
    /* ignore */
  }
  return true;
}

/**
 * The caller's number as a real link to the call's popup: keyboard reachable, and a plain
 * click (on it or anywhere on its row, see onRowActivate) opens the sized popup window.
 */
export function callerLink(call) {
  const { url, name } = popupOf(call);
  return el('a', {
    class: 'row-open',
    text: fmtPhone(call.caller),
    attrs: { href: url, target: name, title: 'クリックでポップアップを開く' },
  });
}
