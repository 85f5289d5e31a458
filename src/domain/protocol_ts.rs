//! Test-only: writes the browser's view of the socket protocol from the Rust types, and fails
//! when the checked-in `public/admin/lib/protocol.d.ts` / `protocol.js` differ from it.
//!
//! The TypeScript is inferred from what serde makes of two examples of each message, built
//! with struct literals (so a field added in Rust does not compile here until it has an
//! example): one with every optional part present, one with every optional part absent. A key
//! missing from the second is optional (`?`), a value `null` there is `| null`; a `type` (or
//! an enum's) value is a string literal, gathered over every example.
//!
//! A nested object that is one of the named parts ([`parts`]: the customer card, which a call
//! carries both as `customer` and in `candidates`) is written once as its own interface and
//! named where it stands, instead of spelled out at each place.
//!
//! After changing a message type: `UPDATE_PROTOCOL=1 cargo test protocol_ts` rewrites them.
use super::messages::{CallDetails, CallMessage, CardField, CustomerCard, StoreRef, Usage};
use super::protocol::{close, ChangedCustomer, ClientMessage, ErrorCode, SocketMessage};
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::BTreeSet;

/// One named shape: examples of it (every variant a union may take, full and bare).
struct Shape {
    name: &'static str,
    doc: &'static str,
    full: Vec<Value>,
    /// Examples with optional parts left out (a nested object's own parts: in a later one).
    bare: Vec<Value>,
}

fn v<T: Serialize>(t: T) -> Value {
    serde_json::to_value(t).expect("serialisable example")
}

fn card(full: bool) -> CustomerCard {
    CustomerCard {
        id: 1,
        name: "n".into(),
        kana: "k".into(),
        memo: "m".into(),
        customer_type: "t".into(),
        flag: full.then(|| "f".into()),
        home_store: full.then(|| StoreRef {
            id: Some(1),
            name: "s".into(),
        }),
        phones: vec!["p".into()],
        usage: Usage {
            visits: 1,
            total_spend: 1,
            last_visit: full.then(|| "d".into()),
            calls: 1,
            last_call: full.then_some(1),
            first_contact: full.then_some(1),
            missed_30d: 1,
        },
        updated_at: "u".into(),
        version: 1,
        fields: vec![CardField {
            id: 1,
            label: "l".into(),
            kind: "k".into(),
            value: "v".into(),
        }],
        shared: full,
    }
}

fn call(kind: &str, full: bool) -> CallMessage {
    CallMessage {
        kind: kind.into(),
        call_id: "c".into(),
        leg_id: "l".into(),
        customer_phone: "p".into(),
        incoming_number: "i".into(),
        timestamp: "t".into(),
        is_test: false,
        state: "s".into(),
        phase: "p".into(),
        direction: "d".into(),
        store: StoreRef {
            id: full.then_some(1),
            name: "s".into(),
        },
        customer: full.then(|| card(true)),
        candidates: vec![card(full)],
        contact_name: full.then(|| "n".into()),
        started_at: 1,
        connected_at: full.then_some(1),
        ended_at: full.then_some(1),
        duration_ms: full.then_some(1),
        details: CallDetails {
            answered_by: full.then(|| "a".into()),
            answered_by_user_id: full.then(|| "u".into()),
            voicemail_url: full.then(|| "v".into()),
            recording_urls: if full { vec!["r".into()] } else { vec![] },
            transcript: full.then(|| "t".into()),
            summary: full.then(|| "s".into()),
        },
    }
}

fn with_seq(mut m: Value) -> Value {
    m.as_object_mut()
        .expect("an object")
        .insert("seq".into(), Value::from(1));
    m
}

/// The named parts: an object in a message with exactly one of these key sets is written as
/// the part's name (its examples must give the same optionality wherever it stands).
fn parts() -> Vec<Shape> {
    vec![Shape {
        name: "CustomerCard",
        doc: "A customer as a call shows them (`customer`, and each of `candidates`).",
        full: vec![v(card(true))],
        bare: vec![v(card(false))],
    }]
}

/// The part whose keys `obj` has, if any.
fn part_of(obj: &Map<String, Value>) -> Option<Shape> {
    parts().into_iter().find(|p| {
        let keys = p.full[0].as_object().expect("a part is an object").keys();
        keys.eq(obj.keys())
    })
}

fn client_shapes() -> Vec<Shape> {
    vec![
        Shape {
            name: "SyncRequest",
            doc: "Replay what came after `since` (a gap noticed), or the live calls without it.",
            full: vec![v(ClientMessage::Sync { since: Some(1) })],
            bare: vec![v(ClientMessage::Sync { since: None })],
        },
        Shape {
            name: "ClaimRequest",
            doc: "対応中: this user has the call.",
            full: vec![v(ClientMessage::Claim {
                call_id: "c".into(),
            })],
            bare: vec![v(ClientMessage::Claim {
                call_id: "c".into(),
            })],
        },
    ]
}

fn shapes() -> Vec<Shape> {
    let errors = [
        ErrorCode::UnknownMessage,
        ErrorCode::UnknownCall,
        ErrorCode::TemporarilyUnavailable,
    ];
    let customer = |merged: Option<i64>, store: Option<i64>| SocketMessage::CustomerChanged {
        customer: ChangedCustomer {
            id: 1,
            name: "n".into(),
            phones: vec!["p".into()],
        },
        store_id: store,
        merged_from: merged,
    };
    vec![
        Shape {
            name: "CallMessage",
            doc: "A call's event (`incoming_call` pops a window; `call_state` every later change), with its seq.",
            full: vec![
                with_seq(v(call("incoming_call", true))),
                with_seq(v(call("call_state", true))),
            ],
            bare: vec![with_seq(v(call("call_state", false))), {
                let mut c = call("call_state", false);
                c.customer = Some(card(false));
                with_seq(v(c))
            }],
        },
        Shape {
            name: "Hello",
            doc: "First on every socket: the newest seq, and how many messages the replay that follows holds.",
            full: vec![v(SocketMessage::hello(1, 1))],
            bare: vec![v(SocketMessage::hello(1, 1))],
        },
        Shape {
            name: "ErrorMessage",
            doc: "What the console sent could not be done.",
            full: errors.iter().map(|c| v(SocketMessage::error(*c))).collect(),
            bare: vec![v(SocketMessage::error(errors[0]))],
        },
        Shape {
            name: "CallClaimed",
            doc: "対応中: a user has the call (live only, no seq).",
            full: vec![v(SocketMessage::CallClaimed {
                call_id: "c".into(),
                by: "b".into(),
                uid: 1,
            })],
            bare: vec![v(SocketMessage::CallClaimed {
                call_id: "c".into(),
                by: "b".into(),
                uid: 1,
            })],
        },
        Shape {
            name: "CallsRecovered",
            doc: "Calls no webhook brought were found in Dialpad and recorded.",
            full: vec![with_seq(v(SocketMessage::CallsRecovered {
                store_id: Some(1),
                missed: 1,
            }))],
            bare: vec![with_seq(v(SocketMessage::CallsRecovered {
                store_id: None,
                missed: 1,
            }))],
        },
        Shape {
            name: "CallbacksChanged",
            doc: "A store's 折り返し list changed.",
            full: vec![with_seq(v(SocketMessage::CallbacksChanged {
                store_id: Some(1),
            }))],
            bare: vec![with_seq(v(SocketMessage::CallbacksChanged {
                store_id: None,
            }))],
        },
        Shape {
            name: "CallWrapup",
            doc: "A call's wrap-up was saved (live only, no seq).",
            full: vec![v(SocketMessage::CallWrapup {
                call_id: "c".into(),
                category: "c".into(),
                outcome: "o".into(),
                by: Some("b".into()),
                at: 1,
                version: 1,
            })],
            bare: vec![v(SocketMessage::CallWrapup {
                call_id: "c".into(),
                category: "c".into(),
                outcome: "o".into(),
                by: None,
                at: 1,
                version: 1,
            })],
        },
        Shape {
            name: "CustomerChanged",
            doc: "A customer was created, changed or merged.",
            full: vec![with_seq(v(customer(Some(2), Some(1))))],
            bare: vec![with_seq(v(customer(None, None)))],
        },
    ]
}

/// The TypeScript of `full` (examples of one type) against `bare` (its parts left out).
fn ts(full: &[&Value], bare: &[&Value], indent: usize) -> String {
    let first = full[0];
    match first {
        Value::Null => "null".into(),
        Value::Bool(_) => "boolean".into(),
        Value::Number(_) => "number".into(),
        Value::String(_) => "string".into(),
        Value::Array(items) => {
            let inner: Vec<&Value> = full.iter().filter_map(|a| a.get(0)).collect();
            if inner.is_empty() || items.is_empty() {
                return "unknown[]".into();
            }
            let bare_inner: Vec<&Value> = bare.iter().filter_map(|b| b.get(0)).collect();
            format!("Array<{}>", ts(&inner, &bare_inner, indent))
        }
        Value::Object(obj) => match part_of(obj) {
            Some(part) if indent > 0 => {
                // The name stands for the part only where it would be spelled out the same.
                let own: Vec<&Value> = part.full.iter().collect();
                let own_bare: Vec<&Value> = part.bare.iter().collect();
                let here = object(obj, full, bare, indent);
                assert_eq!(
                    here,
                    object(obj, &own, &own_bare, indent),
                    "{} differs here",
                    part.name
                );
                part.name.into()
            }
            _ => object(obj, full, bare, indent),
        },
    }
}

fn object(obj: &Map<String, Value>, full: &[&Value], bare: &[&Value], indent: usize) -> String {
    let pad = "  ".repeat(indent + 1);
    let mut out = String::from("{\n");
    for key in obj.keys() {
        let values: Vec<&Value> = full.iter().filter_map(|f| f.get(key)).collect();
        let in_bare: Vec<Option<&Value>> = bare.iter().map(|b| b.get(key)).collect();
        let optional = in_bare.iter().any(Option::is_none);
        let nullable = in_bare.iter().any(|b| matches!(b, Some(Value::Null)));
        let literals: BTreeSet<&str> = values.iter().filter_map(|x| x.as_str()).collect();
        let ty = if key == "type" || key == "code" {
            literals
                .iter()
                .map(|l| format!("'{l}'"))
                .collect::<Vec<_>>()
                .join(" | ")
        } else {
            let b: Vec<&Value> = in_bare
                .into_iter()
                .flatten()
                .filter(|b| !b.is_null())
                .collect();
            ts(&values, &b, indent + 1)
        };
        let ty = if nullable { format!("{ty} | null") } else { ty };
        let q = if optional { "?" } else { "" };
        out.push_str(&format!("{pad}{key}{q}: {ty};\n"));
    }
    out.push_str(&"  ".repeat(indent));
    out.push('}');
    out
}

const HEAD: &str =
    "// Generated from the Rust types (src/domain/protocol.rs, src/domain/messages.rs) by\n\
// src/domain/protocol_ts.rs; `cargo test` fails when this file differs from them. Do not edit:\n\
// change the Rust types, then run `UPDATE_PROTOCOL=1 cargo test protocol_ts`.\n";

fn message_types() -> Vec<String> {
    let mut names: BTreeSet<String> = BTreeSet::new();
    for s in shapes() {
        for f in &s.full {
            names.insert(f["type"].as_str().expect("a type").to_string());
        }
    }
    names.into_iter().collect()
}

fn client_types() -> Vec<String> {
    client_shapes()
        .iter()
        .map(|s| s.full[0]["type"].as_str().expect("a type").to_string())
        .collect()
}

fn interface(s: &Shape) -> String {
    let full: Vec<&Value> = s.full.iter().collect();
    let bare: Vec<&Value> = s.bare.iter().collect();
    format!(
        "\n/** {} */\nexport interface {} {}\n",
        s.doc,
        s.name,
        ts(&full, &bare, 0)
    )
}

fn d_ts() -> String {
    let mut out = String::from(HEAD);
    out.push_str("\n/** The parts several messages (or places in one) share. */\n");
    for s in &parts() {
        out.push_str(&interface(s));
    }
    out.push_str("\n/** The messages a console's socket receives, by `type`. */\n");
    let shapes = shapes();
    for s in &shapes {
        out.push_str(&interface(s));
    }
    let names: Vec<&str> = shapes.iter().map(|s| s.name).collect();
    out.push_str(&format!(
        "\nexport type SocketMessage =\n  | {};\n",
        names.join("\n  | ")
    ));
    out.push_str("\n/** What a console may send on its socket (besides the text `ping`). */\n");
    let client = client_shapes();
    for s in &client {
        out.push_str(&interface(s));
    }
    let names: Vec<&str> = client.iter().map(|s| s.name).collect();
    out.push_str(&format!(
        "\nexport type ClientMessage =\n  | {};\n",
        names.join("\n  | ")
    ));
    out.push_str("\n/** Every message type, by constant name. */\nexport declare const MessageType: Readonly<{\n");
    for t in message_types().iter().chain(client_types().iter()) {
        out.push_str(&format!("  {}: '{t}';\n", t.to_uppercase()));
    }
    out.push_str("}>;\n\n/** The codes the hub closes a socket with. */\nexport declare const CloseCode: Readonly<{\n");
    for (name, code) in close::ALL {
        out.push_str(&format!("  {name}: {code};\n"));
    }
    out.push_str("}>;\n");
    out
}

fn js() -> String {
    let mut out = String::from("// @ts-check\n");
    out.push_str(HEAD);
    out.push_str("// Types: protocol.d.ts beside it.\n\n/** Every message type the socket carries, by constant name. */\nexport const MessageType = Object.freeze({\n");
    for t in message_types().iter().chain(client_types().iter()) {
        out.push_str(&format!("  {}: '{t}',\n", t.to_uppercase()));
    }
    out.push_str("});\n\n/** The codes the hub closes a socket with. */\nexport const CloseCode = Object.freeze({\n");
    for (name, code) in close::ALL {
        out.push_str(&format!("  {name}: {code},\n"));
    }
    out.push_str("});\n");
    out
}

#[test]
fn protocol_ts_matches_the_rust_types() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("public/admin/lib");
    for (file, text) in [("protocol.d.ts", d_ts()), ("protocol.js", js())] {
        let path = dir.join(file);
        if std::env::var_os("UPDATE_PROTOCOL").is_some() {
            std::fs::write(&path, &text).expect("write the generated file");
            continue;
        }
        let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            checked_in == text,
            "public/admin/lib/{file} differs from the Rust types: run `UPDATE_PROTOCOL=1 cargo test protocol_ts` and commit it"
        );
    }
}

#[test]
fn an_optional_part_is_marked_and_a_nullable_one_says_null() {
    let full = v(call("incoming_call", true));
    let bare = v(call("call_state", false));
    let mut with_card = call("call_state", false);
    with_card.customer = Some(card(false));
    let t = ts(&[&full], &[&bare, &v(with_card)], 0);
    assert!(t.contains("  answeredBy?: string;"), "{t}");
    assert!(t.contains("  customer: CustomerCard | null;"), "{t}");
    assert!(t.contains("  candidates: Array<CustomerCard>;"), "{t}");
    assert!(t.contains("  connectedAt: number | null;"), "{t}");
    assert!(t.contains("  recordingUrls?: Array<string>;"), "{t}");
}
