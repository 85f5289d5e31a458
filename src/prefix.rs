//! Store identification by the longest matching prefix of the dialled number. Pure.
//!
//! A business may own a block (`0501748`) and give one number inside it to another store
//! (`05017489`); the longest prefix wins so that the more specific assignment is honoured.

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
    fn no_match_and_degenerate_input() {
        let table = vec![p("0501748", 1, "西船橋"), p("", 5, "空")];
        assert!(longest_match("0312345678", &table).is_none());
        assert!(longest_match("", &table).is_none());
        // A number shorter than the prefix cannot match it.
        assert!(longest_match("050174", &table).is_none());
        assert!(longest_match("0501748", &table).is_some());
    }
}
