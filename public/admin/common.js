// Shared by the console (/admin/) and the call popup (/admin/customer-management/cti).
// Plain ES module, no build step. Everything that reaches the DOM goes through `el()` /
// textContent: user data is never parsed as HTML.

/** Japanese labels for the call phases the Worker sends. */
export const PHASE_LABELS = Object.freeze({
  ringing: '着信中',
  connected: '通話中',
  hold: '保留中',
  ended: '終了',
  missed: '不在着信',
  voicemail: '留守電',
  other: 'その他',
});

/** Phases of a call that is still going on. */
export const LIVE_PHASES = new Set(['ringing', 'connected', 'hold']);

/** The label of a phase; an outbound call that is still ringing is 発信中, not 着信中. */
export function phaseLabel(phase, direction) {
  if (phase === 'ringing' && direction === 'outbound') return '発信中';
  return PHASE_LABELS[phase] ?? PHASE_LABELS.other;
}

/**
 * Builds an element. `opts`: class (string or array), text, attrs (object), dataset (object),
 * on (object of event listeners), hidden. Children: nodes, strings (as text), null/false skipped.
 */
export function el(tag, opts = {}, ...children) {
  const node = document.createElement(tag);
  const { class: cls, text, attrs, dataset, on, hidden } = opts ?? {};
  if (cls) node.className = Array.isArray(cls) ? cls.filter(Boolean).join(' ') : cls;
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === false || v === null || v === undefined) continue;
      node.setAttribute(k, v === true ? '' : String(v));
    }
  }
  if (dataset) Object.assign(node.dataset, dataset);
  if (on) for (const [type, fn] of Object.entries(on)) node.addEventListener(type, fn);
  if (hidden) node.hidden = true;
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Replaces all children of `node`. */
export function setChildren(node, ...children) {
  node.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
}

export const $ = (sel, root = document) => root.querySelector(sel);

/** An API failure: `status` 0 means the network itself failed. */
export class ApiError extends Error {
  constructor(status, body) {
    const err = body && typeof body === 'object' ? body.error : null;
    super(err?.message || (status === 0 ? 'サーバーに接続できません' : `エラーが発生しました (${status})`));
    this.status = status;
    this.code = err?.code ?? null;
    this.field = err?.field ?? null;
    // The server's whole error object: a 409's `current` record, an import's `rows`.
    this.details = err && typeof err === 'object' ? err : null;
  }
}

/**
 * Same-origin JSON request. The session travels in the HttpOnly cookie; nothing is stored
 * client side. Resolves with the parsed body, rejects with ApiError.
 */
export function api(path, options = {}) {
  return apiRequest(path, options);
}

// ---------------------------------------------------------------------------------------------
// Formatters

/** 09012345678 -> 090-1234-5678; digits the rules do not know are returned unchanged. */
export function fmtPhone(n) {
  if (!n) return '非通知';
  const s = String(n);
  if (!/^\d+$/.test(s)) return s;
  if (/^0[5789]0\d{8}$/.test(s)) return `${s.slice(0, 3)}-${s.slice(3, 7)}-${s.slice(7)}`;
  if (/^0(120|800)\d{6,7}$/.test(s)) return `${s.slice(0, 4)}-${s.slice(4, 7)}-${s.slice(7)}`;
  if (/^0[36]\d{8}$/.test(s)) return `${s.slice(0, 2)}-${s.slice(2, 6)}-${s.slice(6)}`;
  if (/^0\d{9}$/.test(s)) return `${s.slice(0, 3)}-${s.slice(3, 6)}-${s.slice(6)}`;
  return s;
}

const pad2 = (n) => String(n).padStart(2, '0');

function toDate(v) {
  if (v === null || v === undefined || v === '') return null;
  const d = typeof v === 'number' ? new Date(v) : new Date(String(v));
  return Number.isNaN(d.getTime()) ? null : d;
}

/** HH:MM for today, M/D HH:MM this year, YYYY/M/D HH:MM otherwise. */
export function fmtTime(v) {
  const d = toDate(v);
  if (!d) return '—';
  const now = new Date();
  const hm = `${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
  if (d.toDateString() === now.toDateString()) return hm;
  if (d.getFullYear() === now.getFullYear()) return `${d.getMonth() + 1}/${d.getDate()} ${hm}`;
  return `${d.getFullYear()}/${d.getMonth() + 1}/${d.getDate()} ${hm}`;
}

/** YYYY/MM/DD HH:MM */
export function fmtDateTime(v) {
  const d = toDate(v);
  if (!d) return '—';
  return `${d.getFullYear()}/${pad2(d.getMonth() + 1)}/${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
}

/** YYYY/MM/DD. Plain dates ("2026-11-02") are shown as written, not shifted by time zone. */
export function fmtDate(v) {
  if (typeof v === 'string' && /^\d{4}-\d\d-\d\d$/.test(v)) return v.replaceAll('-', '/');
  const d = toDate(v);
  if (!d) return '—';
  return `${d.getFullYear()}/${pad2(d.getMonth() + 1)}/${pad2(d.getDate())}`;
}

/** m:ss, or h:mm:ss from an hour. */
export function fmtDuration(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return h > 0 ? `${h}:${pad2(m)}:${pad2(s)}` : `${m}:${pad2(s)}`;
}

const yen = new Intl.NumberFormat('ja-JP');
export function fmtYen(n) {
  return `¥${yen.format(Number(n) || 0)}`;
}

export function fmtCount(n, unit) {
  return `${yen.format(Number(n) || 0)}${unit}`;
}

/** CSS class for a customer flag or type badge. */
export function badgeClass(value) {
  switch (value) {
    case 'ブロック':
      return 'badge badge-block';
    case '要注意':
      return 'badge badge-warn';
    case 'VIP':
      return 'badge badge-vip';
    case '会員':
      return 'badge badge-member';
    case '新規':
      return 'badge badge-new';
    default:
      return 'badge';
  }
}

/** The popup's URL for a call. */
export function popupUrl({ callId, phone, incoming }) {
  const q = new URLSearchParams();
  if (callId) q.set('callId', callId);
  q.set('phone', phone ?? '');
  if (incoming) q.set('incoming', incoming);
  return `/admin/customer-management/cti?${q}`;
}

export const POPUP_FEATURES = 'width=500,height=700';

// ---------------------------------------------------------------------------------------------
// Live channel

export const CONN_LABELS = Object.freeze({
  connecting: '接続待ち',
  open: '接続中',
  reconnecting: '再接続中',
  closed: '切断',
});

const PING_EVERY_MS = 20_000;
const PONG_TIMEOUT_MS = 10_000;
const HELLO_TIMEOUT_MS = 10_000;
const BACKOFF_MIN_MS = 1_000;
const BACKOFF_MAX_MS = 30_000;

/**
 * The CTI socket (`/api/cti/socket`), authenticated by the session cookie.
 *
 * Events (EventTarget):
 *  - `status`   detail: 'connecting' | 'open' | 'reconnecting' | 'closed'
 *  - `message`  detail: { msg, replay } for every call message not seen before (seq dedupe);
 *               `replay` is true for messages the hub replayed on (re)connect.
 *  - `synced`   after the replay of a (re)connect has been delivered.
 *  - `authlost` the session is gone (close 4001 or refused upgrade and /api/auth/me says 401).
 *
 * Keep-alive: text `ping` every 20 s, answered by `pong`; without an answer in 10 s the socket
 * is considered dead and replaced. Reconnects back off exponentially (1 s .. 30 s, jittered)
 * and ask for `?since=<highest seq seen>` so nothing is missed or repeated. Going offline drops
 * the socket at once (status `reconnecting`); coming back online or to the foreground retries
 * without waiting out the backoff.
 *
 * Status, honestly: `open` only once the hub's hello arrived; `reconnecting` from the moment a
 * socket is lost until the next hello; `closed` after stop() (logout) or when the session is
 * gone (then `authlost` follows).
 */
export class CtiSocket extends EventTarget {
  constructor({ path = '/api/cti/socket' } = {}) {
    super();
    this.path = path;
    this.ws = null;
    this.status = 'closed';
    this.lastSeq = 0;
    this.synced = false; // had a hello at least once: later connects ask for `since`
    this.attempt = 0;
    this.stopped = true;
    this.timers = { ping: null, pong: null, hello: null, retry: null };
    this.replaying = false;
    this.gotHello = false;
    // The network came back, or the tab became visible again (background timers are
    // throttled): retry now instead of waiting out the backoff.
    this.onOnline = () => this.retryNow();
    this.onVisible = () => {
      if (document.visibilityState !== 'visible' || this.stopped) return;
      if (this.timers.retry) this.retryNow();
      else if (this.status === 'open') this.ping(); // a dead socket shows up within the pong timeout
    };
    // The network is gone: the socket cannot work; say so now rather than after the pong timeout.
    this.onOffline = () => {
      if (this.stopped || !this.ws) return;
      this.drop(4000, 'offline');
      this.scheduleReconnect();
    };
  }

  retryNow() {
    if (this.stopped || !this.timers.retry) return;
    clearTimeout(this.timers.retry);
    this.timers.retry = null;
    this.open();
  }

  start() {
    if (!this.stopped) return;
    this.stopped = false;
    this.attempt = 0;
    window.addEventListener('online', this.onOnline);
    window.addEventListener('offline', this.onOffline);
    document.addEventListener('visibilitychange', this.onVisible);
    this.setStatus('connecting');
    this.open();
  }

  stop() {
    this.stopped = true;
    window.removeEventListener('online', this.onOnline);
    window.removeEventListener('offline', this.onOffline);
    document.removeEventListener('visibilitychange', this.onVisible);
    this.clearTimers();
    this.drop(1000, 'bye');
    this.setStatus('closed');
  }

  /** Forgets what was seen (another user logs in). */
  reset() {
    this.lastSeq = 0;
    this.synced = false;
  }

  setStatus(s) {
    if (this.status === s) return;
    this.status = s;
    this.dispatchEvent(new CustomEvent('status', { detail: s }));
  }

  url() {
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const q = this.synced ? `?since=${encodeURIComponent(this.lastSeq)}` : '';
    return `${proto}//${location.host}${this.path}${q}`;
  }

  clearTimers() {
    for (const k of Object.keys(this.timers)) {
      clearTimeout(this.timers[k]);
      this.timers[k] = null;
    }
  }

  /** Detaches and closes the current socket without triggering the close handler. */
  drop(code, reason) {
    const ws = this.ws;
    this.ws = null;
    if (!ws) return;
    ws.onopen = ws.onmessage = ws.onerror = ws.onclose = null;
    try {
      ws.close(code, reason);
    } catch {
      /* already closing */
    }
  }

  open() {
    this.timers.retry = null;
    if (this.stopped) return;
    this.gotHello = false;
    this.replaying = false;
    let ws;
    try {
      ws = new WebSocket(this.url());
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    this.timers.hello = setTimeout(() => {
      // Open but silent: treat as dead.
      this.drop(4000, 'no hello');
      this.scheduleReconnect();
    }, HELLO_TIMEOUT_MS);
    ws.onmessage = (ev) => this.onMessage(ev);
    ws.onclose = (ev) => this.onClose(ev);
  }

  onMessage(ev) {
    if (typeof ev.data !== 'string') return;
    if (ev.data === 'pong') {
      clearTimeout(this.timers.pong);
      this.timers.pong = null;
      if (this.replaying) {
        // The pong is ordered after everything the hub sent before it: the replay is done.
        this.replaying = false;
        this.lastSeq = Math.max(this.lastSeq, this.helloSeq ?? 0);
        this.dispatchEvent(new CustomEvent('synced'));
      }
      return;
    }
    let msg;
    try {
      msg = JSON.parse(ev.data);
    } catch {
      return;
    }
    if (!msg || typeof msg !== 'object') return;
    if (msg.type === 'hello') {
      clearTimeout(this.timers.hello);
      this.timers.hello = null;
      this.gotHello = true;
      this.helloSeq = Number(msg.seq) || 0;
      // The hub's storage was reset: its numbers start again below ours.
      if (this.lastSeq > this.helloSeq) this.lastSeq = 0;
      this.synced = true;
      this.attempt = 0;
      this.replaying = true;
      this.setStatus('open');
      this.ping();
      return;
    }
    if (msg.type === 'error') {
      console.warn('cti socket:', msg);
      return;
    }
    if (typeof msg.seq !== 'number') return;
    if (msg.seq <= this.lastSeq) return; // already seen (replay overlap)
    this.lastSeq = msg.seq;
    this.dispatchEvent(new CustomEvent('message', { detail: { msg, replay: this.replaying } }));
  }

  ping() {
    clearTimeout(this.timers.ping);
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    try {
      ws.send('ping');
    } catch {
      return;
    }
    clearTimeout(this.timers.pong);
    this.timers.pong = setTimeout(() => {
      this.drop(4000, 'pong timeout');
      this.scheduleReconnect();
    }, PONG_TIMEOUT_MS);
    this.timers.ping = setTimeout(() => this.ping(), PING_EVERY_MS);
  }

  async onClose(ev) {
    const hadHello = this.gotHello;
    this.ws = null;
    this.clearTimers();
    if (this.stopped) return;
    if (ev.code === 4001 || !hadHello) {
      // Session expired, or the upgrade was refused (the browser hides the status): ask.
      this.setStatus('reconnecting');
      try {
        await api('/api/auth/me');
      } catch (e) {
        if (e.status === 401) {
          this.stopped = true;
          this.setStatus('closed');
          this.dispatchEvent(new CustomEvent('authlost'));
          return;
        }
      }
      if (this.stopped) return;
    }
    this.scheduleReconnect();
  }

  scheduleReconnect() {
    if (this.stopped) return;
    this.clearTimers();
    this.attempt += 1;
    const cap = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** (this.attempt - 1));
    const delay = cap / 2 + Math.random() * (cap / 2); // "equal jitter"
    this.setStatus('reconnecting');
    this.timers.retry = setTimeout(() => this.open(), delay);
  }
}

// ---------------------------------------------------------------------------------------------
// Customer records (popup memo/notes, 顧客・店舗・着信履歴 pages)

/**
 * Same-origin request: `body` is sent as JSON, or `raw` (a Blob / File / string, e.g. a CSV
 * import) unchanged with `contentType`. Resolves with the parsed JSON body; rejects with
 * ApiError, whose `details` is the server's whole error object.
 */
export async function apiRequest(path, { method = 'GET', body, raw, contentType, signal } = {}) {
  const init = { method, credentials: 'same-origin', headers: { accept: 'application/json' }, signal };
  if (raw !== undefined) {
    init.body = raw;
    if (contentType) init.headers['content-type'] = contentType;
  } else if (body !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch (e) {
    if (e?.name === 'AbortError') throw e;
    throw new ApiError(0, null);
  }
  const text = await res.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

/** Note types, in the order forms offer them, with the CSS modifier of each. */
export const NOTE_TYPES = Object.freeze(['一般', '好み', '苦情', '注意', '重要']);
const NOTE_KEYS = Object.freeze({ 一般: 'general', 好み: 'pref', 苦情: 'complaint', 注意: 'caution', 重要: 'important' });

export function noteKey(type) {
  return NOTE_KEYS[type] ?? 'general';
}

/** One note as a list item: type badge, text, author and time. Text only, never markup. */
export function noteItem(note) {
  const key = noteKey(note.noteType);
  return el(
    'li',
    { class: ['note', `note-${key}`], dataset: { type: note.noteType ?? '', noteId: note.id ?? '' } },
    el('span', { class: ['note-type', `note-type-${key}`], text: note.noteType ?? '一般' }),
    el('span', { class: 'note-body', text: note.body ?? '' }),
    el('span', { class: 'note-meta', text: [note.authorName, note.createdAt ? fmtDateTime(note.createdAt) : null].filter(Boolean).join(' · ') }),
  );
}

/** `<option>`s for a note-type select. */
export function noteTypeOptions(selected = '一般') {
  return NOTE_TYPES.map((t) => el('option', { text: t, attrs: { value: t, selected: t === selected } }));
}

// ---------------------------------------------------------------------------------------------
// Form errors: a message next to the field the server named (`data-error-for`), else in `general`.

export function clearFormErrors(form, general) {
  for (const span of form.querySelectorAll('.field-error')) {
    span.hidden = true;
    span.textContent = '';
  }
  for (const input of form.querySelectorAll('[aria-invalid]')) input.removeAttribute('aria-invalid');
  if (general) general.hidden = true;
}

export function showFormError(form, general, field, message) {
  const span = field && form.querySelector(`[data-error-for="${CSS.escape(field)}"]`);
  if (!span) {
    general.textContent = message;
    general.hidden = false;
    return;
  }
  span.textContent = message;
  span.hidden = false;
  const input = form.elements[field];
  if (input) {
    input.setAttribute('aria-invalid', 'true');
    input.focus();
  }
}

// ---------------------------------------------------------------------------------------------
// Adding a note (popup and 顧客 page share the form: type select, text, error line, button)

/**
 * Posts the form's note for customer `id`. Resolves with the created note, or null when the
 * input was empty or the server refused (the reason is shown in `form.error`). A 401 is
 * rethrown so the page can send the user to the login.
 */
export async function submitNote(id, form) {
  form.error.hidden = true;
  const body = form.body.value.trim();
  if (!body) {
    form.error.textContent = 'ノートの内容を入力してください';
    form.error.hidden = false;
    form.body.focus();
    return null;
  }
  form.submit.disabled = true;
  try {
    const res = await apiRequest(`/api/customers/${encodeURIComponent(id)}/notes`, {
      method: 'POST',
      body: { type: form.type.value, body },
    });
    form.body.value = '';
    return res.note;
  } catch (e) {
    if (e.status === 401) throw e;
    form.error.textContent = e.status === 403 ? 'この顧客にノートを追加する権限がありません' : e.message;
    form.error.hidden = false;
    return null;
  } finally {
    form.submit.disabled = false;
  }
}
