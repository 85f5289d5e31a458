// The staff console: login, live connection, popups on incoming calls, recent calls, and the
// per-browser settings (when to pop, outbound calls, ring sound, desktop notifications).
// Several tabs may be open: each call pops exactly one window in the whole browser (see Popups).
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
  connBanner: $('#conn-banner'),
  settingsForm: $('#settings-form'),
  ringStatus: $('#ring-status'),
  ringHint: $('#ring-hint'),
  notifyHint: $('#notify-hint'),
};

const socket = new CtiSocket();
/** callId -> { call, row } */
const calls = new Map();
/** calls whose pop, triggered by a replayed message, waits for the end of the replay */
const pendingPops = new Set();
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
  ringingSince.clear();
  updateRinging();
  for (const id of [...notifications.keys()]) closeNotification(id);
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
  settings = readSettings();
  applySettings();
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

const CONN_BANNER_DELAY_MS = 3_000;
let connBannerTimer = null;

socket.addEventListener('status', (ev) => {
  ui.conn.dataset.status = ev.detail;
  ui.connStatus.textContent = CONN_LABELS[ev.detail] ?? ev.detail;
  // A lost connection longer than a blink also gets a banner: calls are not arriving now.
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

socket.addEventListener('authlost', () => {
  showLogin('セッションが切れました。もう一度ログインしてください。');
});

// ---------------------------------------------------------------------------------------------
// Settings (per browser and user, in localStorage: preferences only, never a credential)

const SETTINGS_PREFIX = 'cti.settings.';
const DEFAULT_SETTINGS = Object.freeze({
  popTiming: 'ring', // 'ring' = 着信時, 'answer' = 応答時
  popOutbound: false,
  ringSound: false,
  desktopNotify: false,
});
let settings = { ...DEFAULT_SETTINGS };

function settingsKey() {
  return user ? `${SETTINGS_PREFIX}${user.id}` : null;
}

function readSettings() {
  const s = { ...DEFAULT_SETTINGS };
  const key = settingsKey();
  if (!key) return s;
  let v = null;
  try {
    v = JSON.parse(localStorage.getItem(key) ?? 'null');
  } catch {
    v = null;
  }
  if (v && typeof v === 'object') {
    if (v.popTiming === 'ring' || v.popTiming === 'answer') s.popTiming = v.popTiming;
    for (const k of ['popOutbound', 'ringSound', 'desktopNotify']) if (typeof v[k] === 'boolean') s[k] = v[k];
  }
  return s;
}

function saveSettings() {
  const key = settingsKey();
  if (!key) return;
  try {
    localStorage.setItem(key, JSON.stringify(settings));
  } catch {
    /* storage disabled: the settings last as long as the page */
  }
}

function renderSettings() {
  const f = ui.settingsForm.elements;
  $('#set-pop-ring').checked = settings.popTiming === 'ring';
  $('#set-pop-answer').checked = settings.popTiming === 'answer';
  f.popOutbound.checked = settings.popOutbound;
  f.ringSound.checked = settings.ringSound;
  f.desktopNotify.checked = settings.desktopNotify;
  if (settings.desktopNotify && notifyPermission() !== 'granted') {
    notifyHint('通知が許可されていません。ブラウザのサイト設定で通知を許可してください。');
  } else if (settings.desktopNotify || !ui.notifyHint.dataset.sticky) {
    notifyHint(null);
  }
  renderRinger();
}

function applySettings() {
  renderSettings();
  updateRinging();
}

function notifyPermission() {
  return 'Notification' in window ? Notification.permission : 'unsupported';
}

function notifyHint(text, sticky = false) {
  ui.notifyHint.textContent = text ?? '';
  ui.notifyHint.hidden = !text;
  if (text && sticky) ui.notifyHint.dataset.sticky = '1';
  else delete ui.notifyHint.dataset.sticky;
}

/** Asks for the permission (from the toggle's click). Resolves true when notifications may be shown. */
async function askNotify() {
  if (!('Notification' in window)) {
    notifyHint('このブラウザはデスクトップ通知に対応していません。', true);
    return false;
  }
  let p = Notification.permission;
  if (p === 'default') {
    try {
      p = await Notification.requestPermission();
    } catch {
      p = Notification.permission;
    }
  }
  if (p !== 'granted') {
    notifyHint(
      p === 'denied'
        ? '通知がブロックされています。ブラウザのサイト設定で通知を許可してください。'
        : '通知が許可されませんでした。',
      true,
    );
    return false;
  }
  notifyHint(null);
  return true;
}

ui.settingsForm.addEventListener('submit', (ev) => ev.preventDefault());
ui.settingsForm.addEventListener('change', async (ev) => {
  const t = ev.target;
  if (!user) return;
  switch (t.name) {
    case 'popTiming':
      if (t.checked) settings.popTiming = t.value === 'answer' ? 'answer' : 'ring';
      break;
    case 'popOutbound':
      settings.popOutbound = t.checked;
      break;
    case 'ringSound':
      settings.ringSound = t.checked;
      if (t.checked) ringer.unlock(); // the click is the gesture that lets audio start
      break;
    case 'desktopNotify':
      if (t.checked) {
        const ok = await askNotify();
        t.checked = ok;
        settings.desktopNotify = ok;
      } else {
        settings.desktopNotify = false;
        notifyHint(null);
      }
      break;
    default:
      return;
  }
  saveSettings();
  applySettings();
});

// Another tab of this browser changed the settings (or popped a call): follow.
window.addEventListener('storage', (ev) => {
  if (user && ev.key === settingsKey()) {
    settings = readSettings();
    applySettings();
  }
});

// ---------------------------------------------------------------------------------------------
// Ring sound: a short two-pulse tone from an OscillatorNode while a call rings in this console.
// One tab of the browser rings (Web Lock `cti-ring`); another takes over if that one closes.

const RING_MAX_MS = 3 * 60 * 1000; // a call "ringing" longer than this lost its end event
const RING_LOCK = 'cti-ring';

class Ringer {
  constructor(onChange) {
    this.onChange = onChange;
    this.ctx = null;
    this.osc = null;
    this.gain = null;
    this.refill = null;
    this.scheduledUntil = 0;
    this.wanted = false;
    this.playing = false; // this tab holds the ring (whether or not audio may start yet)
    this.abort = null;
    this.releaseLock = null;
  }

  /** True once audio can actually be heard (the browser needs a user gesture first). */
  get audible() {
    return this.ctx?.state === 'running';
  }

  /** Creates or resumes the audio context; call from a user gesture. */
  unlock() {
    const AC = window.AudioContext ?? window.webkitAudioContext;
    if (!AC) return;
    if (!this.ctx) {
      try {
        this.ctx = new AC();
      } catch {
        return;
      }
      this.ctx.addEventListener('statechange', () => {
        if (this.playing && this.audible) this.startTone();
        this.onChange();
      });
    }
    if (this.ctx.state === 'suspended') this.ctx.resume().catch(() => {});
  }

  set(on) {
    if (on === this.wanted) return;
    this.wanted = on;
    if (on) this.acquire();
    else this.release();
  }

  acquire() {
    const locks = navigator.locks;
    if (!locks?.request) {
      this.begin();
      return;
    }
    const ac = new AbortController();
    this.abort = ac;
    locks
      .request(RING_LOCK, { signal: ac.signal }, () => {
        if (this.abort !== ac || !this.wanted) return undefined;
        this.begin();
        return new Promise((resolve) => {
          this.releaseLock = resolve;
        });
      })
      .catch(() => {
        /* aborted: the ringing stopped before this tab's turn */
      });
  }

  begin() {
    this.playing = true;
    // Audio may start without a click only if the page already had one (autoplay policy).
    if (!this.ctx && navigator.userActivation?.hasBeenActive) this.unlock();
    if (this.audible) this.startTone();
    this.onChange();
  }

  release() {
    this.abort?.abort();
    this.abort = null;
    this.releaseLock?.();
    this.releaseLock = null;
    this.stopTone();
    if (this.playing) {
      this.playing = false;
      this.onChange();
    }
  }

  startTone() {
    const ctx = this.ctx;
    if (!ctx || this.osc) return;
    try {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.type = 'sine';
      osc.frequency.value = 880;
      gain.gain.value = 0;
      osc.connect(gain);
      gain.connect(ctx.destination);
      osc.start();
      this.osc = osc;
      this.gain = gain;
    } catch {
      return;
    }
    this.scheduledUntil = 0;
    this.schedule();
    // The pattern is scheduled 90 s ahead in audio time: throttled timers of a background tab
    // cannot make it stutter.
    this.refill = setInterval(() => this.schedule(), 20_000);
  }

  schedule() {
    const ctx = this.ctx;
    const g = this.gain?.gain;
    if (!ctx || !g) return;
    let t = Math.max(this.scheduledUntil, ctx.currentTime + 0.05);
    const horizon = ctx.currentTime + 90;
    while (t < horizon) {
      for (const start of [0, 0.5]) {
        g.setValueAtTime(0, t + start);
        g.linearRampToValueAtTime(0.15, t + start + 0.02);
        g.setValueAtTime(0.15, t + start + 0.33);
        g.linearRampToValueAtTime(0, t + start + 0.36);
      }
      t += 3;
    }
    this.scheduledUntil = t;
  }

  stopTone() {
    clearInterval(this.refill);
    this.refill = null;
    const { osc, gain, ctx } = this;
    this.osc = null;
    this.gain = null;
    if (!osc) return;
    try {
      gain.gain.cancelScheduledValues(0);
      gain.gain.setValueAtTime(0, ctx.currentTime);
      osc.stop();
    } catch {
      /* already stopped */
    }
    osc.disconnect();
    gain.disconnect();
  }
}

const ringer = new Ringer(renderRinger);
/** callId -> when this console first saw it ringing (local clock) */
const ringingSince = new Map();
let ringTimer = null;

function renderRinger() {
  ui.ringStatus.hidden = !ringer.playing;
  ui.ringHint.hidden = !(settings.ringSound && user && !ringer.audible);
}

function updateRinging() {
  clearTimeout(ringTimer);
  ringTimer = null;
  const now = Date.now();
  let next = Infinity;
  for (const [id, since] of ringingSince) {
    const left = since + RING_MAX_MS - now;
    if (left <= 0) ringingSince.delete(id);
    else next = Math.min(next, left);
  }
  const ring = Boolean(user) && settings.ringSound && ringingSince.size > 0;
  ringer.set(ring);
  if (ring && Number.isFinite(next)) ringTimer = setTimeout(updateRinging, next + 50);
  renderRinger();
}

function trackRinging(call) {
  if (call.phase === 'ringing' && call.direction !== 'outbound') {
    if (!ringingSince.has(call.id)) ringingSince.set(call.id, Date.now());
  } else {
    ringingSince.delete(call.id);
  }
}

// Browsers start audio only after a gesture on the page: the first click or key unlocks it.
for (const type of ['pointerdown', 'keydown']) {
  document.addEventListener(
    type,
    () => {
      if (settings.ringSound && user && !ringer.audible) ringer.unlock();
    },
    { capture: true },
  );
}

// ---------------------------------------------------------------------------------------------
// Popups: exactly one per call across all tabs of this browser.
//
// Every tab hears every event. The tab that gets the Web Lock `cti-pop-<callId>` first (held a
// few seconds) and does not find the call in localStorage's popped list opens the window; the
// list (callId -> time, pruned after an hour) stops a later tab or a reload from popping it
// again. Windows are always named `cti-<callId>`, so a re-open reuses the window.

const POPPED_PREFIX = 'cti.popped.';
const POPPED_TTL_MS = 60 * 60 * 1000;
const POPPED_MAX = 500;
const POP_LOCK_HOLD_MS = 3_000;
/** Phases in which a call counts as answered. */
const ANSWERED = new Set(['connected', 'hold']);

function poppedKey() {
  return `${POPPED_PREFIX}${user?.id ?? 'anon'}`;
}

function loadPopped() {
  let v;
  try {
    v = JSON.parse(localStorage.getItem(poppedKey()) ?? '{}');
  } catch {
    v = null;
  }
  const out = {};
  if (!v || typeof v !== 'object' || Array.isArray(v)) return out;
  const now = Date.now();
  for (const [id, ts] of Object.entries(v)) {
    if (typeof ts === 'number' && now - ts < POPPED_TTL_MS) out[id] = ts;
  }
  return out;
}

function wasPopped(callId) {
  return Object.hasOwn(loadPopped(), String(callId));
}

/** Records (or refreshes) a popped call; entries older than an hour are dropped. */
function markPopped(callId) {
  const map = loadPopped();
  map[String(callId)] = Date.now();
  let entries = Object.entries(map);
  if (entries.length > POPPED_MAX) entries = entries.sort((a, b) => a[1] - b[1]).slice(-POPPED_MAX);
  try {
    localStorage.setItem(poppedKey(), JSON.stringify(Object.fromEntries(entries)));
  } catch {
    /* storage full or disabled: the lock still keeps simultaneous tabs to one pop */
  }
}

/** Resolves true when this tab is the one to pop `callId`, and records it. */
function claimPop(callId) {
  if (wasPopped(callId)) return Promise.resolve(false);
  const locks = navigator.locks;
  if (!locks?.request) {
    markPopped(callId);
    return Promise.resolve(true);
  }
  return new Promise((resolve) => {
    locks
      .request(`cti-pop-${callId}`, { ifAvailable: true }, (lock) => {
        if (!lock || wasPopped(callId)) {
          resolve(false);
          return undefined;
        }
        markPopped(callId);
        resolve(true);
        // Held a little longer, so that a tab deciding on the same event a moment later finds
        // it taken even before our localStorage write has reached it.
        return new Promise((r) => setTimeout(r, POP_LOCK_HOLD_MS));
      })
      .catch(() => {
        if (wasPopped(callId)) resolve(false);
        else {
          markPopped(callId);
          resolve(true);
        }
      });
  });
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
  closeNotification(call.id);
  return true;
}

function showBlocked(call) {
  blockedCall = call;
  const who = call.customerName ? `${call.customerName} 様` : '未登録の番号';
  const what = call.direction === 'outbound' ? 'への発信' : 'からの着信';
  ui.popupBlockedDetail.textContent = `${fmtPhone(call.caller)}（${who}）${what}`;
  ui.popupBlocked.hidden = false;
  notifyBlocked(call);
}

function hideBlocked() {
  blockedCall = null;
  ui.popupBlocked.hidden = true;
}

ui.popupOpen.addEventListener('click', () => {
  if (blockedCall) openPopup(blockedCall);
});
ui.popupDismiss.addEventListener('click', hideBlocked);

/** callId -> the desktop notification standing in for its blocked popup */
const notifications = new Map();

/** Where allowed, a desktop notification whose click opens the popup the browser blocked. */
function notifyBlocked(call) {
  if (!settings.desktopNotify || notifyPermission() !== 'granted') return;
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
    openPopup(calls.get(call.id)?.call ?? call);
    n.close();
  });
  n.addEventListener('close', () => {
    if (notifications.get(call.id) === n) notifications.delete(call.id);
  });
}

function closeNotification(callId) {
  const n = notifications.get(callId);
  if (!n) return;
  notifications.delete(callId);
  try {
    n.close();
  } catch {
    /* ignore */
  }
}

function popFor(call) {
  claimPop(call.id).then((mine) => {
    if (mine && user) openPopup(calls.get(call.id)?.call ?? call);
  });
}

/**
 * Whether this message is the moment to pop its call, given the phase this console last saw
 * the call in (undefined: first sighting). Ended, missed, voicemail and other phases never pop.
 */
function popTrigger(msg, prevPhase) {
  if (!LIVE_PHASES.has(msg.phase)) return false;
  const outbound = msg.direction === 'outbound';
  if (outbound && !settings.popOutbound) return false;
  if (settings.popTiming === 'answer') return ANSWERED.has(msg.phase) && !ANSWERED.has(prevPhase);
  if (outbound) return prevPhase === undefined;
  return msg.type === 'incoming_call';
}

/** callId -> phase this console last saw on the socket (bounded). */
const seenPhase = new Map();
function rememberPhase(id, phase) {
  seenPhase.delete(id);
  seenPhase.set(id, phase);
  if (seenPhase.size > POPPED_MAX) seenPhase.delete(seenPhase.keys().next().value);
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
    startedAt: prev?.startedAt ?? (Number.isFinite(msg.startedAt) ? msg.startedAt : Number.isFinite(ts) ? ts : Date.now()),
    connectedAt: msg.connectedAt ?? prev?.connectedAt ?? null,
    endedAt: msg.endedAt ?? prev?.endedAt ?? null,
    durationMs: msg.durationMs ?? prev?.durationMs ?? null,
  };
}

function stateText(call) {
  const label = phaseLabel(call.phase, call.direction);
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
    el(
      'td',
      { class: 'col-customer' },
      customer,
      call.direction === 'outbound' ? el('span', { class: 'badge badge-out', text: '発信' }) : null,
      call.isTest ? el('span', { class: 'badge badge-test', text: 'テスト' }) : null,
    ),
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
  pendingPops.clear();
  seenPhase.clear();
  ringingSince.clear();
  updateRinging();
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

// The socket delivers each message once (seq dedupe in CtiSocket), in order.
socket.addEventListener('message', (ev) => {
  const { msg, replay } = ev.detail;
  if (msg.type !== 'incoming_call' && msg.type !== 'call_state') return;
  if (!msg.callId) return;
  const id = String(msg.callId);
  const prevPhase = seenPhase.get(id);
  rememberPhase(id, msg.phase);
  const call = callFromMessage({ ...msg, callId: id }, calls.get(id)?.call);
  upsertCall(call);
  if (popTrigger(msg, prevPhase)) {
    // A replayed call pops only if it is still going on once the replay is complete.
    if (replay) pendingPops.add(id);
    else popFor(call);
  } else if (LIVE_PHASES.has(call.phase) && wasPopped(id)) {
    markPopped(id); // a long call stays "popped" for as long as it goes on
  }
  if (!LIVE_PHASES.has(call.phase)) closeNotification(id);
  if (blockedCall && blockedCall.id === call.id) blockedCall = call;
  trackRinging(call);
  updateRinging();
});

// After a reconnect, pop only the replayed calls that are still going on.
socket.addEventListener('synced', () => {
  const ids = [...pendingPops];
  pendingPops.clear();
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
