// The staff console: login, live connection, popups on incoming calls, recent calls.
import {
  $,
  el,
  api,
  ApiError,
  CtiSocket,
  CONN_LABELS,
  LIVE_PHASES,
  phaseLabel,
  fmtPhone,
  fmtTime,
  fmtDuration,
  popupUrl,
  POPUP_FEATURES,
} from './common.js';

const MAX_ROWS = 50;
const POPPED_KEY = 'cti.popped';
const POPPED_MAX = 200;

const ui = {
  boot: $('#boot'),
  loginView: $('#login-view'),
  loginForm: $('#login-form'),
  loginError: $('#login-error'),
  loginSubmit: $('#login-submit'),
  consoleView: $('#console-view'),
  sessionBar: $('#session-bar'),
  conn: $('#conn'),
  connStatus: $('#conn-status'),
  userName: $('#user-name'),
  userRole: $('#user-role'),
  userStore: $('#user-store'),
  logout: $('#logout'),
  popupBlocked: $('#popup-blocked'),
  popupBlockedDetail: $('#popup-blocked-detail'),
  popupOpen: $('#popup-open'),
  popupDismiss: $('#popup-dismiss'),
  callsBody: $('#calls-body'),
  callsEmpty: $('#calls-empty'),
  callsError: $('#calls-error'),
  callsNote: $('#calls-note'),
  testCard: $('#test-call-card'),
  testForm: $('#test-call-form'),
  testResult: $('#test-call-result'),
};

const socket = new CtiSocket();
/** callId -> { call, row } */
const calls = new Map();
/** replayed incoming_call messages whose pop waits for the end of the replay */
let pendingPops = [];
let blockedCall = null;
let user = null;

// ---------------------------------------------------------------------------------------------
// Session

async function boot() {
  try {
    const me = await api('/api/auth/me');
    startConsole(me.user);
  } catch (e) {
    showLogin(e.status === 401 ? null : e.message);
  } finally {
    ui.boot.hidden = true;
  }
}

function showLogin(message) {
  socket.stop();
  user = null;
  ui.consoleView.hidden = true;
  ui.sessionBar.hidden = true;
  ui.loginView.hidden = false;
  ui.loginError.hidden = !message;
  ui.loginError.textContent = message ?? '';
  ui.loginSubmit.disabled = false;
  document.title = 'CTI コンソール - ログイン';
  $('#login-id').focus();
}

ui.loginForm.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const loginId = ui.loginForm.elements.loginId.value.trim();
  const password = ui.loginForm.elements.password.value;
  if (!loginId || !password) {
    ui.loginError.textContent = !loginId ? 'ログインIDを入力してください' : 'パスワードを入力してください';
    ui.loginError.hidden = false;
    return;
  }
  ui.loginSubmit.disabled = true;
  ui.loginError.hidden = true;
  try {
    const res = await api('/api/auth/login', { method: 'POST', body: { loginId, password } });
    ui.loginForm.elements.password.value = '';
    startConsole(res.user);
  } catch (e) {
    ui.loginError.textContent =
      e instanceof ApiError && e.code === 'invalid_credentials'
        ? 'ログインIDまたはパスワードが正しくありません'
        : e.message;
    ui.loginError.hidden = false;
    ui.loginSubmit.disabled = false;
  }
});

ui.logout.addEventListener('click', async () => {
  socket.stop();
  try {
    await api('/api/auth/logout', { method: 'POST' });
  } catch {
    /* the cookie is dropped server side anyway when it expires */
  }
  clearCalls();
  socket.reset();
  showLogin(null);
});

function startConsole(u) {
  if (user && user.id !== u.id) {
    clearCalls();
    socket.reset();
  }
  user = u;
  ui.loginView.hidden = true;
  ui.consoleView.hidden = false;
  ui.sessionBar.hidden = false;
  ui.userName.textContent = u.name;
  ui.userRole.textContent = u.role === 'admin' ? '管理者' : 'スタッフ';
  ui.userRole.className = u.role === 'admin' ? 'badge badge-admin' : 'badge badge-staff';
  ui.userStore.textContent = '';
  ui.testCard.hidden = u.role !== 'admin';
  ui.callsNote.textContent = u.role === 'admin' ? '全店舗' : '';
  document.title = 'CTI コンソール';
  if (u.role !== 'admin' && u.storeId !== null && u.storeId !== undefined) loadStoreName(u.storeId);
  loadRecent();
  socket.start();
}

async function loadStoreName(storeId) {
  try {
    const { stores } = await api('/api/stores');
    const s = stores.find((x) => x.id === storeId);
    if (s && user?.storeId === storeId) {
      ui.userStore.textContent = s.name;
      ui.callsNote.textContent = `${s.name}のみ`;
    }
  } catch {
    /* cosmetic */
  }
}

socket.addEventListener('status', (ev) => {
  ui.conn.dataset.status = ev.detail;
  ui.connStatus.textContent = CONN_LABELS[ev.detail] ?? ev.detail;
});

socket.addEventListener('authlost', () => {
  showLogin('セッションが切れました。もう一度ログインしてください。');
});

// ---------------------------------------------------------------------------------------------
// Popups

function loadPopped() {
  try {
    const v = JSON.parse(sessionStorage.getItem(POPPED_KEY) ?? '[]');
    return Array.isArray(v) ? v : [];
  } catch {
    return [];
  }
}

function wasPopped(callId) {
  return loadPopped().includes(callId);
}

function markPopped(callId) {
  const list = loadPopped().filter((id) => id !== callId);
  list.push(callId);
  try {
    sessionStorage.setItem(POPPED_KEY, JSON.stringify(list.slice(-POPPED_MAX)));
  } catch {
    /* storage full or disabled: worst case a duplicate pop */
  }
}

/** Opens (or focuses) the popup of a call. Returns false when the browser blocked it. */
function openPopup(call) {
  const url = popupUrl({ callId: call.id, phone: call.caller, incoming: call.dialled });
  const win = window.open(url, `cti-${call.id}`, POPUP_FEATURES);
  if (!win) {
    showBlocked(call);
    return false;
  }
  try {
    win.focus();
  } catch {
    /* ignore */
  }
  if (blockedCall && blockedCall.id === call.id) hideBlocked();
  return true;
}

function showBlocked(call) {
  blockedCall = call;
  const who = call.customerName ? `${call.customerName} 様` : '未登録の番号';
  ui.popupBlockedDetail.textContent = `${fmtPhone(call.caller)}（${who}）からの着信`;
  ui.popupBlocked.hidden = false;
}

function hideBlocked() {
  blockedCall = null;
  ui.popupBlocked.hidden = true;
}

ui.popupOpen.addEventListener('click', () => {
  if (blockedCall) openPopup(blockedCall);
});
ui.popupDismiss.addEventListener('click', hideBlocked);

function popFor(call) {
  if (wasPopped(call.id)) return;
  markPopped(call.id);
  openPopup(call);
}

// ---------------------------------------------------------------------------------------------
// Calls list

function customerNameOf(msg) {
  if (msg.customer) return msg.customer.name;
  const c = Array.isArray(msg.candidates) ? msg.candidates : [];
  if (c.length === 1) return c[0].name;
  if (c.length > 1) return `${c[0].name} 他${c.length - 1}名`;
  return null;
}

/** A socket message in the shape of a /api/calls/recent row, merged over what we had. */
function callFromMessage(msg, prev) {
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
    startedAt: prev?.startedAt ?? (Number.isFinite(ts) ? ts : Date.now()),
    connectedAt: msg.connectedAt ?? prev?.connectedAt ?? null,
    endedAt: msg.endedAt ?? prev?.endedAt ?? null,
    durationMs: msg.durationMs ?? prev?.durationMs ?? null,
  };
}

function stateText(call) {
  const label = phaseLabel(call.phase);
  if (call.phase === 'ended' && call.durationMs) return `${label} (${fmtDuration(call.durationMs)})`;
  return label;
}

function renderRow(call) {
  const customer = call.customerName
    ? el('span', { class: 'cust', text: call.customerName })
    : el('span', { class: 'unregistered', text: '未登録' });
  const tr = el(
    'tr',
    {
      class: ['call-row', `phase-${call.phase}`, LIVE_PHASES.has(call.phase) && 'live'],
      attrs: { tabindex: 0, title: 'クリックでポップアップを開く' },
      dataset: { callId: call.id },
    },
    el('td', { class: 'col-time', text: fmtTime(call.startedAt) }),
    el('td', { class: 'col-caller mono', text: fmtPhone(call.caller) }),
    el('td', { class: 'col-customer' }, customer, call.isTest ? el('span', { class: 'badge badge-test', text: 'テスト' }) : null),
    el('td', { class: 'col-store', text: call.storeName ?? '不明' }),
    el('td', { class: 'col-state' }, el('span', { class: `state state-${call.phase}`, text: stateText(call) })),
  );
  return tr;
}

function upsertCall(call) {
  const entry = calls.get(call.id);
  const row = renderRow(call);
  if (entry) {
    entry.row.replaceWith(row);
    entry.call = call;
    entry.row = row;
  } else {
    calls.set(call.id, { call, row });
  }
  placeRow(call.id);
  trimRows();
  ui.callsEmpty.hidden = calls.size > 0;
}

/** Keeps rows ordered by start time, newest first. */
function placeRow(id) {
  const { call, row } = calls.get(id);
  let before = null;
  for (const other of ui.callsBody.children) {
    if (other === row) continue;
    const o = calls.get(other.dataset.callId);
    if (o && o.call.startedAt <= call.startedAt) {
      before = other;
      break;
    }
  }
  if (row.nextSibling !== before || row.parentNode !== ui.callsBody) ui.callsBody.insertBefore(row, before);
}

function trimRows() {
  while (calls.size > MAX_ROWS) {
    const last = ui.callsBody.lastElementChild;
    if (!last) break;
    calls.delete(last.dataset.callId);
    last.remove();
  }
}

function clearCalls() {
  calls.clear();
  pendingPops = [];
  ui.callsBody.replaceChildren();
  ui.callsEmpty.hidden = false;
  hideBlocked();
}

async function loadRecent() {
  ui.callsError.hidden = true;
  try {
    const { calls: list } = await api('/api/calls/recent?limit=20');
    for (const c of list) {
      // The socket may already have delivered something newer for this call.
      if (calls.has(c.id)) continue;
      upsertCall({ ...c, isTest: Boolean(c.isTest) });
    }
    ui.callsEmpty.hidden = calls.size > 0;
  } catch (e) {
    if (e.status === 401) return; // the socket notices too and shows the login
    ui.callsError.textContent = `着信一覧を読み込めませんでした: ${e.message}`;
    ui.callsError.hidden = false;
  }
}

function activate(row) {
  const entry = row && calls.get(row.dataset.callId);
  if (entry) {
    markPopped(entry.call.id);
    openPopup(entry.call);
  }
}

ui.callsBody.addEventListener('click', (ev) => activate(ev.target.closest('tr.call-row')));
ui.callsBody.addEventListener('keydown', (ev) => {
  if (ev.key === 'Enter' || ev.key === ' ') {
    ev.preventDefault();
    activate(ev.target.closest('tr.call-row'));
  }
});

socket.addEventListener('message', (ev) => {
  const { msg, replay } = ev.detail;
  if (msg.type !== 'incoming_call' && msg.type !== 'call_state') return;
  if (!msg.callId) return;
  const call = callFromMessage(msg, calls.get(msg.callId)?.call);
  upsertCall(call);
  if (msg.type === 'incoming_call') {
    if (replay) pendingPops.push(msg.callId);
    else popFor(call);
  }
  if (blockedCall && blockedCall.id === call.id) blockedCall = call;
});

// After a reconnect, pop only the replayed calls that are still going on.
socket.addEventListener('synced', () => {
  const ids = [...new Set(pendingPops)];
  pendingPops = [];
  for (const id of ids) {
    const entry = calls.get(id);
    if (entry && LIVE_PHASES.has(entry.call.phase)) popFor(entry.call);
  }
});

// Refresh relative times ("HH:MM" vs "M/D HH:MM") after midnight.
setInterval(() => {
  for (const { call, row } of calls.values()) {
    const cell = row.querySelector('.col-time');
    if (cell) cell.textContent = fmtTime(call.startedAt);
  }
}, 60_000);

// ---------------------------------------------------------------------------------------------
// Test call (admin)

ui.testForm.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const f = ui.testForm.elements;
  for (const span of ui.testForm.querySelectorAll('.field-error')) span.hidden = true;
  ui.testResult.hidden = true;
  const body = { customerPhone: f.customerPhone.value.trim(), incomingNumber: f.incomingNumber.value.trim() };
  if (!body.customerPhone) {
    fieldError('customerPhone', '顧客電話番号を入力してください');
    return;
  }
  const button = ui.testForm.querySelector('button[type=submit]');
  button.disabled = true;
  try {
    await api('/api/dialpad/test-call', { method: 'POST', body });
    ui.testResult.textContent = 'テスト着信を送信しました';
    ui.testResult.className = 'small ok-text';
    ui.testResult.hidden = false;
  } catch (e) {
    if (e.field && ui.testForm.querySelector(`[data-error-for="${CSS.escape(e.field)}"]`)) {
      fieldError(e.field, e.message);
    } else {
      ui.testResult.textContent = e.message;
      ui.testResult.className = 'small form-error';
      ui.testResult.hidden = false;
    }
  } finally {
    button.disabled = false;
  }
});

function fieldError(field, message) {
  const span = ui.testForm.querySelector(`[data-error-for="${CSS.escape(field)}"]`);
  span.textContent = message;
  span.hidden = false;
}

boot();
