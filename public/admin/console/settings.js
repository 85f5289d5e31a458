// @ts-check
// The console's settings: when to pop (着信時 / 応答時), outbound calls, ring sound, desktop
// notifications. Per browser and user, in localStorage (preferences only, never a credential);
// another tab changing them is followed through the `storage` event.
import { $ } from '../lib/dom.js';
import { TEXT } from '../lib/messages.js';

const SETTINGS_PREFIX = 'cti.settings.';
/**
 * @typedef {object} ConsoleSettings
 * @property {'ring' | 'answer'} popTiming
 * @property {boolean} popOutbound
 * @property {boolean} ringSound
 * @property {boolean} desktopNotify
 * @property {'each' | 'single'} popupMode
 * @property {number} autoCloseSecs
 * @property {boolean} muteAfterHours
 */

/** @type {Readonly<ConsoleSettings>} */
const DEFAULT_SETTINGS = Object.freeze({
  popTiming: 'ring', // 'ring' = 着信時, 'answer' = 応答時
  popOutbound: false,
  ringSound: false,
  desktopNotify: false,
  popupMode: 'each', // 'each' = a window per call, 'single' = one window for every call
  autoCloseSecs: 60, // a popup of a call that ended unanswered closes after this (0 = never)
  muteAfterHours: true, // 営業時間外は着信音を鳴らさない
});

/** The choices of 不在着信のポップアップを閉じる (seconds; 0 = never). */
export const AUTO_CLOSE_CHOICES = Object.freeze([0, 30, 60, 300]);

const ui = {
  form: $('#settings-form'),
  notifyHint: $('#notify-hint'),
};

/** @type {ConsoleSettings} */
let settings = { ...DEFAULT_SETTINGS };
let userId = null;
/** @type {(settings: ConsoleSettings) => void} */
let onChange = () => {};

/** The settings in force (defaults while nobody is logged in). */
export const currentSettings = () => settings;

const storageKey = () => (userId === null ? null : `${SETTINGS_PREFIX}${userId}`);

function readSettings() {
  const s = { ...DEFAULT_SETTINGS };
  const key = storageKey();
  if (!key) return s;
  let v = null;
  try {
    v = JSON.parse(localStorage.getItem(key) ?? 'null');
  } catch {
    v = null;
  }
  if (v && typeof v === 'object') {
    if (v.popTiming === 'ring' || v.popTiming === 'answer') s.popTiming = v.popTiming;
    for (const k of ['popOutbound', 'ringSound', 'desktopNotify', 'muteAfterHours'])
      if (typeof v[k] === 'boolean') s[k] = v[k];
    if (v.popupMode === 'each' || v.popupMode === 'single') s.popupMode = v.popupMode;
    if (AUTO_CLOSE_CHOICES.includes(v.autoCloseSecs)) s.autoCloseSecs = v.autoCloseSecs;
  }
  return s;
}

function saveSettings() {
  const key = storageKey();
  if (!key) return;
  try {
    localStorage.setItem(key, JSON.stringify(settings));
  } catch {
    /* storage disabled: the settings last as long as the page */
  }
}

function renderSettings() {
  if (!ui.form) return; // a page without the console's settings card follows them all the same
  const f = ui.form.elements;
  $('#set-pop-ring').checked = settings.popTiming === 'ring';
  $('#set-pop-answer').checked = settings.popTiming === 'answer';
  f.popOutbound.checked = settings.popOutbound;
  f.ringSound.checked = settings.ringSound;
  if (f.muteAfterHours) f.muteAfterHours.checked = settings.muteAfterHours;
  f.desktopNotify.checked = settings.desktopNotify;
  f.popupMode.value = settings.popupMode;
  f.autoCloseSecs.value = String(settings.autoCloseSecs);
  if (settings.desktopNotify && notifyPermission() !== 'granted') {
    notifyHint(TEXT.notifyNotAllowed);
  } else if (settings.desktopNotify || !ui.notifyHint.dataset.sticky) {
    notifyHint(null);
  }
}

function apply() {
  renderSettings();
  onChange(settings);
}

/** Loads the settings of `user` (null: logged out, the defaults). */
export function loadSettings(user) {
  userId = user ? user.id : null;
  settings = readSettings();
  apply();
}

export function notifyPermission() {
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
    notifyHint(TEXT.notifyUnsupported, true);
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
    notifyHint(p === 'denied' ? TEXT.notifyBlocked : TEXT.notifyRefused, true);
    return false;
  }
  notifyHint(null);
  return true;
}

/**
 * Wires the settings form. `changed(settings)` runs after every load or change;
 * `ringTurnedOn()` runs in the click that turned the ring sound on (the gesture audio needs).
 */
export function initSettings({ changed, ringTurnedOn }) {
  onChange = changed;
  // Another tab of this browser changed the settings: follow.
  window.addEventListener('storage', (ev) => {
    if (userId !== null && ev.key === storageKey()) {
      settings = readSettings();
      apply();
    }
  });
  if (!ui.form) return;
  ui.form.addEventListener('submit', (ev) => ev.preventDefault());
  ui.form.addEventListener('change', async (ev) => {
    const t = ev.target;
    if (userId === null) return;
    switch (t.name) {
      case 'popTiming':
        if (t.checked) settings.popTiming = t.value === 'answer' ? 'answer' : 'ring';
        break;
      case 'popOutbound':
        settings.popOutbound = t.checked;
        break;
      case 'popupMode':
        if (t.checked) settings.popupMode = t.value === 'single' ? 'single' : 'each';
        break;
      case 'autoCloseSecs': {
        const secs = Number(t.value);
        settings.autoCloseSecs = AUTO_CLOSE_CHOICES.includes(secs)
          ? secs
          : DEFAULT_SETTINGS.autoCloseSecs;
        break;
      }
      case 'muteAfterHours':
        settings.muteAfterHours = t.checked;
        break;
      case 'ringSound':
        settings.ringSound = t.checked;
        if (t.checked) ringTurnedOn();
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
    apply();
  });
}
