// @ts-check
// How the pages of one browser talk about live calls: a BroadcastChannel (`cti-live`, same
// origin only). Every signed-in page listens for calls (lib/listener.js) and tells the popups
// what it hears; the popups use it to close themselves after an unanswered call, to show the
// other live calls in the single reusable window, and to re-attach after a new login.
//
// Messages (all `{type, …}`):
//  - `call`      {call, autoCloseSecs}: a listening page saw a call change (the call as the
//                console's rows have it: id, caller, customerName, storeName, phase, …).
//  - `calls?`    a popup asks for the live calls; every listening page answers `calls`.
//  - `calls`     {calls, autoCloseSecs}: the live calls one listening page knows.
//  - `desk-here` / `desk-gone`: the single popup window is open / has gone (sent on load,
//                every few seconds, and on pagehide).
//  - `desk-show` {callId}: the listening page that won a call's pop asks the single window to
//                show it (the window decides when: never over unsaved text).
//  - `login`     {userId}: someone logged in; a popup whose session had ended looks again.
//  - `call?`     {callId}: a popup opening asks for its call's last message (the pop, with the
//                caller's card); a listening page that has it answers `call-msg` {msg}, so the
//                popup shows who is calling without waiting for D1.

export const CHANNEL = 'cti-live';

/** How often the single window says it is there, and after how long silence it counts as gone. */
export const DESK_HEARTBEAT_MS = 2_000;
export const DESK_SILENCE_MS = 5_000;

/**
 * The channel, or a stand-in that does nothing where BroadcastChannel is missing.
 * @returns {BroadcastChannel}
 */
export function openChannel() {
  if (typeof BroadcastChannel === 'function') return new BroadcastChannel(CHANNEL);
  return /** @type {BroadcastChannel} */ (
    /** @type {unknown} */ ({ postMessage() {}, addEventListener() {}, close() {} })
  );
}

/** The phases of a call that ended without anyone answering it. */
export const UNANSWERED_END = new Set(['missed', 'voicemail']);
