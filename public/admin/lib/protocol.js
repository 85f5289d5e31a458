// @ts-check
// Generated from the Rust types (src/domain/protocol.rs, src/domain/messages.rs) by
// src/domain/protocol_ts.rs; `cargo test` fails when this file differs from them. Do not edit:
// change the Rust types, then run `UPDATE_PROTOCOL=1 cargo test protocol_ts`.
// Types: protocol.d.ts beside it.

/** Every message type the socket carries, by constant name. */
export const MessageType = Object.freeze({
  CALL_CLAIMED: 'call_claimed',
  CALL_STATE: 'call_state',
  CALL_WRAPUP: 'call_wrapup',
  CALLBACKS_CHANGED: 'callbacks_changed',
  CALLS_RECOVERED: 'calls_recovered',
  CUSTOMER_CHANGED: 'customer_changed',
  ERROR: 'error',
  HELLO: 'hello',
  INCOMING_CALL: 'incoming_call',
  SYNC: 'sync',
  CLAIM: 'claim',
});

/** The codes the hub closes a socket with. */
export const CloseCode = Object.freeze({
  REVOKED: 4001,
  TRY_AGAIN: 1013,
  POLICY: 1008,
  TOO_BIG: 1009,
  UNSUPPORTED: 1003,
  SOCKET_ERROR: 1011,
});
