//! The socket protocol in one place: every message a console's socket receives (beside the
//! call messages, `messages::CallMessage`), the codes the hub closes a
//! socket with, what a console may send, and the requests the Workers make of the hub. The
//! browser's `public/admin/lib/protocol.d.ts` and `protocol.js` are generated from these types
//! (`protocol_ts`); `cargo test` fails when the checked-in files differ from them.
use serde::{Deserialize, Serialize};

/// The codes the hub closes a console's socket with (`public/admin/lib/socket.js` acts on them).
pub mod close {
    /// The session ended (logout, revoked, the user changed or was disabled): log in again.
    pub const REVOKED: u16 = 4001;
    /// The socket's lease ran out (D1 did not confirm it): reconnect, which re-authenticates.
    pub const TRY_AGAIN: u16 = 1013;
    /// Too many messages from the console.
    pub const POLICY: u16 = 1008;
    /// A message over `limiter::MAX_CLIENT_MESSAGE`.
    pub const TOO_BIG: u16 = 1009;
    /// A binary message.
    pub const UNSUPPORTED: u16 = 1003;
    /// The runtime reported an error on the socket.
    pub const SOCKET_ERROR: u16 = 1011;

    /// Every code with its name, for the generated `protocol.js`.
    pub const ALL: [(&str, u16); 6] = [
        ("REVOKED", REVOKED),
        ("TRY_AGAIN", TRY_AGAIN),
        ("POLICY", POLICY),
        ("TOO_BIG", TOO_BIG),
        ("UNSUPPORTED", UNSUPPORTED),
        ("SOCKET_ERROR", SOCKET_ERROR),
    ];
}

/// What a socket's `error` message says went wrong with what the console sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// Not a message the hub knows.
    UnknownMessage,
    /// A claim on a call the hub does not have, or the user may not see.
    UnknownCall,
    /// The claim could not be checked now (D1 unavailable).
    TemporarilyUnavailable,
}

/// A customer as `customer_changed` names it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangedCustomer {
    pub id: i64,
    pub name: String,
    pub phones: Vec<String>,
}

/// Every message a console's socket receives besides the call messages (`incoming_call`,
/// `call_state`: `messages::CallMessage`), by its `type`. Stored ones
/// get a `seq` in front when broadcast (`messages::with_seq`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SocketMessage {
    /// First on every socket: the newest seq, and how many messages the replay that follows holds.
    Hello { seq: i64, replay: usize },
    /// What the console sent could not be done.
    Error { code: ErrorCode },
    /// 対応中: a user has the call (live only, no seq).
    #[serde(rename_all = "camelCase")]
    CallClaimed {
        call_id: String,
        by: String,
        uid: i64,
    },
    /// Calls that no webhook brought were found in Dialpad's call list and recorded.
    #[serde(rename_all = "camelCase")]
    CallsRecovered { store_id: Option<i64>, missed: i64 },
    /// A store's 折り返し list changed.
    #[serde(rename_all = "camelCase")]
    CallbacksChanged { store_id: Option<i64> },
    /// A call's wrap-up was saved (live only, no seq).
    #[serde(rename_all = "camelCase")]
    CallWrapup {
        call_id: String,
        category: String,
        outcome: String,
        by: Option<String>,
        at: i64,
        version: i64,
    },
    /// A customer was created, changed or merged (`merged_from`: the id merged into it, when
    /// the store's staff may know of it).
    #[serde(rename_all = "camelCase")]
    CustomerChanged {
        customer: ChangedCustomer,
        store_id: Option<i64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        merged_from: Option<i64>,
    },
}

impl SocketMessage {
    /// The message as the text a socket is sent.
    pub fn text(&self) -> String {
        // A plain enum of plain fields: serialising it cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn hello(seq: i64, replay: usize) -> Self {
        SocketMessage::Hello { seq, replay }
    }

    pub fn error(code: ErrorCode) -> Self {
        SocketMessage::Error { code }
    }
}

/// What a console may send on its socket (besides the text `ping`, answered `pong`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMessage {
    /// Replay what came after `since` (a gap noticed), or the live calls without it.
    Sync {
        #[serde(default)]
        since: Option<i64>,
    },
    /// 対応中: this user has the call.
    #[serde(rename_all = "camelCase")]
    Claim { call_id: String },
}

impl ClientMessage {
    /// What the console sent, if it is one of these. Read through a flat struct rather than
    /// the enum's own (internally tagged) `Deserialize`, whose buffering costs the pop module
    /// ~1 KB gzip; the tests hold the two to the same answers.
    pub fn parse(text: &str) -> Option<Self> {
        #[derive(Deserialize)]
        struct Flat {
            #[serde(rename = "type")]
            kind: String,
            since: Option<i64>,
            #[serde(rename = "callId")]
            call_id: Option<String>,
        }
        let m: Flat = serde_json::from_str(text).ok()?;
        match (m.kind.as_str(), m.call_id) {
            ("sync", _) => Some(ClientMessage::Sync { since: m.since }),
            ("claim", Some(call_id)) => Some(ClientMessage::Claim { call_id }),
            _ => None,
        }
    }
}

/// What the Workers ask the hub: each request's method and path in one place, matched once by
/// the hub (`Hub::route`) and named by the callers (`platform::hub_client`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HubRequest {
    /// A console's socket (the upgrade, with the Worker's `x-cti-socket` identity).
    Connect,
    /// A user's access changed: close the matching sockets.
    Revoke,
    /// Send a message to the rooms (and keep it for replay unless live).
    Broadcast,
    /// A verified Dialpad event: pop it.
    Event,
    /// The pop index changed in D1 (or rebuild it whole).
    Index,
    /// The cron: stale calls closed, retention.
    Sweep,
    /// Write the outbox to D1 now (a reader of the call log).
    Flush,
    /// The hub's figures for `/api/health`.
    Stats,
}

impl HubRequest {
    pub const ALL: [HubRequest; 8] = [
        HubRequest::Connect,
        HubRequest::Revoke,
        HubRequest::Broadcast,
        HubRequest::Event,
        HubRequest::Index,
        HubRequest::Sweep,
        HubRequest::Flush,
        HubRequest::Stats,
    ];

    /// The path the request is made on (the hub's origin is a placeholder).
    pub fn path(self) -> &'static str {
        match self {
            HubRequest::Connect => "/connect",
            HubRequest::Revoke => "/revoke",
            HubRequest::Broadcast => "/broadcast",
            HubRequest::Event => "/event",
            HubRequest::Index => "/index",
            HubRequest::Sweep => "/sweep",
            HubRequest::Flush => "/flush",
            HubRequest::Stats => "/stats",
        }
    }

    /// Whether it is a GET (the others are POSTs with a JSON body).
    pub fn is_get(self) -> bool {
        matches!(self, HubRequest::Connect | HubRequest::Stats)
    }

    /// The request made with this method and path, if it is one.
    pub fn parse(is_get: bool, path: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|r| r.path() == path && r.is_get() == is_get)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_hub_request_parses_from_its_own_method_and_path_only() {
        for r in HubRequest::ALL {
            assert_eq!(HubRequest::parse(r.is_get(), r.path()), Some(r));
            assert_eq!(HubRequest::parse(!r.is_get(), r.path()), None);
        }
        assert_eq!(HubRequest::parse(false, "/nope"), None);
    }

    #[test]
    fn messages_carry_their_type_first_and_camel_case_fields() {
        assert_eq!(
            SocketMessage::hello(12, 3).text(),
            r#"{"type":"hello","seq":12,"replay":3}"#
        );
        assert_eq!(
            SocketMessage::error(ErrorCode::UnknownCall).text(),
            r#"{"type":"error","code":"unknown_call"}"#
        );
        let claimed = SocketMessage::CallClaimed {
            call_id: "c1".into(),
            by: "山田".into(),
            uid: 7,
        };
        assert_eq!(
            claimed.text(),
            r#"{"type":"call_claimed","callId":"c1","by":"山田","uid":7}"#
        );
        let changed = SocketMessage::CustomerChanged {
            customer: ChangedCustomer {
                id: 1,
                name: "a".into(),
                phones: vec![],
            },
            store_id: None,
            merged_from: None,
        };
        assert!(!changed.text().contains("mergedFrom"));
    }

    #[test]
    fn client_messages_parse_as_the_console_sends_them() {
        let sync: ClientMessage = serde_json::from_str(r#"{"type":"sync","since":5}"#).unwrap();
        assert_eq!(sync, ClientMessage::Sync { since: Some(5) });
        let fresh: ClientMessage = serde_json::from_str(r#"{"type":"sync"}"#).unwrap();
        assert_eq!(fresh, ClientMessage::Sync { since: None });
        let claim: ClientMessage =
            serde_json::from_str(r#"{"type":"claim","callId":"c1"}"#).unwrap();
        assert_eq!(
            claim,
            ClientMessage::Claim {
                call_id: "c1".into()
            }
        );
        assert!(serde_json::from_str::<ClientMessage>(r#"{"type":"claim"}"#).is_err());
        // `parse` (what the hub uses) answers as the enum's own Deserialize does.
        for text in [
            r#"{"type":"sync","since":5}"#,
            r#"{"type":"sync"}"#,
            r#"{"type":"claim","callId":"c1"}"#,
            r#"{"type":"claim"}"#,
            r#"{"type":"nope"}"#,
            r#"[1]"#,
            "ping",
        ] {
            assert_eq!(
                ClientMessage::parse(text),
                serde_json::from_str::<ClientMessage>(text).ok(),
                "{text}"
            );
        }
    }
}
