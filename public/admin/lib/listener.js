// @ts-check
// The call listener of every signed-in page (着信, 顧客, 着信履歴, 折り返し, 店舗, 設定,
// アカウント): no page of the product can be open while calls go unannounced. Each page keeps
// the socket to the hub and, when a call should pop, races the other tabs of the browser for it
// (Web Lock + the popped list in console/popup-claim.js), so a call still pops once per browser
// however many pages are open. The header's indicator says whether this page is listening
// (接続中 / 再接続中 / 切断). The banners (connection lost, blocked popups, 応答時 notices; built
// in console/banners.js), the ring tone, the ringing title and favicon, and desktop
// notifications work on every page.
//
// A page that moves on (顧客 → 着信履歴) hands over through the hub: the next page's first
// connect gets the latest event of every live call, and pops those that rang in the last minute
// and were not popped yet (the popped list is per browser), so a call ringing during the
// navigation still pops.
import { $ } from './dom.js';
import { MessageTarget } from './events.js';
import { CtiSocket, showConnection } from './socket.js';
import { MessageType } from './protocol.js';
import { LIVE_PHASES, callFromMessage, popupUrl, POPUP_FEATURES, openCallPopup } from './calls.js';
import { refreshCallbackCount } from './front-desk.js';
import { openChannel, DESK_SILENCE_MS } from './live-channel.js';
import {
  initRing,
  updateRinging,
  trackRinging,
  clearRinging,
  unlockRing,
  ringingCount,
} from '../console/ring.js';
import { refreshHours } from './hours.js';
import { setClaimUser, claimPop, wasPopped, markPopped } from '../console/popup-claim.js';
import { initSettings, loadSettings, currentSettings } from '../console/settings.js';
import {
  initPopups,
  openPopup,
  hideBlocked,
  updateBlocked,
  closeNotification,
  closeAllNotifications,
  popTrigger,
  rememberPhase,
  forgetPhases,
  recentEnough,
  missedWithoutPop,
  setDialpadUser,
} from '../console/popups.js';
import { api } from './api.js';
import { mountBanners, noticeRecovered, noticeMissed } from '../console/banners.js';

export const socket = new CtiSocket();

/**
 * What the page hears, for the page's own use (the console's list): `call` {call, msg, replay}
 * for every call message, `customer` {customer} for `customer_changed`, `claim` {callId, by},
 * `wrapup` {msg} for `call_wrapup`, `authlost`.
 */
export const live = new MessageTarget();

/** callId -> the call as this page last heard it (bounded: the newest calls). */
const calls = new Map();
/** callId -> the last message of the call (with its card): a popup opening shows it at once. */
const messages = new Map();
const MAX_CALLS = 300;

/** The newest state this page knows of a call (or the one given). */
export const knownCall = (call) => calls.get(call.id) ?? call;

let user = null;
let baseTitle = document.title;
/** calls whose pop, triggered by a replayed message, waits for the end of the replay */
const pendingPops = new Set();
const channel = openChannel();
/** When the single popup window last said it is there (0: gone). */
let deskSeenAt = 0;
/** When this page opened the single window (it says it is there only once it has loaded). */
let deskOpenedAt = 0;

// ---------------------------------------------------------------------------------------------
// The tab: title and favicon while a call rings.

function showRinging() {
  const n = user ? ringingCount() : 0;
  document.title = n ? `(${n}) 着信中 - ${baseTitle}` : baseTitle;
  $('link[rel="icon"]')?.setAttribute('href', n ? '/favicon-ringing.svg' : '/favicon.svg');
}

/** The page's own title changed (the console's login): the ringing prefix goes on top of it. */
export function setBaseTitle(title) {
  baseTitle = title;
  showRinging();
}

// ---------------------------------------------------------------------------------------------
// The single reusable window (設定: 1つのウィンドウにまとめる).

const DESK_NAME = 'cti-desk';

export function deskUrl(call) {
  return `${popupUrl({ callId: call.id })}&desk=1`;
}

/**
 * Shows a call in the single window: an open one is asked over the channel (it decides when
 * to switch: never over unsaved text); otherwise the window is opened. False when blocked.
 */
function openInDesk(call) {
  // Open, or opened a moment ago and still loading (a burst: the window must not be sent to
  // each new call before it has even shown the first).
  if (Date.now() - Math.max(deskSeenAt, deskOpenedAt) < DESK_SILENCE_MS) {
    channel.postMessage({ type: 'desk-show', callId: call.id });
    return true;
  }
  // An empty address finds a window of that name without navigating it.
  const win = window.open('', DESK_NAME, POPUP_FEATURES);
  if (!win) return false;
  let blank = true;
  try {
    blank = win.location.href === 'about:blank';
  } catch {
    blank = true;
  }
  if (blank) {
    win.location.replace(deskUrl(call));
    deskOpenedAt = Date.now();
  } else channel.postMessage({ type: 'desk-show', callId: call.id });
  try {
    win.focus();
  } catch {
    /* ignore */
  }
  return true;
}

function openWindow(call) {
  return currentSettings().popupMode === 'single' ? openInDesk(call) : openCallPopup(call);
}

// ---------------------------------------------------------------------------------------------
// The channel: tell the popups what this page hears; answer their questions.

function liveCalls() {
  return [...calls.values()].filter((c) => LIVE_PHASES.has(c.phase));
}

function tellPopups(call) {
  channel.postMessage({ type: 'call', call, autoCloseSecs: currentSettings().autoCloseSecs });
}

channel.addEventListener('message', (ev) => {
  const m = ev.data;
  if (!m || typeof m !== 'object') return;
  if (m.type === 'desk-here') deskSeenAt = Date.now();
  else if (m.type === 'desk-gone') {
    deskSeenAt = 0;
    deskOpenedAt = 0;
  } else if (m.type === 'call?' && user && messages.has(String(m.callId))) {
    channel.postMessage({ type: 'call-msg', msg: messages.get(String(m.callId)) });
  } else if (m.type === 'calls?' && user) {
    channel.postMessage({
      type: 'calls',
      calls: liveCalls(),
      autoCloseSecs: currentSettings().autoCloseSecs,
    });
  }
});

/** Someone logged in on this page: popups whose session had ended look again. */
export function announceLogin(u) {
  channel.postMessage({ type: 'login', userId: u.id });
}

// ---------------------------------------------------------------------------------------------
// Connection: the indicator, and a banner when the connection is lost for longer than a blink.

const CONN_BANNER_DELAY_MS = 3_000;
let connBannerTimer = null;

socket.addEventListener('status', (ev) => {
  clearTimeout(connBannerTimer);
  connBannerTimer = null;
  const banner = $('#conn-banner');
  if (!banner) return;
  if (ev.detail === 'reconnecting') {
    if (banner.hidden) {
      connBannerTimer = setTimeout(() => {
        banner.hidden = socket.status !== 'reconnecting';
      }, CONN_BANNER_DELAY_MS);
    }
  } else {
    banner.hidden = true;
  }
});

socket.addEventListener('authlost', () => live.dispatchEvent(new CustomEvent('authlost')));

// ---------------------------------------------------------------------------------------------
// Call messages. The socket delivers each once (seq dedupe in CtiSocket), in order.

let latest = knownCall;

function popFor(call) {
  claimPop(call.id).then((mine) => {
    if (mine && user) openPopup(latest(call));
  });
}

function remember(call, msg) {
  calls.delete(call.id);
  calls.set(call.id, call);
  while (calls.size > MAX_CALLS) calls.delete(calls.keys().next().value);
  // The card (customer) stays from the pop: later messages of the call may carry it again.
  const prev = messages.get(call.id);
  messages.delete(call.id);
  messages.set(
    call.id,
    prev && !msg.customer && prev.customer ? { ...msg, customer: prev.customer } : msg,
  );
  while (messages.size > MAX_CALLS) messages.delete(messages.keys().next().value);
}

socket.addEventListener('message', (ev) => {
  const { msg, replay, catchUp } = ev.detail;
  if (msg.type === MessageType.CUSTOMER_CHANGED) {
    applyCustomer(msg.customer);
    live.dispatchEvent(new CustomEvent('customer', { detail: { customer: msg.customer, msg } }));
    return;
  }
  if (msg.type === MessageType.CALLBACKS_CHANGED) {
    refreshCallbackCount();
    return;
  }
  if (msg.type === MessageType.CALLS_RECOVERED) {
    noticeRecovered(msg);
    return;
  }
  if (msg.type !== MessageType.INCOMING_CALL && msg.type !== MessageType.CALL_STATE) return;
  if (!msg.callId) return;
  const id = String(msg.callId);
  const prevPhase = rememberPhase(id, msg.phase);
  const call = callFromMessage({ ...msg, callId: id }, calls.get(id));
  remember(call, { ...msg, callId: id });
  live.dispatchEvent(
    new CustomEvent('call', { detail: { call, msg: { ...msg, callId: id }, replay } }),
  );
  const current = latest(call);
  if (popTrigger(msg, prevPhase)) {
    // A replayed call pops only if it is still going on once the replay is complete; a fresh
    // page's catch-up pops only calls that started ringing in the last minute (the others
    // are listed: a first login must not open a window per live call).
    if (catchUp && !recentEnough(current)) {
      /* listed, not popped */
    } else if (replay) pendingPops.add(id);
    else popFor(current);
  } else if (LIVE_PHASES.has(call.phase) && wasPopped(id)) {
    markPopped(id); // a long call stays "popped" for as long as it goes on
  }
  if (!LIVE_PHASES.has(call.phase)) closeNotification(id);
  if (!replay && missedWithoutPop(msg, prevPhase) && !wasPopped(id)) noticeMissed(current);
  updateBlocked(current);
  trackRinging(call);
  updateRinging();
  showRinging();
  tellPopups(current);
});

// 対応中: someone at another console has the call.
socket.addEventListener('claim', (ev) =>
  live.dispatchEvent(new CustomEvent('claim', { detail: ev.detail })),
);

// A wrap-up was saved (用件 on the rows; 対応中 is over).
socket.addEventListener('message', (ev) => {
  if (ev.detail.msg.type === MessageType.CALL_WRAPUP)
    live.dispatchEvent(new CustomEvent('wrapup', { detail: { msg: ev.detail.msg } }));
});

// After a reconnect, pop only the replayed calls that are still going on.
socket.addEventListener('synced', () => {
  const ids = [...pendingPops];
  pendingPops.clear();
  for (const id of ids) {
    const call = calls.get(id);
    if (call && LIVE_PHASES.has(call.phase)) popFor(latest(call));
  }
});

/** A registered or renamed customer: the calls from their numbers carry the new name. */
function applyCustomer(customer) {
  const phones = new Set(Array.isArray(customer?.phones) ? customer.phones : []);
  if (!customer?.name || !phones.size) return;
  for (const call of [...calls.values()]) {
    if (phones.has(call.caller) && call.customerName !== customer.name)
      calls.set(call.id, { ...call, customerName: customer.name });
  }
}

// ---------------------------------------------------------------------------------------------
// Start and stop

let wired = false;

/**
 * Wires the listener into the page once: the banners go at the top of `mount`, the header's
 * indicator (`#conn`) follows the socket. `latestCall(call)` may give a newer state of a call
 * (the console's list).
 */
/**
 * @param {{ mount?: Element, latestCall?: (call: any) => any }} [opts]
 */
export function initListener({ mount, latestCall } = {}) {
  if (wired) return;
  wired = true;
  mountBanners(mount);
  if (latestCall) latest = (call) => latestCall(knownCall(call));
  const conn = $('#conn');
  const status = $('#conn-status');
  if (conn && status) showConnection(socket, conn, status);
  initRing(() => Boolean(user) && currentSettings().ringSound);
  initSettings({ changed: updateRinging, ringTurnedOn: unlockRing });
  initPopups(latest, openWindow);
}

/** `u` is signed in: listen for their calls. `previous`: who was signed in before, if anyone. */
export function startListening(u, previous = null) {
  initListener();
  if (previous && previous.id !== u.id) {
    clearCalls();
    socket.reset();
  }
  user = u;
  setClaimUser(u);
  loadSettings(u);
  // Who this account answers as in Dialpad (応答時 mode pops only that user's calls). The login
  // answer does not carry it; /api/auth/me does.
  setDialpadUser(u.dialpadUserId ?? null);
  if (!('dialpadUserId' in u)) {
    api('/api/auth/me')
      .then((r) => {
        if (user === u) setDialpadUser(r.user?.dialpadUserId ?? null);
      })
      .catch(() => {});
  }
  refreshHours({ force: true }); // 時間外 and the muted ring decide from it at once
  socket.start();
}

/** Stops listening (the login form shows, or the session is gone). */
export function stopListening() {
  socket.stop();
  user = null;
  clearRinging();
  closeAllNotifications();
  showRinging();
}

/** After a logout: forget this user's calls. */
export function forgetCalls() {
  clearCalls();
  socket.reset();
}

function clearCalls() {
  calls.clear();
  messages.clear();
  pendingPops.clear();
  forgetPhases();
  clearRinging();
  hideBlocked();
  const missed = $('#missed-notice');
  if (missed) missed.hidden = true;
  showRinging();
}

/** Whether a call is going on that this page knows of (ringing, connected, on hold). */
export function hasLiveCall() {
  return liveCalls().length > 0;
}
