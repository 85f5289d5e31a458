// @ts-check
// The popup's call state line: the phase (announced by screen readers through its own
// `role=status` node) and the running timer next to it, which is outside that live region
// (`role=timer`, not announced) so a ticking clock does not talk every second.
import { $ } from '../lib/dom.js';
import { fmtDuration } from '../lib/format.js';
import { phaseLabel } from '../lib/calls.js';

const ui = { line: $('#call-state'), label: $('#call-state-label'), timer: $('#call-timer') };

/** live state of this call; `fromSocket` once the hub has told us anything */
let call = null;
let ticker = null;

function render() {
  clearInterval(ticker);
  ticker = null;
  if (!call) {
    ui.line.hidden = true;
    return;
  }
  ui.line.hidden = false;
  ui.line.dataset.phase = call.phase;
  const label = phaseLabel(call.phase);
  if (ui.label.textContent !== label) ui.label.textContent = label;
  let timer = null;
  if (call.phase === 'connected' || call.phase === 'hold') {
    call.connectedAt ??= Date.now();
    const since = call.connectedAt;
    const tick = () => {
      ui.timer.textContent = fmtDuration(Date.now() - since);
    };
    tick();
    ticker = setInterval(tick, 1000);
    timer = true;
  } else if (call.phase === 'ended' && call.durationMs) {
    ui.timer.textContent = `(${fmtDuration(call.durationMs)})`;
    timer = true;
  }
  if (!timer) ui.timer.textContent = '';
  ui.timer.hidden = !timer;
}

/** Starts the line for the popup's call (ringing until told otherwise); none: hidden. */
export function initCallState(hasCall) {
  call = hasCall
    ? { phase: 'ringing', state: 'ringing', connectedAt: null, durationMs: null, fromSocket: false }
    : null;
  render();
}

/** Applies a call-log entry (`fromSocket` false) or a socket message about this call. */
export function applyCall(src, fromSocket) {
  if (!call) return;
  if (!fromSocket && call.fromSocket) return; // the hub's word is newer than the lookup
  call = {
    phase: src.phase || call.phase,
    state: src.state || call.state,
    connectedAt: src.connectedAt ?? (src.phase === call.phase ? call.connectedAt : null),
    durationMs: src.durationMs ?? null,
    fromSocket: fromSocket || call.fromSocket,
  };
  render();
}
