//! `customer_notes`: typed notes on a customer (一般・好み・苦情・注意・重要), as 顧客 and the
//! popup read and add them.
use crate::domain::access::customer_visible_sql;
use crate::platform::sql::Stmt;
use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all(serialize = "camelCase"))]
pub struct Note {
    /// Read only where notes of several customers come back together (the popup's lookup).
    #[serde(default, skip_serializing)]
    pub customer_id: Option<i64>,
    id: i64,
    note_type: String,
    body: String,
    author_name: String,
    created_at: String,
}

/// The newest `limit` notes of a customer.
pub fn list(customer: i64, limit: i64) -> Stmt {
    Stmt::new(
        "SELECT id, note_type, body, author_name, created_at FROM customer_notes \
         WHERE customer_id = ?1 ORDER BY id DESC LIMIT ?2",
        vec![customer.into(), limit.into()],
    )
}

/// The newest 50 notes of every customer who has `phone` (each with its `customer_id`).
pub fn of_number(phone: &str) -> Stmt {
    Stmt::new(
        "SELECT customer_id, id, note_type, body, author_name, created_at FROM customer_notes \
         WHERE customer_id IN (SELECT customer_id FROM customer_phones WHERE phone = ?1) \
         ORDER BY id DESC LIMIT 50",
        vec![phone.into()],
    )
}

/// The newest 20 notes of the two pinned types (`customer::PINNED_NOTE_TYPES`) of every
/// customer who has `phone`.
pub fn pinned_of_number(phone: &str, types: [&str; 2]) -> Stmt {
    Stmt::new(
        "SELECT customer_id, id, note_type, body, author_name, created_at FROM customer_notes \
         WHERE customer_id IN (SELECT customer_id FROM customer_phones WHERE phone = ?1) \
         AND note_type IN (?2, ?3) ORDER BY id DESC LIMIT 20",
        vec![phone.into(), types[0].into(), types[1].into()],
    )
}

/// A note added by `author` to a customer `scope` may see; returns the [`Note`] (no row when
/// the policy refuses).
pub fn add(
    customer: i64,
    note_type: &str,
    body: &str,
    author_id: i64,
    author_name: &str,
    scope: Option<String>,
) -> Stmt {
    Stmt::new(
        format!(
            "INSERT INTO customer_notes (customer_id, note_type, body, author_id, author_name) \
             SELECT c.id, ?2, ?3, ?4, ?5 FROM customers c WHERE c.id = ?1 AND {} \
             RETURNING id, note_type, body, author_name, created_at",
            customer_visible_sql(6)
        ),
        vec![
            customer.into(),
            note_type.into(),
            body.into(),
            author_id.into(),
            author_name.into(),
            scope.into(),
        ],
    )
}
