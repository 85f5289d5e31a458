// The call popup: who is calling (the name first), the live state of the call, the number's
// last wrap-ups (story.js), registration of new callers (never for another store's customer:
// 他店舗のお客様です), the memo (memo.js), the latest notes and the number's call history.
import { callDetails, hasDetails } from '../lib/call-details.js';
import { $, el, setChildren } from '../lib/dom.js';
import { api } from '../lib/api.js';
import { clearFormErrors, showFormError } from '../lib/forms.js';
import { fmtPhone, fmtDate, fmtDateTime, fmtYen, fmtCount } from '../lib/format.js';
import { customerBadges } from '../lib/customer.js';
import { renderNotes as renderNoteList, mountNoteForm } from '../lib/notes.js';
import { CtiSocket, showConnection } from '../lib/socket.js';
import { claimOnWrapup } from './claim.js';
import { TEXT } from '../lib/messages.js';
import { initCallState, applyCall } from './call-state.js';
import { initMemo, showMemoText, resetMemoEditor, memoSaving, setMemoEditable } from './memo.js';
import { initHistory, setHistory, refreshHistory, updateHistoryFrom, hideHistory, previousCallBefore, historyEntry } from './history.js';
import { initStory, setStory } from './story.js';
import * as frontDesk from './front-desk.js';
import { sharedNumberGuard } from '../lib/shared-numbers.js';
import { onCallMessage } from './live-link.js';
import { renderCardFields } from './fields.js';

// The address carries the call id only; the caller's number comes from the lookup (numbers in
// addresses end up in logs).
const params = new URLSearchParams(location.search);
const callId = params.get('callId') || null;
/** the caller's number, as the lookup of the call gave it ('' when withheld) */
let phone = '';

const ui = {
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

const state = {
  /** store the call came in on: {id, name} */
  store: null,
  customer: null,
  candidates: [],
  /** latest notes of `notesFor` (a customer id), newest first */
  notes: [],
  notesFor: null,
  /** the lookup's `canEdit` for the one customer it answered (candidates: the server decides) */
  canEdit: true,
};

const NOTES_SHOWN = 3;

const VIEWS = ['loading', 'authView', 'errorView', 'withheldView', 'otherStoreView', 'unknownView', 'pickerView', 'customerView'];
function show(view) {
  for (const v of VIEWS) ui[v].hidden = v !== view;
  // The story, who answered and the next steps sit right under the view's head (the name,
  // or the banner), above the rest of it; they wait at the end while there is no caller.
  const slot = ui[view].querySelector('[data-lead-slot]');
  if (slot) {
    if (ui.lead.parentNode !== slot) slot.append(ui.lead);
  } else if (ui.lead.parentNode !== ui.historyView.parentNode) {
    ui.historyView.before(ui.lead);
  }
}

function setTitle() {
  const who = state.customer?.name || (phone ? fmtPhone(phone) : '非通知');
  document.title = `着信 - ${who}`;
}

function renderStore() {
  const name = state.store?.name ?? '不明';
  ui.storeName.textContent = name;
  ui.unknownStore.textContent = name;
}

// ---------------------------------------------------------------------------------------------
// Customer

function usageItem(label, value, cls) {
  return el('div', { class: ['usage-item', cls] }, el('dt', { text: label }), el('dd', { text: value }));
}

function renderCustomer(card, { fromPicker = false, notes } = {}) {
  const other = state.customer?.id !== card.id;
  state.customer = card;
  if (other) resetMemoEditor();
  ui.customerName.textContent = card.name;
  ui.customerKana.textContent = card.kana || '';
  ui.customerKana.hidden = !card.kana;
  setChildren(ui.customerBadges, customerBadges(card));
  ui.customerPhones.textContent = (card.phones ?? []).map(fmtPhone).join(' / ') || fmtPhone(phone);
  renderCardFields(card);
  const home = card.homeStore;
  if (home && home.name && home.name !== state.store?.name) {
    ui.homeStore.textContent = `登録店舗: ${home.name}`;
    ui.homeStore.hidden = false;
  } else {
    ui.homeStore.hidden = true;
  }
  ui.customerCard.dataset.flag = card.flag ?? '';
  ui.customerCard.dataset.type = card.customerType ?? '';
  ui.backToPicker.hidden = !(fromPicker && state.candidates.length > 1);

  showMemoText(card.memo);
  setMemoEditable(state.canEdit);
  if (notes) {
    setNotes(card.id, notes);
  } else if (state.notesFor !== card.id) {
    state.notes = [];
    state.notesFor = card.id;
    renderNotes();
    loadNotes(card.id);
  }

  const u = card.usage ?? {};
  setChildren(
    ui.usage,
    usageItem('来店回数', fmtCount(u.visits, '回')),
    usageItem('累計利用額', fmtYen(u.totalSpend)),
    usageItem('最終来店', u.lastVisit ? fmtDate(u.lastVisit) : '—'),
    usageItem('着信回数', fmtCount(u.calls, '回')),
    usageItem('最終着信', lastCallText(u.lastCall)),
    usageItem('30日以内の不在着信', fmtCount(u.missed30d, '件'), u.missed30d > 0 ? 'usage-alert' : null),
  );
  show('customerView');
  setTitle();
  frontDesk.setCaller({ phone, customer: card, store: state.store });
}

/** 最終着信 is the call before this one: the call ringing now is not "the last call". */
function lastCallText(lastCall) {
  let at = lastCall ?? null;
  const known = previousCallBefore();
  if (known && at !== null && Number(at) >= known.thisCall) at = known.previous;
  return at ? fmtDateTime(at) : '—';
}

function renderPicker() {
  setChildren(
    ui.candidates,
    state.candidates.map((card) =>
      el(
        'li',
        {},
        el(
          'button',
          { class: 'picker-item', attrs: { type: 'button' }, on: { click: () => renderCustomer(card, { fromPicker: true }) } },
          el(
            'span',
            { class: 'picker-main' },
            el('span', { class: 'picker-name', text: card.name }),
            card.kana ? el('span', { class: 'picker-kana', text: card.kana }) : null,
          ),
          el('span', { class: 'picker-side' }, customerBadges(card), card.homeStore ? el('span', { class: 'muted small', text: card.homeStore.name }) : null),
        ),
      ),
    ),
  );
  show('pickerView');
  setTitle();
  frontDesk.setCaller({ phone, store: state.store });
}

ui.backToPicker.addEventListener('click', () => {
  state.customer = null;
  renderPicker();
});

function renderUnknown() {
  registerShared.reset();
  ui.unknownNumber.textContent = fmtPhone(phone);
  renderStore();
  show('unknownView');
  setTitle();
  frontDesk.setCaller({ phone, store: state.store });
  ui.registerForm.elements.name.focus();
}

/** The number belongs to another store's customer: said up front, and no registration. */
function renderOtherStore() {
  ui.otherStoreNumber.textContent = fmtPhone(phone);
  renderStore();
  show('otherStoreView');
  setTitle();
  frontDesk.setCaller({ phone, store: state.store });
}

// ---------------------------------------------------------------------------------------------
// Notes

// 注意 / 苦情 notes are pinned at the top (front-desk.js), so ノート lists the others.
const unpinned = (notes) => notes.filter((n) => !frontDesk.PINNED_TYPES.has(n.noteType));

function renderNotes() {
  renderNoteList(ui.notes, ui.notesEmpty, state.notes);
}

/** The lookup's latest notes; when pinned ones took places among them, the full list fills up. */
function setNotes(id, notes) {
  state.notes = unpinned(notes).slice(0, NOTES_SHOWN);
  state.notesFor = id;
  renderNotes();
  if (state.notes.length < Math.min(NOTES_SHOWN, notes.length)) loadNotes(id);
}

async function loadNotes(id) {
  try {
    const { notes } = await api(`/api/customers/${encodeURIComponent(id)}/notes`);
    if (state.notesFor !== id) return;
    state.notes = unpinned(Array.isArray(notes) ? notes : []).slice(0, NOTES_SHOWN);
    renderNotes();
  } catch {
    /* the rest of the popup works without them */
  }
}

mountNoteForm($('#note-form-slot'), {
  customerId: () => state.customer?.id ?? null,
  onAdded(note, id) {
    if (state.notesFor !== id) return;
    if (frontDesk.PINNED_TYPES.has(note.noteType)) {
      frontDesk.addPinnedNote(note, id);
      return;
    }
    state.notes = [note, ...state.notes].slice(0, NOTES_SHOWN);
    renderNotes();
  },
  onAuthLost: () => showAuth(),
});

// ---------------------------------------------------------------------------------------------
// Lookup

/** The popup lookup of this call: its numbers, the caller's records and the line's store. */
function fetchLookup() {
  return api('/api/customers/lookup', { method: 'POST', body: { callId } });
}

const listOf = (v) => (Array.isArray(v) ? v : []);

async function lookup() {
  if (!early.shown) show('loading');
  let data;
  try {
    data = await fetchLookup();
  } catch (e) {
    if (e.status === 401) {
      showAuth();
    } else if (early.shown) {
      // Who is calling is on screen already (from the pop): say only what is missing.
      early.note(`履歴・ノートを取得できませんでした: ${e.message}`);
    } else {
      ui.errorText.textContent = `顧客情報を取得できませんでした: ${e.message}`;
      show('errorView');
    }
    return;
  }
  early.done();
  state.store = data.store ?? state.store ?? { id: null, name: '不明' };
  renderStore();
  phone = data.phone ?? '';
  ui.callerNumber.textContent = fmtPhone(phone);
  if (!phone) {
    show('withheldView');
    setTitle();
    return;
  }
  const mine = setHistory(listOf(data.history));
  if (mine) applyCall(mine, false);
  setStory(listOf(data.wrapups));
  state.candidates = listOf(data.candidates);
  state.canEdit = data.customer ? data.canEdit !== false : true;
  if (data.customer) {
    renderCustomer(data.customer, { notes: listOf(data.notes) });
  } else if (state.candidates.length > 1) {
    renderPicker();
  } else if (state.candidates.length === 1) {
    renderCustomer(state.candidates[0]);
  } else if (data.otherStore) {
    renderOtherStore();
  } else {
    renderUnknown();
  }
}

/** Someone saved a wrap-up of one of the number's calls: 前回までの対応 and the history follow. */
async function refreshStory() {
  let data;
  try {
    data = await fetchLookup();
  } catch {
    return;
  }
  refreshHistory(listOf(data.history));
  setStory(listOf(data.wrapups));
}

ui.retry.addEventListener('click', lookup);

function showAuth() {
  show('authView');
  hideHistory();
  document.title = '着信 - ログインしてください';
}

// ---------------------------------------------------------------------------------------------
// Registration

// A number another customer has (registered since the lookup, or another store's): a warning
// naming whom this user may see, then 「それでも登録する」.
const registerShared = sharedNumberGuard($('#register-shared'), { form: ui.registerForm, confirmLabel: 'それでも登録する', focusField: 'name' });

ui.registerForm.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  clearFormErrors(ui.registerForm, ui.registerError);
  const f = ui.registerForm.elements;
  const body = {
    name: f.name.value.trim(),
    kana: f.kana.value.trim(),
    memo: f.memo.value,
    phone,
    homeStoreId: state.store?.id ?? null,
  };
  if (!body.name) {
    showFormError(ui.registerForm, ui.registerError, 'name', TEXT.nameRequired);
    return;
  }
  ui.registerSubmit.disabled = true;
  try {
    if (!(await registerShared.check([phone]))) return;
    const res = await api('/api/customers', { method: 'POST', body });
    state.candidates = [];
    state.canEdit = true;
    renderCustomer(res.customer, { notes: [] });
    refreshAfterRegister(res.customer.id);
  } catch (e) {
    if (e.status === 401) showAuth();
    else showFormError(ui.registerForm, ui.registerError, e.field, e.message);
  } finally {
    ui.registerSubmit.disabled = false;
  }
});

/**
 * After registering, the record as any later popup would show it: the number's history (with
 * the call ringing now, which the registration linked to the new customer) and its notes.
 */
async function refreshAfterRegister(id) {
  let data;
  try {
    data = await fetchLookup();
  } catch {
    return; // the view already shows the new customer and the history we had
  }
  refreshHistory(listOf(data.history));
  setStory(listOf(data.wrapups));
  if (data.customer && data.customer.id === id && state.customer?.id === id && !memoSaving()) {
    renderCustomer(data.customer, { notes: listOf(data.notes) });
  }
}

initMemo({ customer: () => state.customer, show: (card) => renderCustomer(card), authLost: showAuth });

// ---------------------------------------------------------------------------------------------
// Live updates for this call

function isNewer(a, b) {
  if (!b) return true;
  if (a.id !== b.id) return false;
  return String(a.updatedAt ?? '') > String(b.updatedAt ?? '');
}

/**
 * A customer with this caller's number was registered or renamed elsewhere (another popup, the
 * 顧客 page): show the record as a fresh lookup has it, unless the user is typing in it. When the
 * record on screen was merged into another (`mergedFrom`), the one kept replaces it.
 */
async function customerChanged(customer, mergedFrom) {
  if (!phone || !Array.isArray(customer?.phones) || !customer.phones.includes(phone)) return;
  const view = VIEWS.find((v) => !ui[v].hidden);
  if (!['unknownView', 'otherStoreView', 'customerView', 'pickerView'].includes(view) || memoSaving()) return;
  if (view === 'customerView' && state.customer && state.customer.id !== mergedFrom) {
    // The record on screen: its new name only. The rest (and its version) stays as loaded, so
    // a memo edit under way still meets a conflict rather than silently building on text the
    // user has not seen.
    if (state.customer.id !== customer.id || typeof customer.name !== 'string') return;
    state.customer = { ...state.customer, name: customer.name };
    ui.customerName.textContent = customer.name;
    setTitle();
    return;
  }
  let data;
  try {
    data = await fetchLookup();
  } catch {
    return;
  }
  refreshHistory(listOf(data.history));
  setStory(listOf(data.wrapups));
  state.candidates = listOf(data.candidates);
  // Meanwhile the user registered or picked someone (the message can arrive before their own
  // registration's answer): that record stays on screen.
  const shown = VIEWS.find((v) => !ui[v].hidden) === 'customerView' && state.customer && state.customer.id !== mergedFrom;
  if (shown) return;
  state.canEdit = data.customer ? data.canEdit !== false : true;
  if (data.customer) renderCustomer(data.customer, { notes: listOf(data.notes) });
  else if (state.candidates.length > 1) renderPicker();
}

// ---------------------------------------------------------------------------------------------
// The card from the pop: the pop message already carries the caller's card (name, kana, badges,
// numbers, memo's start, usage). It comes from the page that opened this window (over the
// browser's channel) or from this popup's own socket; the popup shows it at once, while its
// lookup (history, notes, who may edit) is still on its way, and keeps it if D1 cannot answer.

const early = {
  shown: false,
  finished: false,
  noteNode: null,
  /** A message of this call with a card, before the lookup answered: show who is calling. */
  show(msg) {
    if (this.finished || this.shown || !msg?.customer || String(msg.callId) !== callId) return;
    this.shown = true;
    state.store = msg.store ?? state.store;
    renderStore();
    phone = msg.customerPhone ?? '';
    ui.callerNumber.textContent = fmtPhone(phone);
    state.canEdit = false; // until the lookup says who may edit
    renderCustomer(msg.customer, { notes: [] });
    document.body.dataset.card = 'pop';
  },
  done() {
    this.finished = true;
    this.noteNode?.remove();
    this.noteNode = null;
    delete document.body.dataset.card;
  },
  note(text) {
    this.noteNode?.remove();
    this.noteNode = el(
      'p',
      { class: 'form-error early-note', attrs: { role: 'alert' } },
      text,
      ' ',
      el('button', { class: 'btn btn-small', text: '再読み込み', attrs: { type: 'button' }, on: { click: lookup } }),
    );
    ui.customerView.prepend(this.noteNode);
  },
};
onCallMessage((msg) => early.show(msg));

function startSocket() {
  const socket = new CtiSocket();
  showConnection(socket, ui.conn, ui.connStatus);
  socket.addEventListener('authlost', showAuth);
  socket.addEventListener('message', (ev) => {
    const { msg } = ev.detail;
    if (msg.type === 'customer_changed') {
      customerChanged(msg.customer, msg.mergedFrom);
      return;
    }
    if (msg.type === 'call_wrapup') {
      if (msg.callId === callId) frontDesk.onWrapupSaved(msg);
      if (msg.callId === callId || historyEntry(msg.callId)) refreshStory();
      return;
    }
    if (msg.callId !== callId) return;
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
    const view = VIEWS.find((v) => !ui[v].hidden);
    if (msg.customer && (view === 'customerView' || view === 'unknownView') && isNewer(msg.customer, state.customer)) {
      renderCustomer(msg.customer);
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

// ---------------------------------------------------------------------------------------------

initHistory(callId);
initStory({ entryOf: historyEntry });
initCallState(Boolean(callId));
frontDesk.initFrontDesk(callId);
setTitle();
if (callId) {
  startSocket();
  lookup();
} else {
  ui.conn.hidden = true;
  renderStore();
  ui.errorText.textContent = '着信が指定されていません。着信一覧から開いてください';
  ui.retry.hidden = true;
  show('errorView');
}
