// @ts-check
// Live updates for this call over the popup's own socket: the call's state and details, its
// wrap-up and who has it (対応中), and a customer with the caller's number registered, renamed
// or merged elsewhere.
import { setChildren } from '../lib/dom.js';
import { callDetails, hasDetails } from '../lib/call-details.js';
import { CtiSocket, showConnection } from '../lib/socket.js';
import { claimOnWrapup } from './claim.js';
import { applyCall } from './call-state.js';
import { memoSaving } from './memo.js';
import { updateHistoryFrom, historyEntry } from './history.js';
import * as frontDesk from './front-desk.js';
import { renderCustomer, renderPicker, renderRefreshed } from './card.js';
import { early } from './early.js';
import { MessageType } from '../lib/protocol.js';
import {
  ui,
  state,
  callId,
  currentView,
  setTitle,
  renderStore,
  showAuth,
  listOf,
  refreshRecords,
} from './view.js';

/**
 * Whether card `a` is a newer state of the card `b` shown (none shown: any card is).
 * @param {any} a
 * @param {any} b
 */
export function isNewer(a, b) {
  if (!b) return true;
  if (a.id !== b.id) return false;
  return String(a.updatedAt ?? '') > String(b.updatedAt ?? '');
}

/** The card on screen, unless it is the record that was merged away (`mergedFrom`). */
const shownCard = (/** @type {number | undefined} */ mergedFrom) =>
  currentView() === 'customerView' && state.customer && state.customer.id !== mergedFrom;

/**
 * A customer with this caller's number was registered or renamed elsewhere (another popup, the
 * 顧客 page): show the record as a fresh lookup has it, unless the user is typing in it. When the
 * record on screen was merged into another (`mergedFrom`), the one kept replaces it.
 * @param {any} customer
 * @param {number | undefined} mergedFrom
 */
async function customerChanged(customer, mergedFrom) {
  if (!state.phone || !Array.isArray(customer?.phones) || !customer.phones.includes(state.phone))
    return;
  if (
    !['unknownView', 'otherStoreView', 'customerView', 'pickerView'].includes(currentView()) ||
    memoSaving()
  )
    return;
  if (shownCard(mergedFrom)) {
    // The record on screen: its new name only. The rest (and its version) stays as loaded, so
    // a memo edit under way still meets a conflict rather than silently building on text the
    // user has not seen.
    if (state.customer.id !== customer.id || typeof customer.name !== 'string') return;
    state.customer = { ...state.customer, name: customer.name };
    ui.customerName.textContent = customer.name;
    setTitle();
    return;
  }
  const data = await refreshRecords();
  if (!data) return;
  state.candidates = listOf(data.candidates);
  // Meanwhile the user registered or picked someone (the message can arrive before their own
  // registration's answer): that record stays on screen.
  if (shownCard(mergedFrom)) return;
  state.canEdit = data.customer ? data.canEdit !== false : true;
  if (data.customer) renderRefreshed(data);
  else if (state.candidates.length > 1) renderPicker();
}

/** A message of this call: its state, details, the card it carries. @param {any} msg */
function callMessage(msg) {
  early.show(msg);
  if (msg.store?.name && (!state.store || state.store.id === null)) {
    state.store = msg.store;
    renderStore();
  }
  applyCall(msg, true);
  updateHistoryFrom(msg);
  frontDesk.onCallMessage(msg);
  if (hasDetails(msg)) {
    setChildren(ui.callDetails, callDetails(msg));
    ui.callDetails.hidden = false;
  }
  const view = currentView();
  if (
    msg.customer &&
    (view === 'customerView' || view === 'unknownView') &&
    isNewer(msg.customer, state.customer)
  ) {
    renderCustomer(msg.customer);
  }
}

/** Opens the popup's socket (closed while the page sleeps in the back/forward cache). */
export function startSocket() {
  const socket = new CtiSocket();
  showConnection(socket, ui.conn, ui.connStatus);
  socket.addEventListener('authlost', showAuth);
  socket.addEventListener('message', (ev) => {
    const { msg } = ev.detail;
    if (msg.type === MessageType.CUSTOMER_CHANGED) {
      customerChanged(msg.customer, msg.mergedFrom);
    } else if (msg.type === MessageType.CALL_WRAPUP) {
      if (msg.callId === callId) frontDesk.onWrapupSaved(msg);
      // Someone saved a wrap-up of one of the number's calls: 前回までの対応 and the history follow.
      if (msg.callId === callId || historyEntry(msg.callId)) refreshRecords();
    } else if (msg.callId === callId) {
      callMessage(msg);
    }
  });
  // 対応中: someone (this user too) has the call: every popup of it says who, live.
  socket.addEventListener('claim', (ev) => {
    if (ev.detail?.callId === callId) frontDesk.showClaim(ev.detail.by);
  });
  claimOnWrapup(socket, callId, document.querySelector('#wrapup-form'));
  socket.start();
  window.addEventListener('pagehide', () => socket.stop());
  window.addEventListener('pageshow', (ev) => {
    if (ev.persisted) socket.start();
  });
}
