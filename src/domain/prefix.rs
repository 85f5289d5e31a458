//! Store identification by the longest matching prefix of the dialled number. Pure.
//!
//! A business may own a block (`0501748`) and give one number inside it to another store
//! (`05017489`); the longest prefix wins so that the more specific assignment is honoured.

use crate::domain::error::ApiError;
use crate::domain::phone::{self, Phone};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorePrefix {
    pub prefix: String,
    pub store_id: i64,
    pub store_name: String,
}

/// The entry whose prefix is the longest one `number` starts with. Ties cannot happen when
/// prefixes are unique (the database enforces it); if they did, the first one wins.
pub fn longest_match<'a>(number: &str, prefixes: &'a [StorePrefix]) -> Option<&'a StorePrefix> {
    prefixes
        .iter()
        .filter(|p| !p.prefix.is_empty() && number.starts_with(p.prefix.as_str()))
        .fold(None, |best: Option<&StorePrefix>, p| match best {
            Some(b) if b.prefix.len() >= p.prefix.len() => Some(b),
            _ => Some(p),
        })
}

/// A store's prefixes as an admin typed them: normalised digits (2 to 20), duplicates folded.
pub fn parse_list(list: &[String]) -> Result<Vec<String>, ApiError> {
    let mut out = Vec::new();
    for p in list {
        match phone::normalize(p) {
            Ok(Phone::Number(n)) if n.len() >= 2 && n.bytes().all(|b| b.is_ascii_digit()) => {
                if !out.contains(&n) {
                    out.push(n)
                }
            }
            _ => {
                return Err(ApiError::bad(
                    "invalid_prefix",
                    "prefixes",
                    format!("プレフィックスは2〜20桁の数字です: {p}"),
                ))
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(prefix: &str, id: i64, name: &str) -> StorePrefix {
        StorePrefix {
            prefix: prefix.into(),
            store_id: id,
            store_name: name.into(),
        }
    }

    #[test]
    fn picks_the_longest_prefix() {
        let table = vec![
            p("0501748", 1, "西船橋"),
            p("0501749", 2, "錦糸町"),
            p("05017489", 3, "特設"),
            p("050", 9, "代表"),
        ];
        assert_eq!(
            longest_match("05017481234", &table).unwrap().store_name,
            "西船橋"
        );
        assert_eq!(
            longest_match("05017491234", &table).unwrap().store_name,
            "錦糸町"
        );
        assert_eq!(
            longest_match("05017489123", &table).unwrap().store_name,
            "特設"
        );
        assert_eq!(
            longest_match("05099999999", &table).unwrap().store_name,
            "代表"
        );
        // Order of the table must not matter.
        let mut reversed = table.clone();
        reversed.reverse();
        assert_eq!(longest_match("05017489123", &reversed).unwrap().store_id, 3);
    }

    #[test]
    fn parses_typed_prefixes() {
        let l = |v: &[&str]| parse_list(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(
            l(&["050-1748", "0501748", "+81 50 1749"]).unwrap(),
            vec!["0501748", "0501749"]
        );
        assert!(l(&["abc"]).is_err());
        assert!(l(&["0"]).is_err());
        assert!(
            l(&["+1415"]).is_err(),
            "a foreign prefix is not a line of ours"
        );
    }

    #[test]
    fn no_match_and_degenerate_input() {
        let table = vec![p("0501748", 1, "西船橋"), p("", 5, "空")];
        assert!(longest_match("0312345678", &table).is_none());
        assert!(longest_match("", &table).is_none());
        // A number shorter than the prefix cannot match it.
        assert!(longest_match("050174", &table).is_none());
        assert!(longest_match("0501748", &table).is_some());
    }
}
