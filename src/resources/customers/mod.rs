//! Customer records: the popup's lookup and registration, search, the detail page, versioned
//! edits, notes, CSV import and export, numbers other customers already have, merging
//! duplicates.
//!
//! Who may see or edit a customer is `domain::access`; what a valid field is, is
//! `domain::customer`. The handlers here only apply them.
pub mod api;
pub mod csv_io;
pub mod duplicates;
pub mod lookup;
pub mod merge;
pub mod notes;
