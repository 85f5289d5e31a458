//! One module per resource the console works with. A handler parses the request, asks the
//! domain rules, runs its queries and maps the outcome; the queries of a resource live with
//! it and nowhere else.
pub mod accounts;
pub mod audit;
pub mod callbacks;
pub mod calls;
pub mod custom_fields;
pub mod customers;
pub mod dialpad;
pub mod hours;
pub mod reports;
pub mod settings;
pub mod stores;
pub mod wrapups;
