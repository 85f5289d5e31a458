//! A store as every message and record names it: its id and name, or the unknown store
//! (「不明」: no prefix matched the dialled number). Its own module so that the customer record
//! and the socket messages both use it without depending on each other. Pure.
use serde::{Deserialize, Serialize};

/// The store the call came in on. `id: null, name: "不明"` when no prefix matched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreRef {
    pub id: Option<i64>,
    pub name: String,
}

pub const UNKNOWN_STORE: &str = "不明";

impl StoreRef {
    pub fn unknown() -> Self {
        StoreRef {
            id: None,
            name: UNKNOWN_STORE.into(),
        }
    }
}
