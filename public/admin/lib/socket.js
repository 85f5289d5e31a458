// @ts-check
// The live channel: the CTI socket (`/api/cti/socket`) and the connection indicator of the
// console and the popup.
import { api } from './api.js';
import { MessageTarget } from './events.js';
import { CloseCode, MessageType } from './protocol.js';

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
 *               `replay` is true for messages the hub replayed on (re)connect, `catchUp` for
 *               those of a first connect (the latest event of every live call).
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
export class CtiSocket extends MessageTarget {
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
    // Without `since` the hub sends the latest event of every live call: a catch-up.
    this.catchUp = !this.synced;
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
    if (msg.type === MessageType.HELLO) {
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
    if (msg.type === MessageType.ERROR) {
      console.warn('cti socket:', msg);
      return;
    }
    if (msg.type === MessageType.CALL_CLAIMED) {
      // 対応中: live only, never replayed, so it carries no seq.
      this.dispatchEvent(new CustomEvent('claim', { detail: msg }));
      return;
    }
    if (msg.type === MessageType.CALL_WRAPUP && typeof msg.seq !== 'number') {
      // A wrap-up was saved: live only (never replayed), so it carries no seq either.
      this.dispatchEvent(
        new CustomEvent('message', { detail: { msg, replay: false, catchUp: false } }),
      );
      return;
    }
    if (typeof msg.seq !== 'number') return;
    if (msg.seq <= this.lastSeq) return; // already seen (replay overlap)
    this.lastSeq = msg.seq;
    this.dispatchEvent(
      new CustomEvent('message', {
        detail: { msg, replay: this.replaying, catchUp: this.replaying && this.catchUp },
      }),
    );
  }

  /** Sends a client message (`{type: "claim", callId}`); false when not connected. */
  send(msg) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN || !this.gotHello) return false;
    this.ws.send(JSON.stringify(msg));
    return true;
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
    if (ev.code === CloseCode.REVOKED || !hadHello) {
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

/** Keeps a connection indicator (`.conn` with its text node) in step with a socket. */
export function showConnection(socket, conn, status) {
  socket.addEventListener('status', (ev) => {
    conn.dataset.status = ev.detail;
    status.textContent = CONN_LABELS[ev.detail] ?? ev.detail;
  });
}
