// @ts-check
// The popup's shared state and views: the call it is for (the address carries the call id
// only; the caller's number comes from the lookup: numbers in addresses end up in logs), what
// the lookup and the messages told it, which view shows, the title and the store line, and the
// lookup of the call that every part asks again when something changed.
import { $ } from '../lib/dom.js';
import { api } from '../lib/api.js';
import { fmtPhone } from '../lib/format.js';
import { refreshHistory, hideHistory } from './history.js';
import { setStory } from './story.js';

/** The call this popup is for (null: opened without one). */
export const callId = new URLSearchParams(location.search).get('callId') || null;

export const ui = {
  callerNumber: $('#caller-number'),
  callDetails: $('#call-details'),
  storeName: $('#store-name'),
  conn: $('#conn'),
  connStatus: $('#conn-status'),
  loading: $('#loading'),
  authView: $('#auth-view'),
  errorView: $('#error-view'),
  errorText: $('#error-text'),
  retry: $('#retry'),
  withheldView: $('#withheld-view'),
  unknownView: $('#unknown-view'),
  unknownNumber: $('#unknown-number'),
  unknownStore: $('#unknown-store'),
  otherStoreView: $('#other-store-view'),
  otherStoreNumber: $('#other-store-number'),
  sharedCard: $('#shared-card'),
  sharedHome: $('#shared-home'),
  sharedName: $('#shared-name'),
  sharedKana: $('#shared-kana'),
  sharedBadges: $('#shared-badges'),
  sharedNotes: $('#shared-notes'),
  lead: $('#lead'),
  registerForm: $('#register-form'),
  registerError: $('#register-error'),
  registerSubmit: $('#register-submit'),
  pickerView: $('#picker-view'),
  candidates: $('#candidates'),
  customerView: $('#customer-view'),
  customerCard: $('#customer-view .customer-card'),
  customerName: $('#customer-name'),
  customerKana: $('#customer-kana'),
  customerBadges: $('#customer-badges'),
  customerPhones: $('#customer-phones'),
  homeStore: $('#home-store'),
  backToPicker: $('#back-to-picker'),
  notes: $('#notes'),
  notesEmpty: $('#notes-empty'),
  usage: $('#usage'),
  historyView: $('#history-view'),
};

export const state = {
  /** the caller's number, as the lookup of the call gave it ('' when withheld) */
  phone: '',
  /** @type {{ id: number | null, name: string } | null} store the call came in on */
  store: null,
  /** @type {any} the card shown */
  customer: null,
  /** @type {any[]} */
  candidates: [],
  /** @type {any[]} latest notes of `notesFor` (a customer id), newest first */
  notes: [],
  /** @type {number | null} */
  notesFor: null,
  /** the lookup's `canEdit` for the one customer it answered (candidates: the server decides) */
  canEdit: true,
};

/** @typedef {'loading' | 'authView' | 'errorView' | 'withheldView' | 'otherStoreView' | 'unknownView' | 'pickerView' | 'customerView'} View */

/** @type {readonly View[]} */
const VIEWS = [
  'loading',
  'authView',
  'errorView',
  'withheldView',
  'otherStoreView',
  'unknownView',
  'pickerView',
  'customerView',
];

/** @param {View} view */
export function show(view) {
  for (const v of VIEWS) ui[v].hidden = v !== view;
  // A view shown whole: pop-card.js's head of the card (the name first) is over.
  delete document.body.dataset.popHead;
  // The story, who answered and the next steps sit right under the view's head (the name,
  // or the banner), above the rest of it; they wait at the end while there is no caller.
  const slot = ui[view].querySelector('[data-lead-slot]');
  if (slot) {
    if (ui.lead.parentNode !== slot) slot.append(ui.lead);
  } else if (ui.lead.parentNode !== ui.historyView.parentNode) {
    ui.historyView.before(ui.lead);
  }
}

/** The view on screen. */
export const currentView = () => VIEWS.find((v) => !ui[v].hidden);

export function setTitle() {
  const who = state.customer?.name || (state.phone ? fmtPhone(state.phone) : '非通知');
  document.title = `着信 - ${who}`;
}

export function renderStore() {
  const name = state.store?.name ?? '不明';
  ui.storeName.textContent = name;
  ui.unknownStore.textContent = name;
}

/** The session is gone: say so (the popup holds nothing else then). */
export function showAuth() {
  show('authView');
  hideHistory();
  document.title = '着信 - ログインしてください';
}

/** @param {unknown} v */
export const listOf = (v) => (Array.isArray(v) ? v : []);

/**
 * The popup lookup of this call: its numbers, the caller's records and the line's store.
 * @returns {Promise<any>}
 */
export function fetchLookup() {
  return api('/api/customers/lookup', { method: 'POST', body: { callId } });
}

/**
 * Asks the lookup again after a change and brings the number's history and 前回までの対応 up
 * to date. Resolves with the lookup's answer, or null when it failed (the popup keeps what it
 * shows).
 * @returns {Promise<any>}
 */
export async function refreshRecords() {
  let data;
  try {
    data = await fetchLookup();
  } catch {
    return null;
  }
  refreshHistory(listOf(data.history));
  setStory(listOf(data.wrapups));
  return data;
}
