//! A call's id as every part of the product accepts it: the hub records it, the popup looks it
//! up, the wrap-up and the claim name it. One rule, so an id one part records is never refused
//! (or accepted and then never found) by another. Pure.

/// Longest call id: Dialpad's ids are integers (at most 20 digits); group keys and test ids
/// stay well within this.
pub const MAX_CALL_ID_LEN: usize = 64;

/// A call id as a client sent it: trimmed, 1 to [`MAX_CALL_ID_LEN`] bytes, no control
/// characters or spaces inside.
pub fn call_id(raw: &str) -> Option<&str> {
    let v = raw.trim();
    let ok = !v.is_empty()
        && v.len() <= MAX_CALL_ID_LEN
        && !v.chars().any(|c| c.is_control() || c.is_whitespace());
    ok.then_some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_rule_for_every_call_id() {
        assert_eq!(call_id(" 6342343299702784 "), Some("6342343299702784"));
        assert_eq!(
            call_id(&"9".repeat(MAX_CALL_ID_LEN)).map(str::len),
            Some(64)
        );
        assert_eq!(call_id(&"9".repeat(MAX_CALL_ID_LEN + 1)), None);
        assert_eq!(call_id(""), None);
        assert_eq!(call_id("12 34"), None);
        assert_eq!(call_id("12\n34"), None);
    }
}
