#![no_main]
//! Arbitrary bytes as a webhook body: verification, then (when the bytes happen to verify or
//! are JSON) event parsing and phone normalisation. Must never panic.
use cti_edge::domain::{dialpad, phone, token};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = token::verify_webhook(text, b"fuzz-secret-0123456789", 1_764_000_000);
    let _ = token::verify_session(text, b"fuzz-secret-0123456789", 1_764_000_000);
    if let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(text) {
        let _ = dialpad::parse(&map);
    }
    let _ = phone::normalize(text);
});
