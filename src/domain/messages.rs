//! What travels between the Worker, the hub and the browser. Pure serde types.
use crate::domain::access::Viewer;
use crate::domain::limiter::Bucket;
use crate::domain::token::Role;
use serde::{Deserialize, Serialize};

pub use crate::domain::store::{StoreRef, UNKNOWN_STORE};

/// 利用状況: what the business's records and our call log say about the customer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Usage {
    pub visits: i64,
    pub total_spend: i64,
    pub last_visit: Option<String>,
    pub calls: i64,
    /// epoch ms
    pub last_call: Option<i64>,
    pub first_contact: Option<i64>,
    pub missed_30d: i64,
}

/// The customer as the popup shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerCard {
    pub id: i64,
    pub name: String,
    pub kana: String,
    pub memo: String,
    pub customer_type: String,
    pub flag: Option<String>,
    pub home_store: Option<StoreRef>,
    pub phones: Vec<String>,
    pub usage: Usage,
    pub updated_at: String,
    /// Edit precondition: an update must send the version it was based on.
    pub version: i64,
    /// The custom fields the card shows (those an admin marked for it, in their order, with
    /// a value): read with the card, from D1 or the hub's index alike.
    #[serde(default)]
    pub fields: Vec<CardField>,
    /// The shared view of another store's customer (顧客の共有: チェーン共通): name, kana,
    /// flag and home store only, read-only (`access::CustomerView::Shared`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub shared: bool,
}

/// One custom field on the card: its label and value as stored (text).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CardField {
    pub id: i64,
    pub label: String,
    pub kind: String,
    pub value: String,
}

/// Longest memo carried in a pop message. The popup reads the full record when it opens; the
/// message only has to show who is calling, and stays small whatever is stored.
pub const POP_MEMO_CHARS: usize = 200;
/// Most custom fields a pop message's card carries, and the longest value of each.
pub const POP_FIELDS: usize = 10;
pub const POP_FIELD_CHARS: usize = 60;

impl CustomerCard {
    /// The shared view of this card (`access::CustomerView::Shared`): who the customer is and
    /// which store they belong to; no numbers, memo, usage, custom fields or edit version.
    pub fn shared_view(self) -> Self {
        CustomerCard {
            id: self.id,
            name: self.name,
            kana: self.kana,
            memo: String::new(),
            customer_type: self.customer_type,
            flag: self.flag,
            home_store: self.home_store,
            phones: vec![],
            usage: Usage::default(),
            updated_at: String::new(),
            version: 0,
            fields: vec![],
            shared: true,
        }
    }

    /// The card as a pop message carries it: the memo cut to [`POP_MEMO_CHARS`] (D1 keeps it
    /// whole), at most [`crate::domain::customer::MAX_PHONES`] numbers.
    pub fn for_pop(mut self) -> Self {
        if self.memo.chars().count() > POP_MEMO_CHARS {
            self.memo = self
                .memo
                .chars()
                .take(POP_MEMO_CHARS - 1)
                .collect::<String>()
                + "…";
        }
        self.phones.truncate(crate::domain::customer::MAX_PHONES);
        // The card's custom fields: the first few, each value cut like the memo.
        self.fields.truncate(POP_FIELDS);
        for f in &mut self.fields {
            if f.value.chars().count() > POP_FIELD_CHARS {
                f.value = f
                    .value
                    .chars()
                    .take(POP_FIELD_CHARS - 1)
                    .collect::<String>()
                    + "…";
            }
        }
        self
    }
}

/// A call event as broadcast to the console and the popup.
/// The first six fields keep the seed prototype's names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallMessage {
    /// `incoming_call` for the event that should pop a window (the first live inbound event of
    /// a call), `call_state` for every later change of the same call.
    #[serde(rename = "type")]
    pub kind: String,
    /// The call as the customer sees it: one id for all legs (transfers, ring groups).
    pub call_id: String,
    /// The Dialpad leg this event is about.
    pub leg_id: String,
    pub customer_phone: String,
    pub incoming_number: String,
    /// ISO 8601, UTC.
    pub timestamp: String,
    pub is_test: bool,
    pub state: String,
    pub phase: String,
    pub direction: String,
    pub store: StoreRef,
    /// The one customer with this number, or null (unknown caller, or several: see candidates).
    pub customer: Option<CustomerCard>,
    /// Every customer sharing the number when there is more than one (family or office phone).
    pub candidates: Vec<CustomerCard>,
    pub contact_name: Option<String>,
    /// When the customer's call started (epoch ms), whichever leg this event is about.
    pub started_at: i64,
    pub connected_at: Option<i64>,
    pub ended_at: Option<i64>,
    pub duration_ms: Option<i64>,
    /// Who answered and what arrived after the call, flattened into the message.
    #[serde(flatten)]
    pub details: CallDetails,
}

/// Facts about a call that later events fill in: who answered (Dialpad's target name) and the
/// post-call enrichment (voicemail, recordings, transcript, AI recap). Absent fields are left
/// out of the message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct CallDetails {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answered_by: Option<String>,
    /// The Dialpad user id of who answered, on the event that connected the call (not kept:
    /// replays carry the name only). In 応答時 mode a console linked to a Dialpad user pops
    /// only the calls that user answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answered_by_user_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voicemail_url: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recording_urls: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transcript: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
}

pub const INCOMING_CALL: &str = "incoming_call";
pub const CALL_STATE: &str = "call_state";

/// Worker -> hub: broadcast `message` (a JSON object, as text) to the admin room and the store's
/// room. `key` makes the broadcast idempotent: the hub sends a key once, however often asked.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BroadcastRequest {
    pub key: String,
    pub store_id: Option<i64>,
    pub message: String,
    /// The message as the store room (its staff) may see it, when that differs from
    /// `message` (a caller's card of another store is left out: `domain::access`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staff_message: Option<String>,
    /// Live only (like `call_claimed`): sent to the sockets there now, with no seq, not kept
    /// for replay (so it never counts as a call's latest event).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub live: bool,
}

/// Worker -> hub: a verified call event (its claims, parsed again by the hub: a few
/// microseconds, and the claims are what Dialpad sent).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventRequest {
    pub claims: serde_json::Map<String, serde_json::Value>,
    pub is_test: bool,
    pub received_at: i64,
    /// Found by the gap filler in Dialpad's call list (a concluded call), not delivered:
    /// recorded if new, never popped or broadcast (`resources::dialpad::gap`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub reconciled: bool,
}

/// Worker -> hub: what a write path changed in D1, for the pop index to re-read.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IndexChange {
    #[serde(default)]
    pub customers: Vec<i64>,
    #[serde(default)]
    pub stores: bool,
    /// Rebuild the whole index from D1.
    #[serde(default)]
    pub all: bool,
    /// The 顧客の共有 setting just saved (`store` | `chain`), kept by the hub for its pops.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sharing: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct BroadcastResult {
    /// Sockets the message was sent to (0 for a duplicate).
    pub delivered: u32,
    pub seq: Option<i64>,
    pub duplicate: bool,
}

/// Per-socket state, serialised into the socket's attachment so the hub can rebuild it after
/// hibernation (attachments are limited to 2 KiB: keep this small).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SocketInfo {
    pub uid: i64,
    pub role: Role,
    pub store: Option<i64>,
    /// Every store of the account (`store` included): the socket is in each one's room.
    #[serde(default)]
    pub stores: Vec<i64>,
    /// Session expiry, epoch seconds: the hub stops serving a socket whose session ended.
    pub exp: i64,
    /// users.token_version of the session: a higher one known to the hub revokes the socket.
    #[serde(default)]
    pub tv: i64,
    /// The session's id (a logout revokes it).
    #[serde(default)]
    pub sid: String,
    /// Until when (epoch ms) the user's access was last confirmed against D1: the hub's alarm
    /// renews it; a socket whose lease ran out is sent nothing and asked to reconnect (which
    /// re-authenticates through the Worker).
    #[serde(default)]
    pub lease: i64,
    /// The socket's message budget (`sync` and anything else it sends).
    #[serde(default)]
    pub bucket: Bucket,
}

/// What the hub knows about a user, as confirmed by the Worker or by its own D1 re-check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserState {
    pub uid: i64,
    pub tv: i64,
    pub disabled: bool,
    pub role: Option<Role>,
    pub store: Option<i64>,
}

impl SocketInfo {
    /// Whether `user` (the hub's latest knowledge of this socket's user) still lets it listen.
    /// Any change of version, role or store, or a disabled account, ends the socket.
    pub fn still_allowed(&self, user: &UserState) -> bool {
        !user.disabled
            && user.tv == self.tv
            && user.role == Some(self.role)
            && user.store == self.store
    }
}

/// Worker -> hub: a user's access changed (logout, log out everywhere, an account change).
/// The hub closes the matching sockets with 4001 before answering.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RevokeRequest {
    pub uid: i64,
    /// One session logged out.
    #[serde(default)]
    pub sid: Option<String>,
    /// The user as they are now (after the change); every socket that no longer fits closes.
    #[serde(default)]
    pub user: Option<UserState>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct RevokeResult {
    pub closed: u32,
}

impl SocketInfo {
    pub fn viewer(&self) -> Viewer {
        // An attachment from before `stores` existed carries `store` alone.
        Viewer::new(self.role, self.stores.iter().copied().chain(self.store))
    }
}

/// The members of a socket message the hub routes and stores it by, read without building the
/// rest. One reader for both questions the hub asks of a message (one parser in the pop
/// module instead of two).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Head {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub call_id: Option<String>,
    pub phase: Option<String>,
}

impl Head {
    pub fn of(message: &str) -> serde_json::Result<Head> {
        serde_json::from_str(message)
    }

    /// Is this a `customer_changed` (sent and replayed by the customer rule,
    /// `access::customer_rooms`, not the call rule)?
    pub fn is_customer_change(&self) -> bool {
        self.kind.as_deref() == Some("customer_changed")
    }
}

/// Is this socket message a `customer_changed`? (See [`Head::is_customer_change`].)
pub fn is_customer_change(message: &str) -> bool {
    Head::of(message).is_ok_and(|h| h.is_customer_change())
}

/// Inserts `"seq":N` as the first member of a JSON object given as text, without re-parsing it.
pub fn with_seq(message: &str, seq: i64) -> String {
    let rest = message.trim_start().strip_prefix('{').unwrap_or("}");
    if rest.trim_start().starts_with('}') {
        format!("{{\"seq\":{seq}}}")
    } else {
        format!("{{\"seq\":{seq},{rest}")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn customer_changes_are_told_apart() {
        use crate::domain::protocol::{ChangedCustomer, SocketMessage};
        let changed = SocketMessage::CustomerChanged {
            customer: ChangedCustomer {
                id: 1,
                name: "佐藤".into(),
                phones: vec![],
            },
            store_id: Some(2),
            merged_from: None,
        };
        assert!(super::is_customer_change(&changed.text()));
        assert!(!super::is_customer_change(r#"{"type":"incoming_call"}"#));
        assert!(!super::is_customer_change("not json"));
    }

    use super::*;

    #[test]
    fn pop_cards_are_bounded() {
        let card = CustomerCard {
            id: 1,
            name: "山田".into(),
            kana: String::new(),
            memo: "長".repeat(5000),
            customer_type: "会員".into(),
            flag: None,
            home_store: None,
            phones: (0..50).map(|n| format!("0900000{n:04}")).collect(),
            usage: Usage::default(),
            updated_at: String::new(),
            version: 1,
            fields: (0..50)
                .map(|id| CardField {
                    id,
                    label: format!("項目{id}"),
                    kind: "text".into(),
                    value: "長".repeat(200),
                })
                .collect(),
            shared: false,
        }
        .for_pop();
        assert_eq!(card.fields.len(), POP_FIELDS);
        assert_eq!(card.fields[0].value.chars().count(), POP_FIELD_CHARS);
        assert_eq!(card.memo.chars().count(), POP_MEMO_CHARS);
        assert!(card.memo.ends_with('…'));
        assert_eq!(card.phones.len(), 10);
        assert!(serde_json::to_string(&card).unwrap().len() < 4096);
    }

    #[test]
    fn any_change_of_the_user_ends_the_socket() {
        let info = SocketInfo {
            uid: 1,
            role: Role::Staff,
            store: Some(2),
            stores: vec![],
            exp: 0,
            tv: 3,
            sid: "s".into(),
            lease: 0,
            bucket: Bucket::default(),
        };
        let now = UserState {
            uid: 1,
            tv: 3,
            disabled: false,
            role: Some(Role::Staff),
            store: Some(2),
        };
        assert!(info.still_allowed(&now));
        for changed in [
            UserState {
                tv: 4,
                ..now.clone()
            },
            UserState {
                disabled: true,
                ..now.clone()
            },
            UserState {
                role: Some(Role::Admin),
                ..now.clone()
            },
            UserState {
                role: None,
                ..now.clone()
            },
            UserState {
                store: Some(3),
                ..now.clone()
            },
            UserState {
                store: None,
                ..now.clone()
            },
        ] {
            assert!(!info.still_allowed(&changed), "{changed:?}");
        }
    }

    #[test]
    fn seq_is_spliced_into_the_object() {
        let m = with_seq(r#"{"type":"incoming_call","x":1}"#, 42);
        let v: serde_json::Value = serde_json::from_str(&m).unwrap();
        assert_eq!(v["seq"], 42);
        assert_eq!(v["type"], "incoming_call");
        let e: serde_json::Value = serde_json::from_str(&with_seq("{}", 1)).unwrap();
        assert_eq!(e["seq"], 1);
    }

    #[test]
    fn an_attachment_written_as_a_js_object_reads_through_its_json() {
        // The hub keeps a socket's SocketInfo as JSON text; an attachment from before was a JS
        // object (serde_wasm_bindgen: None as undefined), which JSON.stringify writes without
        // its None members. Both read the same.
        let info = SocketInfo {
            uid: 7,
            role: Role::Staff,
            store: None,
            stores: vec![2, 3],
            exp: 1_800_000_000,
            tv: 4,
            sid: "s".repeat(32),
            lease: 1_800_000_000_000,
            bucket: Bucket {
                milli_tokens: 5_000,
                at: 1_799_999_999_000,
            },
        };
        let mut object = serde_json::to_value(&info).unwrap();
        object.as_object_mut().unwrap().remove("store");
        let stringified = object.to_string();
        assert!(!stringified.contains("\"store\""));
        let back: SocketInfo = serde_json::from_str(&stringified).unwrap();
        assert_eq!(back, info);
        let text = serde_json::to_string(&info).unwrap();
        assert_eq!(serde_json::from_str::<SocketInfo>(&text).unwrap(), info);
    }

    #[test]
    fn attachment_stays_small() {
        let s = SocketInfo {
            uid: i64::MAX,
            role: Role::Staff,
            store: Some(i64::MAX),
            stores: vec![],
            exp: i64::MAX,
            tv: i64::MAX,
            sid: "f".repeat(32),
            lease: i64::MAX,
            bucket: Bucket {
                milli_tokens: i64::MAX,
                at: i64::MAX,
            },
        };
        assert!(serde_json::to_string(&s).unwrap().len() < 2048);
    }
}
