// @ts-check
// The popup's link to the listening pages of this browser (lib/live-channel.js):
//  - a popup whose call ended unanswered (不在着信, 留守電) closes itself after the time chosen
//    on the console's 設定 (応答されなかった着信のポップアップを閉じる), never while it holds
//    unsaved text (a half-typed wrap-up, memo, note or registration);
//  - a popup whose session ended (「ログインしてください」) looks its call up again as soon as
//    someone logs in on any page of this browser: no second console, no re-opened window;
//  - in the single reusable window (設定: 1つのウィンドウにまとめる, `desk=1` in the address)
//    it lists the other live calls (他の着信) and shows a new one when asked, but only once the
//    call on screen is over and nothing typed would be lost.
import { $, el } from '../lib/dom.js';
import { fmtPhone } from '../lib/format.js';
import { LIVE_PHASES, phaseLabel } from '../lib/calls.js';
import { openChannel, DESK_HEARTBEAT_MS, UNANSWERED_END } from '../lib/live-channel.js';
import { readDraft } from '../lib/drafts.js';

const params = new URLSearchParams(location.search);
const callId = params.get('callId') || null;
const isDesk = params.get('desk') === '1';
const channel = openChannel();

/** callId -> the newest state the listening pages told us */
const known = new Map();
let autoCloseSecs = null;
let closeTimer = null;

/** The phase of this popup's call as the popup itself shows it (its own socket), else as told. */
function myPhase() {
  const shown = $('#call-state')?.dataset.phase;
  if (shown && shown !== 'none') return shown;
  return known.get(callId)?.phase ?? null;
}

/** Typed text that would be lost if the window went away now. */
export function hasUnsavedText() {
  if (callId && readDraft(callId)) return true;
  // The wrap-up keeps its draft above; other text fields start empty (an open memo editor
  // counts as unsaved). Lists are filled in by script, so only typed text is looked at.
  return hasOtherUnsavedText();
}

// ---------------------------------------------------------------------------------------------
// Closing after an unanswered end

function scheduleClose() {
  clearTimeout(closeTimer);
  closeTimer = null;
  if (!UNANSWERED_END.has(myPhase())) return;
  if (!Number.isFinite(autoCloseSecs) || autoCloseSecs <= 0) return;
  closeTimer = setTimeout(tryClose, autoCloseSecs * 1000);
}

function tryClose() {
  closeTimer = null;
  if (!UNANSWERED_END.has(myPhase())) return;
  // Never over unsaved text: look again later (the text may be saved or cleared meanwhile).
  if (hasUnsavedText() || document.querySelector('dialog[open]')) {
    closeTimer = setTimeout(tryClose, 5_000);
    return;
  }
  if (isDesk && showNextLive()) return;
  window.close();
}

// The popup's own socket moves the call's phase on screen: follow it.
function watchPhase() {
  const node = $('#call-state');
  if (!node) return;
  new MutationObserver(() => {
    scheduleClose();
    if (isDesk) renderOthers();
  }).observe(node, { attributes: true, attributeFilter: ['data-phase'] });
}

// ---------------------------------------------------------------------------------------------
// The single window: the other live calls

let othersBar = null;
let pendingShow = null;

function otherLiveCalls() {
  return [...known.values()]
    .filter((c) => c.id !== callId && LIVE_PHASES.has(c.phase))
    .sort((a, b) => (b.startedAt ?? 0) - (a.startedAt ?? 0));
}

function callLabel(c) {
  const who = c.customerName || (c.caller ? fmtPhone(c.caller) : '非通知');
  return `${who}${c.storeName ? `（${c.storeName}）` : ''} ${phaseLabel(c.phase, c.direction)}`;
}

function go(id) {
  clearTimeout(closeTimer);
  location.assign(`/admin/popup/cti?${new URLSearchParams({ callId: id, desk: '1' })}`);
}

function renderOthers() {
  if (!othersBar) {
    othersBar = el('nav', { class: 'desk-others', attrs: { 'aria-label': '他の着信' } });
    document.body.prepend(othersBar);
  }
  const others = otherLiveCalls();
  othersBar.hidden = others.length === 0;
  othersBar.replaceChildren(
    el('span', { class: 'desk-others-title', text: `他の着信 ${others.length}件` }),
    ...others.map((c) =>
      el('button', {
        class: ['btn', 'btn-small', c.id === pendingShow && 'btn-primary'],
        text: callLabel(c),
        attrs: { type: 'button', title: 'この着信に切り替える（入力中の内容は保存されます）' },
        on: { click: () => switchTo(c.id) },
      }),
    ),
  );
}

/** The user picked another call. A wrap-up's draft is kept under its call and comes back;
 * other typed text would be lost, so the switch waits until it is saved or cleared. */
function switchTo(id) {
  if (hasOtherUnsavedText()) {
    pendingShow = id;
    renderOthers();
    const note = el('p', {
      class: 'form-error desk-wait',
      attrs: { role: 'alert' },
      text: '入力中の内容を保存してから切り替えてください。',
    });
    othersBar.append(note);
    return;
  }
  go(id);
}

function hasOtherUnsavedText() {
  for (const f of /** @type {NodeListOf<HTMLInputElement | HTMLTextAreaElement>} */ (
    document.querySelectorAll('input, textarea')
  )) {
    if (f.closest('[hidden], #wrapup-form') || f.disabled) continue;
    if (['hidden', 'checkbox', 'radio', 'button', 'submit'].includes(f.type)) continue;
    if (f.value !== f.defaultValue) return true;
  }
  return false;
}

/** Asked to show a call: now when the call on screen is over and nothing typed would be lost. */
function deskShow(id) {
  if (!id || id === callId) return;
  pendingShow = id;
  const phase = myPhase();
  if (!LIVE_PHASES.has(phase) && !hasUnsavedText()) go(id);
  else renderOthers();
}

/** The call on screen is over: show the newest live one instead, if any. */
function showNextLive() {
  const next = otherLiveCalls()[0];
  if (!next) return false;
  go(next.id);
  return true;
}

// ---------------------------------------------------------------------------------------------
// The channel

channel.addEventListener('message', (ev) => {
  const m = ev.data;
  if (!m || typeof m !== 'object') return;
  switch (m.type) {
    case 'call':
      if (m.call?.id) known.set(String(m.call.id), m.call);
      if (Number.isFinite(m.autoCloseSecs)) autoCloseSecs = m.autoCloseSecs;
      if (m.call?.id === callId || isDesk) scheduleClose();
      if (isDesk) renderOthers();
      break;
    case 'calls':
      for (const c of Array.isArray(m.calls) ? m.calls : []) if (c?.id) known.set(String(c.id), c);
      if (Number.isFinite(m.autoCloseSecs)) autoCloseSecs = m.autoCloseSecs;
      scheduleClose();
      if (isDesk) renderOthers();
      break;
    case 'desk-show':
      if (isDesk) deskShow(String(m.callId));
      break;
    case 'login': {
      // A session ended under this popup; someone logged in again: look the call up again.
      const auth = $('#auth-view');
      if (auth && !auth.hidden) location.reload();
      break;
    }
    default:
  }
});

watchPhase();
channel.postMessage({ type: 'calls?' });
if (isDesk) {
  const here = () => channel.postMessage({ type: 'desk-here', callId });
  here();
  setInterval(here, DESK_HEARTBEAT_MS);
  window.addEventListener('pagehide', () => channel.postMessage({ type: 'desk-gone' }));
  renderOthers();
}
