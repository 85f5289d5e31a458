//! Where the tenant's Durable Objects live: the location hint they are created with
//! (`HUB_LOCATION`). Cloudflare places an object near the first request that creates it unless
//! a hint says otherwise; the hub's first request may well be a Dialpad delivery from the
//! United States, and every console and popup in Japan would then pay a trans-Pacific round
//! trip per request for the object's lifetime. A hint only matters when the object is created;
//! an existing object stays where it is. Pure.

/// The location hints Cloudflare accepts for a Durable Object.
pub const HINTS: [&str; 9] = [
    "wnam", "enam", "sam", "weur", "eeur", "apac", "oc", "afr", "me",
];

/// What a `HUB_LOCATION` value asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// No hint: the object is created near its first request.
    Nearest,
    /// Created near this region (one of [`HINTS`]).
    Hint(&'static str),
}

/// Reads a `HUB_LOCATION` value: unset, empty or `auto` is [`Placement::Nearest`]; a known
/// hint (any case, spaces trimmed) is that hint; anything else is an error naming the choices.
pub fn parse(raw: Option<&str>) -> Result<Placement, String> {
    let v = raw.map(str::trim).unwrap_or("");
    if v.is_empty() || v.eq_ignore_ascii_case("auto") {
        return Ok(Placement::Nearest);
    }
    HINTS
        .iter()
        .find(|h| h.eq_ignore_ascii_case(v))
        .map(|h| Placement::Hint(h))
        .ok_or_else(|| {
            format!(
                "HUB_LOCATION must be one of {} (or empty/auto), not {v:?}",
                HINTS.join(", ")
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_and_defaults() {
        assert_eq!(parse(None), Ok(Placement::Nearest));
        assert_eq!(parse(Some("")), Ok(Placement::Nearest));
        assert_eq!(parse(Some(" auto ")), Ok(Placement::Nearest));
        assert_eq!(parse(Some("apac")), Ok(Placement::Hint("apac")));
        assert_eq!(parse(Some(" APAC ")), Ok(Placement::Hint("apac")));
        for h in HINTS {
            assert_eq!(parse(Some(h)), Ok(Placement::Hint(h)));
        }
    }

    #[test]
    fn an_unknown_region_is_refused_with_the_choices() {
        let e = parse(Some("tokyo")).unwrap_err();
        assert!(e.contains("apac") && e.contains("tokyo"), "{e}");
        assert!(parse(Some("ap-northeast-1")).is_err());
    }
}
