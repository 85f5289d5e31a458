//! Property tests over the pure webhook path (token verification, event parsing, phone
//! normalisation): arbitrary input must produce a value or an error, never a panic. Bounded so
//! `cargo test` stays quick; `fuzz/` has the libFuzzer target for long runs.
use cti_edge::domain::{dialpad, phone, prefix, replay, token};
use proptest::prelude::*;

const SECRET: &[u8] = b"property-test-secret";

/// Signs arbitrary claims the way Dialpad does (HS256), with jwt-compact itself.
fn sign(claims: serde_json::Map<String, serde_json::Value>) -> String {
    use jwt_compact::{
        alg::{Hs256, Hs256Key},
        AlgorithmExt, Claims, Header,
    };
    Hs256
        .token(
            &Header::empty(),
            &Claims::new(claims),
            &Hs256Key::new(SECRET),
        )
        .expect("a JSON map always serialises")
}

/// JSON values with the shapes a call event has, filled with hostile content.
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<u64>().prop_map(serde_json::Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(serde_json::Value::from),
        ".{0,40}".prop_map(serde_json::Value::from),
        "[0-9０-９+\\- ()]{0,30}".prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
            prop::collection::btree_map("[a-z_]{1,12}", inner, 0..4)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

fn event_like() -> impl Strategy<Value = serde_json::Map<String, serde_json::Value>> {
    let keys = prop::sample::select(vec![
        "call_id",
        "master_call_id",
        "entry_point_call_id",
        "state",
        "direction",
        "external_number",
        "internal_number",
        "date_started",
        "date_rang",
        "date_connected",
        "date_ended",
        "event_timestamp",
        "duration",
        "contact",
        "target",
        "exp",
        "iat",
        "nbf",
    ]);
    prop::collection::btree_map(keys, json_value(), 0..12)
        .prop_map(|m| m.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn verify_never_panics_on_arbitrary_text(s in ".{0,300}") {
        let _ = token::verify_webhook(&s, SECRET, 1_764_000_000);
        let _ = token::verify_session(&s, SECRET, 1_764_000_000);
    }

    #[test]
    fn verify_never_panics_on_token_shaped_text(a in "[A-Za-z0-9_=-]{0,60}", b in "[A-Za-z0-9_=-]{0,200}", c in "[A-Za-z0-9_=-]{0,60}") {
        let _ = token::verify_webhook(&format!("{a}.{b}.{c}"), SECRET, 1_764_000_000);
    }

    #[test]
    fn signed_arbitrary_events_parse_or_fail_cleanly(ev in event_like()) {
        if let Ok(map) = token::verify_webhook(&sign(ev), SECRET, 1_764_000_000) {
            {
                if let Ok(e) = dialpad::parse(&map) {
                    // Whatever got through is in the normalised form the rest relies on.
                    prop_assert!(!e.call_id.is_empty() && e.call_id.len() <= 64);
                    prop_assert!(e.state.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'));
                    for p in [&e.external, &e.internal] {
                        let s = p.as_str();
                        prop_assert!(s.len() <= phone::MAX_DIGITS + 2);
                        prop_assert!(s.trim_start_matches('+').bytes().all(|b| b.is_ascii_digit()));
                    }
                    let _ = e.group_id();
                }
            }
        }
    }

    #[test]
    fn any_claims_with_an_integer_call_id_parse(mut ev in event_like(), id in any::<u64>()) {
        // A verified token is a genuine event: whatever else it holds, it parses.
        ev.insert("call_id".into(), serde_json::json!(id));
        let e = dialpad::parse(&ev);
        prop_assert!(e.is_ok(), "{:?}", e);
        prop_assert_eq!(e.unwrap().call_id, id.to_string());
    }

    /// The webhook's whole decision before the pipeline: verify, replay window, parse. Any
    /// signed claims object with a `call_id`, a `state` and a fresh `event_timestamp` passes
    /// all three (so it is answered 2xx and recorded, never refused).
    #[test]
    fn fresh_signed_events_with_call_id_and_state_are_accepted(
        mut ev in event_like(),
        id in any::<u64>(),
        state in "[a-z_]{1,20}|\\PC{0,30}",
        age_ms in -(replay::MAX_AHEAD_MS)..replay::MAX_AGE_MS,
    ) {
        const NOW_MS: i64 = 1_764_000_000_000;
        ev.insert("call_id".into(), serde_json::json!(id));
        ev.insert("state".into(), serde_json::json!(state));
        ev.insert("event_timestamp".into(), serde_json::json!(NOW_MS - age_ms));
        // Time claims the sender may add must be sane for the token to verify at all.
        ev.remove("exp");
        ev.remove("nbf");
        ev.remove("iat");
        let claims = token::verify_webhook(&sign(ev), SECRET, NOW_MS / 1000);
        prop_assert!(claims.is_ok(), "{:?}", claims);
        let claims = claims.unwrap();
        prop_assert_eq!(replay::check(&claims, NOW_MS), Ok(()));
        prop_assert!(dialpad::parse(&claims).is_ok());
    }

    #[test]
    fn normalised_numbers_are_digits_and_idempotent(s in ".{0,40}") {
        if let Ok(phone::Phone::Number(n)) = phone::normalize(&s) {
            prop_assert!(n.trim_start_matches('+').bytes().all(|b| b.is_ascii_digit()));
            prop_assert_eq!(phone::normalize(&n), Ok(phone::Phone::Number(n.clone())));
        }
    }

    #[test]
    fn longest_match_is_a_longest_prefix(number in "[0-9]{0,12}", prefixes in prop::collection::vec("[0-9]{1,8}", 0..8)) {
        let table: Vec<prefix::StorePrefix> = prefixes.iter().enumerate()
            .map(|(i, p)| prefix::StorePrefix { prefix: p.clone(), store_id: i as i64, store_name: p.clone() })
            .collect();
        match prefix::longest_match(&number, &table) {
            Some(m) => {
                prop_assert!(number.starts_with(&m.prefix));
                prop_assert!(table.iter().all(|p| !number.starts_with(&p.prefix) || p.prefix.len() <= m.prefix.len()));
            }
            None => prop_assert!(table.iter().all(|p| !number.starts_with(&p.prefix))),
        }
    }
}
