// Generated from the Rust types (src/domain/protocol.rs, src/domain/messages.rs) by
// src/domain/protocol_ts.rs; `cargo test` fails when this file differs from them. Do not edit:
// change the Rust types, then run `UPDATE_PROTOCOL=1 cargo test protocol_ts`.

/** The parts several messages (or places in one) share. */

/** A customer as a call shows them (`customer`, and each of `candidates`). */
export interface CustomerCard {
  customerType: string;
  fields: Array<{
    id: number;
    kind: string;
    label: string;
    value: string;
  }>;
  flag: string | null;
  homeStore: {
    id: number;
    name: string;
  } | null;
  id: number;
  kana: string;
  memo: string;
  name: string;
  phones: Array<string>;
  shared?: boolean;
  updatedAt: string;
  usage: {
    calls: number;
    firstContact: number | null;
    lastCall: number | null;
    lastVisit: string | null;
    missed30d: number;
    totalSpend: number;
    visits: number;
  };
  version: number;
}

/** The messages a console's socket receives, by `type`. */

/** A call's event (`incoming_call` pops a window; `call_state` every later change), with its seq. */
export interface CallMessage {
  answeredBy?: string;
  answeredByUserId?: string;
  callId: string;
  candidates: Array<CustomerCard>;
  connectedAt: number | null;
  contactName: string | null;
  customer: CustomerCard | null;
  customerPhone: string;
  direction: string;
  durationMs: number | null;
  endedAt: number | null;
  incomingNumber: string;
  isTest: boolean;
  legId: string;
  phase: string;
  recordingUrls?: Array<string>;
  seq: number;
  startedAt: number;
  state: string;
  store: {
    id: number | null;
    name: string;
  };
  summary?: string;
  timestamp: string;
  transcript?: string;
  type: 'call_state' | 'incoming_call';
  voicemailUrl?: string;
}

/** First on every socket: the newest seq, and how many messages the replay that follows holds. */
export interface Hello {
  replay: number;
  seq: number;
  type: 'hello';
}

/** What the console sent could not be done. */
export interface ErrorMessage {
  code: 'temporarily_unavailable' | 'unknown_call' | 'unknown_message';
  type: 'error';
}

/** 対応中: a user has the call (live only, no seq). */
export interface CallClaimed {
  by: string;
  callId: string;
  type: 'call_claimed';
  uid: number;
}

/** Calls no webhook brought were found in Dialpad and recorded. */
export interface CallsRecovered {
  missed: number;
  seq: number;
  storeId: number | null;
  type: 'calls_recovered';
}

/** A store's 折り返し list changed. */
export interface CallbacksChanged {
  seq: number;
  storeId: number | null;
  type: 'callbacks_changed';
}

/** A call's wrap-up was saved (live only, no seq). */
export interface CallWrapup {
  at: number;
  by: string | null;
  callId: string;
  category: string;
  outcome: string;
  type: 'call_wrapup';
  version: number;
}

/** A customer was created, changed or merged. */
export interface CustomerChanged {
  customer: {
    id: number;
    name: string;
    phones: Array<string>;
  };
  mergedFrom?: number;
  seq: number;
  storeId: number | null;
  type: 'customer_changed';
}

export type SocketMessage =
  | CallMessage
  | Hello
  | ErrorMessage
  | CallClaimed
  | CallsRecovered
  | CallbacksChanged
  | CallWrapup
  | CustomerChanged;

/** What a console may send on its socket (besides the text `ping`). */

/** Replay what came after `since` (a gap noticed), or the live calls without it. */
export interface SyncRequest {
  since: number | null;
  type: 'sync';
}

/** 対応中: this user has the call. */
export interface ClaimRequest {
  callId: string;
  type: 'claim';
}

export type ClientMessage =
  | SyncRequest
  | ClaimRequest;

/** Every message type, by constant name. */
export declare const MessageType: Readonly<{
  CALL_CLAIMED: 'call_claimed';
  CALL_STATE: 'call_state';
  CALL_WRAPUP: 'call_wrapup';
  CALLBACKS_CHANGED: 'callbacks_changed';
  CALLS_RECOVERED: 'calls_recovered';
  CUSTOMER_CHANGED: 'customer_changed';
  ERROR: 'error';
  HELLO: 'hello';
  INCOMING_CALL: 'incoming_call';
  SYNC: 'sync';
  CLAIM: 'claim';
}>;

/** The codes the hub closes a socket with. */
export declare const CloseCode: Readonly<{
  REVOKED: 4001;
  TRY_AGAIN: 1013;
  POLICY: 1008;
  TOO_BIG: 1009;
  UNSUPPORTED: 1003;
  SOCKET_ERROR: 1011;
}>;
