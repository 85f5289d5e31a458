// @ts-check
// The staff console (/admin/): the call list beside the call listener that every signed-in
// page runs (lib/listener.js: the socket, the pops, the ring, the banners). A login starts the
// listener and the list; every call message updates the list. Several tabs may be open at once.
import './lib/header.js'; // first: the other modules look up the header's nodes
import { $ } from './lib/dom.js';
import { showUser } from './lib/header.js';
import { showFirstRun } from './console/first-run.js';
import { TEXT } from './lib/messages.js';
import { initSession, showLogin, currentUser } from './console/session.js';
import { markPopped } from './console/popup-claim.js';
import { openPopup } from './console/popups.js';
import {
  initCallList,
  listedCall,
  callFromMessage,
  upsertCall,
  clearList,
  loadRecent,
  markClaimed,
  applyCustomer,
  applyWrapup,
} from './console/call-list.js';
import { showTestCall } from './console/test-call.js';
import {
  live,
  initListener,
  startListening,
  stopListening,
  forgetCalls,
  setBaseTitle,
  announceLogin,
} from './lib/listener.js';

const ui = {
  callsNote: $('#calls-note'),
};

initListener({ mount: $('#console-view'), latestCall: (call) => listedCall(call.id) ?? call });
initCallList((call) => {
  markPopped(call.id);
  openPopup(call);
});

live.addEventListener('call', (ev) => {
  const { msg } = ev.detail;
  upsertCall(callFromMessage(msg, listedCall(msg.callId)));
});
live.addEventListener('customer', (ev) => applyCustomer(ev.detail.customer));
live.addEventListener('claim', (ev) => markClaimed(ev.detail.callId, ev.detail.by));
live.addEventListener('wrapup', (ev) => applyWrapup(ev.detail.msg));
live.addEventListener('authlost', () => showLogin(TEXT.sessionLost));

// ---------------------------------------------------------------------------------------------
// Session

initSession({
  start(user, previous, { loggedIn = false } = {}) {
    if (previous && previous.id !== user.id) clearList();
    setBaseTitle(document.title);
    startListening(user, previous);
    if (loggedIn) announceLogin(user);
    showTestCall(user);
    showFirstRun(user);
    ui.callsNote.textContent = user.role === 'admin' ? '全店舗' : '';
    showUser(user).then((store) => {
      if (store && currentUser() === user) ui.callsNote.textContent = `${store}のみ`;
    });
    loadRecent();
  },
  stop() {
    stopListening();
  },
  logout() {
    showFirstRun(null);
    clearList();
    forgetCalls();
  },
});
