// The staff console (/admin/): wires the pieces in console/ together. A login starts the live
// socket and the call list; every call message updates the list, may pop the call's window
// (one per call across tabs) and may ring. Several tabs may be open at once.
import './lib/header.js'; // first: the other modules look up the header's nodes
import { $ } from './lib/dom.js';
import { CtiSocket, showConnection } from './lib/socket.js';
import { LIVE_PHASES } from './lib/calls.js';
import { showUser } from './lib/header.js';
import { showFirstRun } from './console/first-run.js';
import { refreshCallbackCount } from './lib/front-desk.js';
import { TEXT } from './lib/messages.js';
import { fmtPhone } from './lib/format.js';
import { initSession, showLogin, currentUser } from './console/session.js';
import { initSettings, loadSettings, currentSettings } from './console/settings.js';
import { initRing, updateRinging, trackRinging, clearRinging, unlockRing, ringingCount } from './console/ring.js';
import { setClaimUser, claimPop, wasPopped, markPopped } from './console/popup-claim.js';
import { initPopups, openPopup, hideBlocked, updateBlocked, closeNotification, closeAllNotifications, popTrigger, rememberPhase, forgetPhases, recentEnough, missedWithoutPop } from './console/popups.js';
import { initCallList, listedCall, callFromMessage, upsertCall, clearList, loadRecent, markClaimed, applyCustomer } from './console/call-list.js';
import { showTestCall } from './console/test-call.js';

const ui = {
  conn: $('#conn'),
  connStatus: $('#conn-status'),
  connBanner: $('#conn-banner'),
  callsNote: $('#calls-note'),
  missed: $('#missed-notice'),
  missedDetail: $('#missed-notice-detail'),
  missedDismiss: $('#missed-notice-dismiss'),
  favicon: $('link[rel="icon"]'),
};

const TITLE = document.title;

const socket = new CtiSocket();
/** calls whose pop, triggered by a replayed message, waits for the end of the replay */
const pendingPops = new Set();

const latest = (call) => listedCall(call.id) ?? call;

initRing(() => Boolean(currentUser()) && currentSettings().ringSound);
initSettings({ changed: updateRinging, ringTurnedOn: unlockRing });
initPopups(latest);
initCallList((call) => {
  markPopped(call.id);
  openPopup(call);
});

function clearCalls() {
  clearList();
  pendingPops.clear();
  forgetPhases();
  clearRinging();
  hideBlocked();
  ui.missed.hidden = true;
  showRinging();
}

/** While a call rings, the tab's title and icon say so: a background tab is noticed. */
function showRinging() {
  const n = currentUser() ? ringingCount() : 0;
  document.title = n ? `(${n}) 着信中 - ${TITLE}` : TITLE;
  ui.favicon?.setAttribute('href', n ? '/favicon-ringing.svg' : '/favicon.svg');
}

/** 応答時 mode: a call that ended unanswered never popped; say so in the console. */
function noticeMissed(call) {
  const who = call.customerName ? `${call.customerName} 様` : '未登録の番号';
  ui.missedDetail.textContent = `${fmtPhone(call.caller)}（${who}）`;
  ui.missed.hidden = false;
}
ui.missedDismiss.addEventListener('click', () => {
  ui.missed.hidden = true;
});

// ---------------------------------------------------------------------------------------------
// Connection: the indicator, and a banner when the connection is lost for longer than a blink.

const CONN_BANNER_DELAY_MS = 3_000;
let connBannerTimer = null;

showConnection(socket, ui.conn, ui.connStatus);
socket.addEventListener('status', (ev) => {
  clearTimeout(connBannerTimer);
  connBannerTimer = null;
  if (ev.detail === 'reconnecting') {
    if (ui.connBanner.hidden) {
      connBannerTimer = setTimeout(() => {
        ui.connBanner.hidden = socket.status !== 'reconnecting';
      }, CONN_BANNER_DELAY_MS);
    }
  } else {
    ui.connBanner.hidden = true;
  }
});

socket.addEventListener('authlost', () => showLogin(TEXT.sessionLost));

// ---------------------------------------------------------------------------------------------
// Call messages. The socket delivers each once (seq dedupe in CtiSocket), in order.

function popFor(call) {
  claimPop(call.id).then((mine) => {
    if (mine && currentUser()) openPopup(latest(call));
  });
}

socket.addEventListener('message', (ev) => {
  const { msg, replay, catchUp } = ev.detail;
  if (msg.type === 'customer_changed') {
    applyCustomer(msg.customer);
    return;
  }
  if (msg.type !== 'incoming_call' && msg.type !== 'call_state') return;
  if (!msg.callId) return;
  const id = String(msg.callId);
  const prevPhase = rememberPhase(id, msg.phase);
  const call = callFromMessage({ ...msg, callId: id }, listedCall(id));
  upsertCall(call);
  if (popTrigger(msg, prevPhase)) {
    // A replayed call pops only if it is still going on once the replay is complete; a fresh
    // console's catch-up pops only calls that started ringing in the last minute (the others
    // are listed: a first login must not open a window per live call).
    if (catchUp && !recentEnough(call)) {
      /* listed, not popped */
    } else if (replay) pendingPops.add(id);
    else popFor(call);
  } else if (LIVE_PHASES.has(call.phase) && wasPopped(id)) {
    markPopped(id); // a long call stays "popped" for as long as it goes on
  }
  if (!LIVE_PHASES.has(call.phase)) closeNotification(id);
  if (!replay && missedWithoutPop(msg, prevPhase) && !wasPopped(id)) noticeMissed(call);
  updateBlocked(call);
  trackRinging(call);
  updateRinging();
  showRinging();
});

// 対応中: someone at another console has the call.
socket.addEventListener('claim', (ev) => markClaimed(ev.detail.callId, ev.detail.by));

// The 折り返し count in the nav follows the hub.
socket.addEventListener('message', (ev) => {
  if (ev.detail.msg.type === 'callbacks_changed') refreshCallbackCount();
});

// After a reconnect, pop only the replayed calls that are still going on.
socket.addEventListener('synced', () => {
  const ids = [...pendingPops];
  pendingPops.clear();
  for (const id of ids) {
    const call = listedCall(id);
    if (call && LIVE_PHASES.has(call.phase)) popFor(call);
  }
});

// ---------------------------------------------------------------------------------------------
// Session

initSession({
  start(user, previous) {
    if (previous && previous.id !== user.id) {
      clearCalls();
      socket.reset();
    }
    setClaimUser(user);
    loadSettings(user);
    showTestCall(user);
    showFirstRun(user);
    ui.callsNote.textContent = user.role === 'admin' ? '全店舗' : '';
    showUser(user).then((store) => {
      if (store && currentUser() === user) ui.callsNote.textContent = `${store}のみ`;
    });
    loadRecent();
    socket.start();
  },
  stop() {
    socket.stop();
    clearRinging();
    closeAllNotifications();
    showRinging();
  },
  logout() {
    showFirstRun(null);
    clearCalls();
    socket.reset();
  },
});
