// @ts-check
// When a call pops (the settings' timing and outbound choice) and how: the window, the banner
// when the browser blocked it, and a desktop notification that stands in for a blocked popup.
import { $, el } from '../lib/dom.js';
import { fmtPhone } from '../lib/format.js';
import { LIVE_PHASES, openCallPopup } from '../lib/calls.js';
import { currentSettings, notifyPermission } from './settings.js';
import { POPPED_MAX } from './popup-claim.js';
import { MessageType } from '../lib/protocol.js';

/**
 * Where to allow pop-ups, said on the blocked banner: Chrome and Edge both show a blocked-popup
 * icon at the right end of the address bar, and keep the list under their site settings.
 */
export const POPUP_BLOCKED_HELP =
  'このサイトのポップアップを許可してください。Chrome・Edge: アドレスバー右端のポップアップブロックのアイコンをクリックし「常に許可」を選んで「完了」。' +
  'または Chrome は 設定 › プライバシーとセキュリティ › サイトの設定 › ポップアップとリダイレクト、' +
  'Edge は 設定 › Cookie とサイトのアクセス許可 › ポップアップとリダイレクト の「許可」にこのサイトを追加します。';

/** Phases in which a call counts as answered. */
const ANSWERED = new Set(['connected', 'hold']);

/** The blocked-popup banner (built by the listener's banners; looked up when first needed). */
const ui = {
  get blocked() {
    return $('#popup-blocked');
  },
  get list() {
    return $('#popup-blocked-list');
  },
};

/** callId -> the live call whose popup the browser blocked (every one, in the order blocked) */
const blockedCalls = new Map();
/** callId -> the desktop notification standing in for its blocked popup */
const notifications = new Map();
/** The latest state of a call by id (the call list's), so a late click opens what is current. */
let latest = (call) => call;
/** How a call's window opens: `openCallPopup`, or the single window's opener. */
let opener = (call) => openCallPopup(call);

/**
 * `latestCall(call)` returns the newest known version of `call`; `open(call)` (optional)
 * opens its window and returns false when the browser blocked it.
 */
export function initPopups(latestCall, open) {
  latest = latestCall;
  if (open) opener = open;
}

/** Opens (or focuses) the popup of a call. Returns false when the browser blocked it. */
export function openPopup(call) {
  if (!opener(call)) {
    showBlocked(call);
    return false;
  }
  if (blockedCalls.delete(call.id)) renderBlocked();
  closeNotification(call.id);
  return true;
}

/** Keeps a blocked call current; a call that is over has nothing left to pop: its line goes. */
export function updateBlocked(call) {
  if (!blockedCalls.has(call.id)) return;
  if (LIVE_PHASES.has(call.phase)) blockedCalls.set(call.id, call);
  else blockedCalls.delete(call.id);
  renderBlocked();
}

function showBlocked(call) {
  blockedCalls.set(call.id, call);
  renderBlocked();
  notifyBlocked(call);
}

/** The banner lists every blocked live call, each with its own button. */
function renderBlocked() {
  const banner = ui.blocked;
  if (!banner) return;
  const list = ui.list;
  list.replaceChildren(
    ...[...blockedCalls.values()].map((call) => {
      const who = call.caller
        ? `${fmtPhone(call.caller)}（${call.customerName ? `${call.customerName} 様` : '未登録の番号'}）`
        : '非通知';
      const what = call.direction === 'outbound' ? 'への発信' : 'からの着信';
      const text = `${who}${what}${call.storeName ? `・${call.storeName}` : ''}`;
      return el(
        'li',
        { class: 'blocked-call', dataset: { callId: call.id } },
        el('span', { class: 'blocked-call-text', text }),
        el('button', {
          class: 'btn btn-primary btn-small',
          text: 'ポップアップを開く',
          attrs: { type: 'button', 'aria-label': `${text}のポップアップを開く` },
          on: { click: () => openPopup(latest(blockedCalls.get(call.id) ?? call)) },
        }),
      );
    }),
  );
  banner.hidden = blockedCalls.size === 0;
}

export function hideBlocked() {
  blockedCalls.clear();
  renderBlocked();
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

/** The Dialpad user this console's account is linked to (null: not linked). */
let myDialpadUser = null;
export function setDialpadUser(id) {
  myDialpadUser = id === null || id === undefined ? null : String(id);
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
  if (settings.popTiming === 'answer') {
    if (!ANSWERED.has(msg.phase) || ANSWERED.has(prevPhase)) return false;
    // A console linked to a Dialpad user (アカウント) pops only the calls that user answered;
    // unlinked consoles, and events that do not say who answered, pop at every desk.
    return !(
      myDialpadUser &&
      msg.answeredByUserId &&
      String(msg.answeredByUserId) !== myDialpadUser
    );
  }
  if (outbound) return prevPhase === undefined;
  return msg.type === MessageType.INCOMING_CALL;
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
