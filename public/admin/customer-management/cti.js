// The call popup: who is calling, the live state of the call, registration of new callers,
// the memo (edited in place, versioned) and the latest notes.
import {
  $,
  el,
  setChildren,
  clearFormErrors,
  showFormError,
  api,
  apiRequest,
  noteItem,
  noteTypeOptions,
  submitNote,
  CtiSocket,
  CONN_LABELS,
  LIVE_PHASES,
  phaseLabel,
  badgeClass,
  fmtPhone,
  fmtDate,
  fmtDateTime,
  fmtDuration,
  fmtYen,
  fmtCount,
} from '../common.js';

const params = new URLSearchParams(location.search);
const callId = params.get('callId') || null;
const phone = (params.get('phone') ?? '').trim();
const incoming = (params.get('incoming') ?? '').trim();

const ui = {
  callState: $('#call-state'),
  callerNumber: $('#caller-number'),
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
  memo: $('#memo'),
  memoEdit: $('#memo-edit'),
  memoForm: $('#memo-form'),
  memoInput: $('#memo-input'),
  memoSave: $('#memo-save'),
  memoCancel: $('#memo-cancel'),
  memoStatus: $('#memo-status'),
  memoConflict: $('#memo-conflict'),
  memoCurrent: $('#memo-current'),
  notes: $('#notes'),
  notesEmpty: $('#notes-empty'),
  noteForm: $('#note-form'),
  noteType: $('#note-type'),
  noteBody: $('#note-body'),
  noteSubmit: $('#note-submit'),
  noteError: $('#note-error'),
  usage: $('#usage'),
  historyView: $('#history-view'),
  history: $('#history'),
  historyEmpty: $('#history-empty'),
};

const state = {
  /** store the call came in on: {id, name} */
  store: null,
  customer: null,
  candidates: [],
  history: [],
  /** live state of this call; `fromSocket` once the hub has told us anything */
  call: callId ? { phase: 'ringing', state: 'ringing', connectedAt: null, durationMs: null, fromSocket: false } : null,
  timer: null,
  /** latest notes of `notesFor` (a customer id), newest first */
  notes: [],
  notesFor: null,
  /** the memo editor: the version the edit is based on, and whether a save is under way */
  memoEdit: { open: false, baseVersion: null, saving: false },
};

const NOTES_SHOWN = 3;

const VIEWS = ['loading', 'authView', 'errorView', 'withheldView', 'unknownView', 'pickerView', 'customerView'];
function show(view) {
  for (const v of VIEWS) ui[v].hidden = v !== view;
}

function setTitle() {
  const who = state.customer?.name || (phone ? fmtPhone(phone) : '非通知');
  document.title = `着信 - ${who}`;
}

// ---------------------------------------------------------------------------------------------
// Header: number, store, call state

function renderStore() {
  const name = state.store?.name ?? '不明';
  ui.storeName.textContent = name;
  ui.unknownStore.textContent = name;
}

function renderCallState() {
  clearInterval(state.timer);
  state.timer = null;
  const c = state.call;
  if (!c) {
    ui.callState.hidden = true;
    return;
  }
  ui.callState.hidden = false;
  ui.callState.dataset.phase = c.phase;
  const label = el('span', { class: 'call-state-label', text: phaseLabel(c.phase) });
  let extra = null;
  if (c.phase === 'connected' || c.phase === 'hold') {
    const since = c.connectedAt ?? (c.connectedAt = Date.now());
    extra = el('span', { class: 'call-timer mono' });
    const tick = () => {
      extra.textContent = fmtDuration(Date.now() - since);
    };
    tick();
    state.timer = setInterval(tick, 1000);
  } else if (c.phase === 'ended' && c.durationMs) {
    extra = el('span', { class: 'call-timer mono', text: `(${fmtDuration(c.durationMs)})` });
  }
  setChildren(ui.callState, el('span', { class: 'pulse', attrs: { 'aria-hidden': 'true' } }), label, extra ? ' ' : null, extra);
}

/** Applies a call-log entry or a socket message about this call. */
function applyCall(src, fromSocket) {
  if (!state.call) return;
  if (!fromSocket && state.call.fromSocket) return; // the hub's word is newer than the lookup
  state.call = {
    phase: src.phase || state.call.phase,
    state: src.state || state.call.state,
    connectedAt: src.connectedAt ?? (src.phase === state.call.phase ? state.call.connectedAt : null),
    durationMs: src.durationMs ?? null,
    fromSocket: fromSocket || state.call.fromSocket,
  };
  renderCallState();
}

// ---------------------------------------------------------------------------------------------
// Customer

function badges(card) {
  return [
    card.customerType ? el('span', { class: badgeClass(card.customerType), text: card.customerType }) : null,
    card.flag ? el('span', { class: badgeClass(card.flag), text: card.flag }) : null,
  ];
}

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
  setChildren(ui.customerBadges, badges(card));
  ui.customerPhones.textContent = (card.phones ?? []).map(fmtPhone).join(' / ') || fmtPhone(phone);
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
  if (notes) {
    state.notes = notes.slice(0, NOTES_SHOWN);
    state.notesFor = card.id;
    renderNotes();
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
    usageItem('最終着信', u.lastCall ? fmtDateTime(u.lastCall) : '—'),
    usageItem('30日以内の不在着信', fmtCount(u.missed30d, '件'), u.missed30d > 0 ? 'usage-alert' : null),
  );
  show('customerView');
  setTitle();
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
          el('span', { class: 'picker-side' }, badges(card), card.homeStore ? el('span', { class: 'muted small', text: card.homeStore.name }) : null),
        ),
      ),
    ),
  );
  show('pickerView');
  setTitle();
}

ui.backToPicker.addEventListener('click', () => {
  state.customer = null;
  renderPicker();
});

function renderUnknown() {
  ui.unknownNumber.textContent = fmtPhone(phone);
  renderStore();
  show('unknownView');
  setTitle();
  ui.registerForm.elements.name.focus();
}

// ---------------------------------------------------------------------------------------------
// History

function renderHistory() {
  const items = state.history.slice(0, 10).map((h) => {
    const current = callId && h.id === callId;
    return el(
      'li',
      { class: ['history-item', current && 'current'], dataset: { callId: h.id } },
      el('span', { class: 'h-date', text: fmtDateTime(h.startedAt) }),
      el(
        'span',
        { class: 'h-store' },
        h.storeName ?? '不明',
        current ? el('span', { class: 'badge badge-current', text: 'この通話' }) : null,
        h.isTest ? el('span', { class: 'badge badge-test', text: 'テスト' }) : null,
      ),
      el('span', { class: 'h-state' }, el('span', { class: `state state-${h.phase}`, text: phaseLabel(h.phase) })),
      el('span', { class: 'h-duration mono', text: h.durationMs ? fmtDuration(h.durationMs) : '' }),
    );
  });
  setChildren(ui.history, items);
  ui.historyEmpty.hidden = items.length > 0;
  ui.historyView.hidden = false;
}

/** Keeps this call's history row in step with the live state. */
function updateHistoryFrom(msg) {
  if (!state.history.length && ui.historyView.hidden) return; // lookup not back yet
  let h = state.history.find((x) => x.id === msg.callId);
  if (!h) {
    h = {
      id: msg.callId,
      storeName: msg.store?.name ?? null,
      startedAt: Date.parse(msg.timestamp) || Date.now(),
      isTest: msg.isTest,
    };
    state.history.unshift(h);
  }
  h.phase = msg.phase;
  h.state = msg.state;
  h.durationMs = msg.durationMs ?? h.durationMs ?? null;
  renderHistory();
}

// ---------------------------------------------------------------------------------------------
// Lookup

async function lookup() {
  show('loading');
  const q = new URLSearchParams({ phone });
  if (incoming) q.set('incoming', incoming);
  let data;
  try {
    data = await api(`/api/customers/lookup?${q}`);
  } catch (e) {
    if (e.status === 401) {
      showAuth();
    } else {
      ui.errorText.textContent = `顧客情報を取得できませんでした: ${e.message}`;
      show('errorView');
    }
    return;
  }
  state.store = data.store ?? state.store ?? { id: null, name: '不明' };
  renderStore();
  state.history = Array.isArray(data.history) ? data.history : [];
  renderHistory();
  const mine = callId && state.history.find((h) => h.id === callId);
  if (mine) applyCall(mine, false);
  state.candidates = Array.isArray(data.candidates) ? data.candidates : [];
  if (data.customer) {
    renderCustomer(data.customer, { notes: Array.isArray(data.notes) ? data.notes : [] });
  } else if (state.candidates.length > 1) {
    renderPicker();
  } else if (state.candidates.length === 1) {
    renderCustomer(state.candidates[0]);
  } else {
    renderUnknown();
  }
}

ui.retry.addEventListener('click', lookup);

function showAuth() {
  show('authView');
  ui.historyView.hidden = true;
  document.title = '着信 - ログインしてください';
}

// ---------------------------------------------------------------------------------------------
// Registration

function clearErrors() {
  clearFormErrors(ui.registerForm, ui.registerError);
}

function showFieldError(field, message) {
  showFormError(ui.registerForm, ui.registerError, field, message);
}

ui.registerForm.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  clearErrors();
  const f = ui.registerForm.elements;
  const body = {
    name: f.name.value.trim(),
    kana: f.kana.value.trim(),
    memo: f.memo.value,
    phone,
    homeStoreId: state.store?.id ?? null,
  };
  if (!body.name) {
    showFieldError('name', '氏名を入力してください');
    return;
  }
  ui.registerSubmit.disabled = true;
  try {
    const res = await api('/api/customers', { method: 'POST', body });
    state.candidates = [];
    renderCustomer(res.customer, { notes: [] });
    refreshAfterRegister(res.customer.id);
  } catch (e) {
    if (e.status === 401) showAuth();
    else showFieldError(e.field, e.message);
  } finally {
    ui.registerSubmit.disabled = false;
  }
});

/**
 * After registering, the record as any later popup would show it: the number's history (with
 * the call ringing now, which the registration linked to the new customer) and its notes.
 */
async function refreshAfterRegister(id) {
  const q = new URLSearchParams({ phone });
  if (incoming) q.set('incoming', incoming);
  let data;
  try {
    data = await api(`/api/customers/lookup?${q}`);
  } catch {
    return; // the view already shows the new customer and the history we had
  }
  const fresh = Array.isArray(data.history) ? data.history : [];
  const known = new Set(fresh.map((h) => h.id));
  // Keep what the socket told us about calls the lookup does not list (yet).
  const merged = [...fresh, ...state.history.filter((h) => !known.has(h.id))];
  merged.sort((a, b) => (Number(b.startedAt) || 0) - (Number(a.startedAt) || 0));
  const live = callId && state.history.find((h) => h.id === callId);
  state.history = merged.map((h) => (live && h.id === callId ? { ...h, phase: live.phase, state: live.state, durationMs: live.durationMs ?? h.durationMs } : h));
  renderHistory();
  if (data.customer && data.customer.id === id && state.customer?.id === id && !state.memoEdit.saving) {
    renderCustomer(data.customer, { notes: Array.isArray(data.notes) ? data.notes : [] });
  }
}

// ---------------------------------------------------------------------------------------------
// Memo: edited in place, saved against the card's version

function showMemoText(text) {
  ui.memo.textContent = text || 'メモはありません';
  ui.memo.classList.toggle('empty-memo', !text);
}

function setMemoStatus(text, kind) {
  ui.memoStatus.textContent = text ?? '';
  ui.memoStatus.dataset.kind = kind ?? '';
}

function resetMemoEditor() {
  state.memoEdit = { open: false, baseVersion: null, saving: false };
  ui.memoForm.hidden = true;
  ui.memo.hidden = false;
  ui.memoEdit.hidden = false;
  ui.memoConflict.hidden = true;
  ui.memoSave.disabled = false;
  setMemoStatus('', null);
}

/** Opens the editor with `text`; `baseVersion` is the version the edit starts from. */
function openMemoEditor(text, baseVersion) {
  const card = state.customer;
  if (!card) return;
  state.memoEdit.open = true;
  state.memoEdit.baseVersion = baseVersion ?? card.version;
  ui.memoInput.value = text ?? card.memo ?? '';
  ui.memoForm.hidden = false;
  ui.memo.hidden = true;
  ui.memoEdit.hidden = true;
  ui.memoInput.focus();
}

function closeMemoEditor() {
  state.memoEdit.open = false;
  ui.memoForm.hidden = true;
  ui.memo.hidden = false;
  ui.memoEdit.hidden = false;
}

ui.memoEdit.addEventListener('click', () => {
  if (state.memoEdit.saving) return;
  setMemoStatus('', null);
  openMemoEditor();
});
ui.memo.addEventListener('click', () => {
  // Click-to-edit, but not when the click ended a text selection (copying the memo).
  if (window.getSelection()?.toString()) return;
  if (!state.memoEdit.open && !state.memoEdit.saving) {
    setMemoStatus('', null);
    openMemoEditor();
  }
});
ui.memoCancel.addEventListener('click', () => {
  closeMemoEditor();
  ui.memoConflict.hidden = true;
  state.memoEdit.baseVersion = null;
});

ui.memoForm.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const card = state.customer;
  if (!card || state.memoEdit.saving) return;
  const draft = ui.memoInput.value;
  const version = state.memoEdit.baseVersion ?? card.version;
  const previous = card.memo;
  // Optimistic: the new text is shown at once; a failure puts the old one back.
  state.memoEdit.saving = true;
  ui.memoSave.disabled = true;
  closeMemoEditor();
  ui.memoConflict.hidden = true;
  showMemoText(draft);
  setMemoStatus('保存中…', 'pending');
  try {
    const res = await apiRequest(`/api/customers/${encodeURIComponent(card.id)}`, {
      method: 'PATCH',
      body: { version, memo: draft },
    });
    state.memoEdit.saving = false;
    state.memoEdit.baseVersion = null;
    if (state.customer?.id === card.id) renderCustomer(res.customer);
    setMemoStatus('保存しました', 'ok');
  } catch (e) {
    state.memoEdit.saving = false;
    if (state.customer?.id !== card.id) return;
    const current = e.details?.current;
    if (e.status === 409 && current && typeof current === 'object') {
      // Someone else saved first: show their text, keep this draft, and base the next save on
      // the version that is there now.
      renderCustomer(current);
      ui.memoCurrent.textContent = current.memo || '（空）';
      ui.memoConflict.hidden = false;
      openMemoEditor(draft, current.version);
      setMemoStatus('', null);
    } else {
      showMemoText(previous);
      if (e.status === 401) {
        showAuth();
        return;
      }
      openMemoEditor(draft, version);
      setMemoStatus(
        e.status === 403 ? 'このお客様のメモを編集する権限がありません' : `保存できませんでした: ${e.message}`,
        'error',
      );
    }
  } finally {
    ui.memoSave.disabled = false;
  }
});

// ---------------------------------------------------------------------------------------------
// Notes

function renderNotes() {
  setChildren(ui.notes, state.notes.map(noteItem));
  ui.notesEmpty.hidden = state.notes.length > 0;
}

async function loadNotes(id) {
  try {
    const { notes } = await api(`/api/customers/${encodeURIComponent(id)}/notes`);
    if (state.notesFor !== id) return;
    state.notes = (Array.isArray(notes) ? notes : []).slice(0, NOTES_SHOWN);
    renderNotes();
  } catch {
    /* the rest of the popup works without them */
  }
}

setChildren(ui.noteType, noteTypeOptions('一般'));

ui.noteForm.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const card = state.customer;
  if (!card) return;
  try {
    const note = await submitNote(card.id, { type: ui.noteType, body: ui.noteBody, error: ui.noteError, submit: ui.noteSubmit });
    if (note && state.notesFor === card.id) {
      state.notes = [note, ...state.notes].slice(0, NOTES_SHOWN);
      renderNotes();
    }
  } catch {
    showAuth();
  }
});

// ---------------------------------------------------------------------------------------------
// Live updates for this call

function isNewer(a, b) {
  if (!b) return true;
  if (a.id !== b.id) return false;
  return String(a.updatedAt ?? '') > String(b.updatedAt ?? '');
}

function startSocket() {
  const socket = new CtiSocket();
  socket.addEventListener('status', (ev) => {
    ui.conn.dataset.status = ev.detail;
    ui.connStatus.textContent = CONN_LABELS[ev.detail] ?? ev.detail;
  });
  socket.addEventListener('authlost', showAuth);
  socket.addEventListener('message', (ev) => {
    const { msg } = ev.detail;
    if (msg.callId !== callId) return;
    if (msg.store?.name && (!state.store || state.store.id === null)) {
      state.store = msg.store;
      renderStore();
    }
    applyCall(msg, true);
    updateHistoryFrom(msg);
    const view = VIEWS.find((v) => !ui[v].hidden);
    if (msg.customer && (view === 'customerView' || view === 'unknownView') && isNewer(msg.customer, state.customer)) {
      renderCustomer(msg.customer);
    }
  });
  socket.start();
  window.addEventListener('pagehide', () => socket.stop());
  window.addEventListener('pageshow', (ev) => {
    if (ev.persisted) socket.start();
  });
}

// ---------------------------------------------------------------------------------------------

ui.callerNumber.textContent = fmtPhone(phone);
renderCallState();
setTitle();
if (callId) startSocket();
else ui.conn.hidden = true;
if (phone) {
  lookup();
} else {
  renderStore();
  show('withheldView');
}
