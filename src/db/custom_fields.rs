//! `custom_fields`: the definitions of the business's own customer fields (フリー項目). The
//! values live in each customer's `custom` document (`db::customers`).
use crate::domain::fields::Definition;
use crate::platform::sql::Stmt;
use serde::Deserialize;

/// Every definition, in the order the card and the forms show them ([`FieldRow`]).
pub const ALL: &str = "SELECT id, label, kind, options, store_id, on_card, position, staff_edit \
     FROM custom_fields ORDER BY position, id";

#[derive(Deserialize)]
pub struct FieldRow {
    pub id: i64,
    pub label: String,
    pub kind: String,
    /// A JSON array.
    pub options: String,
    pub store_id: Option<i64>,
    pub on_card: i64,
    pub position: i64,
    pub staff_edit: i64,
}

impl FieldRow {
    pub fn definition(self) -> Definition {
        Definition {
            id: self.id,
            label: self.label,
            kind: self.kind,
            options: serde_json::from_str(&self.options).unwrap_or_default(),
            store_id: self.store_id,
            on_card: self.on_card != 0,
            position: self.position,
            staff_edit: self.staff_edit != 0,
        }
    }
}

/// Saves a definition: a new one (id 0) or the one with its id.
pub fn save(d: &Definition) -> Stmt {
    let opts = serde_json::to_string(&d.options).unwrap_or_else(|_| "[]".into());
    let sql = if d.id == 0 {
        "INSERT INTO custom_fields (label, kind, options, store_id, on_card, position, staff_edit) \
         SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7 WHERE ?8 = 0"
    } else {
        "UPDATE custom_fields SET label = ?1, kind = ?2, options = ?3, store_id = ?4, on_card = ?5, \
         position = ?6, staff_edit = ?7 WHERE id = ?8"
    };
    Stmt::new(
        sql,
        vec![
            d.label.as_str().into(),
            d.kind.as_str().into(),
            opts.into(),
            d.store_id.into(),
            (d.on_card as i64).into(),
            d.position.into(),
            (d.staff_edit as i64).into(),
            d.id.into(),
        ],
    )
}

pub fn delete(id: i64) -> Stmt {
    Stmt::new("DELETE FROM custom_fields WHERE id = ?1", vec![id.into()])
}
