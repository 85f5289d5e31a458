// When a call pops (the settings' timing and outbound choice) and how: the window, the banner
// when the browser blocked it, and a desktop notification that stands in for a blocked popup.
import { $ } from '../lib/dom.js';
import { fmtPhone } from '../lib/format.js';
import { LIVE_PHASES, openCallPopup } from '../lib/calls.js';
import { currentSettings, notifyPermission } from './settings.js';
import { POPPED_MAX } from './popup-claim.js';

const ui = {
  blocked: $('#popup-blocked'),
  blockedDetail: $('#popup-blocked-detail'),
  open: $('#popup-open'),
  dismiss: $('#popup-dismiss'),
};

/** Phases in which a call counts as answered. */
const ANSWERED = new Set(['connected', 'hold']);

let blockedCall = null;
/** callId -> the desktop notification standing in for its blocked popup */
const notifications = new Map();
/** The latest state of a call by id (the call list's), so a late click opens what is current. */
let latest = (call) => call;

/** `latestCall(call)` returns the newest known version of `call`. */
export function initPopups(latestCall) {
  latest = latestCall;
  ui.open.addEventListener('click', () => {
    if (blockedCall) openPopup(blockedCall);
  });
  ui.dismiss.addEventListener('click', hideBlocked);
}

/** Opens (or focuses) the popup of a call. Returns false when the browser blocked it. */
export function openPopup(call) {
  if (!openCallPopup(call)) {
    showBlocked(call);
    return false;
  }
  if (blockedCall && blockedCall.id === call.id) hideBlocked();
  closeNotification(call.id);
  return true;
}

/** Keeps the blocked banner's call current. */
export function updateBlocked(call) {
  if (!blockedCall || blockedCall.id !== call.id) return;
  blockedCall = call;
  // A call that is over has nothing left to pop: its banner goes.
  if (!LIVE_PHASES.has(call.phase)) hideBlocked();
}

function showBlocked(call) {
  blockedCall = call;
  const who = call.customerName ? `${call.customerName} 様` : '未登録の番号';
  const what = call.direction === 'outbound' ? 'への発信' : 'からの着信';
  ui.blockedDetail.textContent = `${fmtPhone(call.caller)}（${who}）${what}`;
  ui.blocked.hidden = false;
  notifyBlocked(call);
}

export function hideBlocked() {
  blockedCall = null;
  ui.blocked.hidden = true;
}

/** Where allowed, a desktop notification whose click opens the popup the browser blocked. */
function notifyBlocked(call) {
  if (!currentSettings().desktopNotify || notifyPermission() !== 'granted') return;
  if (notifications.has(call.id)) return;
  const who = call.customerName || fmtPhone(call.caller);
  const title = `${call.direction === 'outbound' ? '発信' : '着信'}: ${who} (${call.storeName ?? '不明'})`;
  let n;
  try {
    n = new Notification(title, {
      body: 'クリックすると顧客情報のポップアップを開きます。',
      tag: `cti-${call.id}`,
      requireInteraction: true,
    });
  } catch {
    return; // e.g. a platform that only allows notifications from a service worker
  }
  notifications.set(call.id, n);
  n.addEventListener('click', (ev) => {
    ev.preventDefault();
    try {
      window.focus();
    } catch {
      /* ignore */
    }
    openPopup(latest(call));
    n.close();
  });
  n.addEventListener('close', () => {
    if (notifications.get(call.id) === n) notifications.delete(call.id);
  });
}

export function closeNotification(callId) {
  const n = notifications.get(callId);
  if (!n) return;
  notifications.delete(callId);
  try {
    n.close();
  } catch {
    /* ignore */
  }
}

export function closeAllNotifications() {
  for (const id of [...notifications.keys()]) closeNotification(id);
}

/**
 * Whether this message is the moment to pop its call, given the phase this console last saw
 * the call in (undefined: first sighting). Ended, missed, voicemail and other phases never pop.
 */
export function popTrigger(msg, prevPhase) {
  const settings = currentSettings();
  if (!LIVE_PHASES.has(msg.phase)) return false;
  const outbound = msg.direction === 'outbound';
  if (outbound && !settings.popOutbound) return false;
  if (settings.popTiming === 'answer') return ANSWERED.has(msg.phase) && !ANSWERED.has(prevPhase);
  if (outbound) return prevPhase === undefined;
  return msg.type === 'incoming_call';
}

/** A fresh console pops only calls that started ringing this recently; older ones are listed. */
export const CATCH_UP_POP_MS = 60_000;

/** Whether a call caught up by a fresh console is recent enough to pop. */
export function recentEnough(call, now = Date.now()) {
  return Number.isFinite(call.startedAt) && now - call.startedAt <= CATCH_UP_POP_MS;
}

/**
 * In 応答時 mode, a call that ended unanswered never popped: true when this message is that
 * moment (the call rang in this console and is now missed or went to voicemail).
 */
export function missedWithoutPop(msg, prevPhase) {
  if (currentSettings().popTiming !== 'answer' || msg.direction === 'outbound') return false;
  return (msg.phase === 'missed' || msg.phase === 'voicemail') && prevPhase === 'ringing';
}

/** callId -> phase this console last saw on the socket (bounded). */
const seenPhase = new Map();

/** Records the phase of a call and returns the one seen before (undefined: first sighting). */
export function rememberPhase(id, phase) {
  const prev = seenPhase.get(id);
  seenPhase.delete(id);
  seenPhase.set(id, phase);
  if (seenPhase.size > POPPED_MAX) seenPhase.delete(seenPhase.keys().next().value);
  return prev;
}

export function forgetPhases() {
  seenPhase.clear();
}
