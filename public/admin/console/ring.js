// @ts-check
// Ring sound: a short two-pulse tone from an OscillatorNode while a call rings in this console.
// One tab of the browser rings (Web Lock `cti-ring`); another takes over if that one closes.
import { $ } from '../lib/dom.js';
import { closedNow, refreshHours } from '../lib/hours.js';
import { currentSettings } from './settings.js';

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
    /** @type {((value?: unknown) => void) | null} */
    this.releaseLock = null;
  }

  /** True once audio can actually be heard (the browser needs a user gesture first). */
  get audible() {
    return this.ctx?.state === 'running';
  }

  /** Creates or resumes the audio context; call from a user gesture. */
  unlock() {
    const AC = window.AudioContext ?? /** @type {any} */ (window).webkitAudioContext; // Safari before 14.1
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

const ui = { status: $('#ring-status'), hint: $('#ring-hint') };

/** callId -> when this console first saw it ringing (local clock) */
const ringingSince = new Map();
/** Ringing calls that came in outside their store's hours (時間外). */
const afterHours = new Set();
let ringTimer = null;
/** Whether the ring sound is wanted at all: someone is logged in and has it switched on. */
let enabled = () => false;

function renderRinger() {
  // The console's settings card shows these; other pages ring without them.
  if (ui.status) ui.status.hidden = !ringer.playing;
  if (ui.hint) ui.hint.hidden = !(enabled() && !ringer.audible);
}

const ringer = new Ringer(renderRinger);

/** Rings while an inbound call rings (and the sound is enabled); stops calls stuck ringing. */
export function updateRinging() {
  clearTimeout(ringTimer);
  ringTimer = null;
  const now = Date.now();
  let next = Infinity;
  for (const [id, since] of ringingSince) {
    const left = since + RING_MAX_MS - now;
    if (left <= 0) ringingSince.delete(id);
    else next = Math.min(next, left);
  }
  // 営業時間外は着信音を鳴らさない: a call outside its store's hours rings only if that is off.
  const mute = currentSettings().muteAfterHours;
  const audible = [...ringingSince.keys()].some((id) => !(mute && afterHours.has(id)));
  const ring = enabled() && audible;
  ringer.set(ring);
  if (ring && Number.isFinite(next)) ringTimer = setTimeout(updateRinging, next + 50);
  renderRinger();
}

/** How many inbound calls ring now. */
export const ringingCount = () => ringingSince.size;

/** Notes whether `call` is an inbound call ringing now. */
export function trackRinging(call) {
  if (call.phase === 'ringing' && call.direction !== 'outbound') {
    if (!ringingSince.has(call.id)) {
      ringingSince.set(call.id, Date.now());
      if (closedNow(call.storeId)) afterHours.add(call.id);
      // The hours as of the last minute decide at once; a fresher answer may still mute it.
      refreshHours().then(() => {
        if (ringingSince.has(call.id) && closedNow(call.storeId) && !afterHours.has(call.id)) {
          afterHours.add(call.id);
          updateRinging();
        }
      });
    }
  } else {
    ringingSince.delete(call.id);
    afterHours.delete(call.id);
  }
}

/** Whether a call this console saw ringing came in outside its store's hours. */
export const ringingAfterHours = (id) => afterHours.has(id);

/** Forgets every ringing call (logout, another user) and stops the sound. */
export function clearRinging() {
  ringingSince.clear();
  afterHours.clear();
  updateRinging();
}

/** Lets audio start; call from a user gesture (the click that turned the sound on). */
export function unlockRing() {
  ringer.unlock();
}

/** `isEnabled()` says whether the ring sound is wanted (logged in and switched on). */
export function initRing(isEnabled) {
  enabled = isEnabled;
  // Browsers start audio only after a gesture on the page: the first click or key unlocks it.
  for (const type of ['pointerdown', 'keydown']) {
    document.addEventListener(
      type,
      () => {
        if (enabled() && !ringer.audible) ringer.unlock();
      },
      { capture: true },
    );
  }
}
