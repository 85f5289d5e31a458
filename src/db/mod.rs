//! The SQL layer: one module per table (or group of tables read together), each a set of pure
//! statement builders on the one vocabulary of bound values (`platform::sql::{Stmt, Val}`) and
//! the row types they read. The hub (`pipeline/`) and the console's handlers (`resources/`)
//! both take their statements from here, so neither depends on the other; a statement the hub
//! runs on its own SQLite and the outbox runs on D1 is written once.
pub mod audit;
pub mod callbacks;
pub mod calls;
pub mod cards;
pub mod custom_fields;
pub mod customers;
pub mod dialpad;
pub mod dialpad_sync;
pub mod guard;
pub mod hours;
pub mod notes;
pub mod rate;
pub mod reports;
pub mod rollups;
pub mod settings;
pub mod stores;
pub mod users;
pub mod wrapups;
