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

/// A store known by its Dialpad office (`stores.dialpad_office_id`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreOffice {
    pub office_id: String,
    pub store_id: i64,
    pub store_name: String,
}

/// Everything that says which store a call is for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoreTable {
    pub prefixes: Vec<StorePrefix>,
    pub offices: Vec<StoreOffice>,
}

/// Where a call's store came from, for the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Matched {
    Prefix,
    Office,
    EntryNumber,
}

/// The store of a call: the longest prefix of the dialled number; when that number is hidden
/// (`blocked`) or matches nothing, the store whose Dialpad office the call was routed to; last,
/// the longest prefix of the number the call entered on (`entry_point_target`).
pub fn resolve<'a>(
    table: &'a StoreTable,
    dialled: &str,
    office: Option<&str>,
    entry_number: Option<&str>,
) -> Option<(i64, &'a str, Matched)> {
    if let Some(p) = longest_match(dialled, &table.prefixes) {
        return Some((p.store_id, &p.store_name, Matched::Prefix));
    }
    if let Some(o) = office.and_then(|id| table.offices.iter().find(|o| o.office_id == id)) {
        return Some((o.store_id, &o.store_name, Matched::Office));
    }
    let p = longest_match(entry_number?, &table.prefixes)?;
    Some((p.store_id, &p.store_name, Matched::EntryNumber))
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
    fn office_and_entry_number_fall_back_in_order() {
        let table = StoreTable {
            prefixes: vec![p("0501748", 1, "西船橋"), p("0501749", 2, "錦糸町")],
            offices: vec![StoreOffice {
                office_id: "5012345678901234".into(),
                store_id: 3,
                store_name: "葛西".into(),
            }],
        };
        let office = Some("5012345678901234");
        assert_eq!(
            resolve(&table, "05017481234", office, None),
            Some((1, "西船橋", Matched::Prefix))
        );
        // A blocked dialled number ("" once normalised) falls back to the office…
        assert_eq!(
            resolve(&table, "", office, Some("05017491234")),
            Some((3, "葛西", Matched::Office))
        );
        // …and without a known office, to the number the call entered on.
        assert_eq!(
            resolve(&table, "", Some("999"), Some("05017491234")),
            Some((2, "錦糸町", Matched::EntryNumber))
        );
        assert_eq!(resolve(&table, "", None, None), None);
        assert_eq!(
            resolve(&table, "0312345678", None, Some("0399999999")),
            None
        );
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
