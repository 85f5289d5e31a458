//! A store as every message and record names it: its id and name, or the unknown store
//! (「不明」: no prefix matched the dialled number). Its own module so that the customer record
//! and the socket messages both use it without depending on each other. Pure.
use crate::domain::prefix::{resolve, StoreTable};
use serde::{Deserialize, Serialize};

/// The store the call came in on. `id: null, name: "不明"` when no prefix matched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreRef {
    pub id: Option<i64>,
    pub name: String,
}

pub const UNKNOWN_STORE: &str = "不明";

/// The longest store name, in characters (`tests/corpus/field-limits.json`).
pub const MAX_NAME_CHARS: usize = 100;

impl StoreRef {
    pub fn unknown() -> Self {
        StoreRef {
            id: None,
            name: UNKNOWN_STORE.into(),
        }
    }
}

/// What a call tells about its store: the store already recorded on it (the hub decides once,
/// at the call's first event, and the call log keeps it), else the numbers and office it came
/// in on, resolved against the stores' table (`prefix::resolve`: the dialled number's prefix,
/// then the Dialpad office, then the entry number's prefix).
#[derive(Debug, Clone, Copy, Default)]
pub struct CallLines<'a> {
    pub recorded: Option<(i64, &'a str)>,
    pub dialled: &'a str,
    pub office: Option<&'a str>,
    pub entry_number: Option<&'a str>,
}

/// The store of a call, as the hub pops it and as the popup's lookup checks it: one rule, so a
/// staff member is never refused (404) a call the hub showed them. [`StoreRef::unknown`] when
/// nothing matches.
pub fn of_call(lines: CallLines, table: &StoreTable) -> StoreRef {
    if let Some((id, name)) = lines.recorded {
        return StoreRef {
            id: Some(id),
            name: name.to_string(),
        };
    }
    resolve(table, lines.dialled, lines.office, lines.entry_number)
        .map(|(id, name, _)| StoreRef {
            id: Some(id),
            name: name.to_string(),
        })
        .unwrap_or_else(StoreRef::unknown)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::prefix::{StoreOffice, StorePrefix};

    fn table() -> StoreTable {
        StoreTable {
            prefixes: vec![StorePrefix {
                prefix: "0501748".into(),
                store_id: 1,
                store_name: "西船橋".into(),
            }],
            offices: vec![StoreOffice {
                office_id: "77".into(),
                store_id: 2,
                store_name: "葛西".into(),
            }],
        }
    }

    #[test]
    fn the_recorded_store_first_then_prefix_office_entry_number() {
        let t = table();
        let named = |l: CallLines| of_call(l, &t).name;
        let recorded = CallLines {
            recorded: Some((9, "本店")),
            dialled: "0501748000",
            ..Default::default()
        };
        assert_eq!(named(recorded), "本店", "what the hub recorded stands");
        let by_prefix = CallLines {
            dialled: "0501748000",
            office: Some("77"),
            ..Default::default()
        };
        assert_eq!(named(by_prefix), "西船橋");
        let by_office = CallLines {
            dialled: "",
            office: Some("77"),
            entry_number: Some("0501748000"),
            ..Default::default()
        };
        assert_eq!(named(by_office), "葛西");
        let by_entry = CallLines {
            dialled: "0399999999",
            entry_number: Some("0501748123"),
            ..Default::default()
        };
        assert_eq!(of_call(by_entry, &t).id, Some(1));
        assert_eq!(
            of_call(
                CallLines {
                    dialled: "0399999999",
                    ..Default::default()
                },
                &t
            ),
            StoreRef::unknown()
        );
    }
}
