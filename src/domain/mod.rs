//! Pure rules: no `worker` types, so every rule here is unit-tested natively with `cargo test`.
//!
//! Each rule has exactly one owner in this folder. Resources and the pipeline ask these modules
//! instead of deciding for themselves: a second place that decides the same thing is a bug
//! waiting to disagree with the first.
pub mod access;
pub mod account;
pub mod assets;
pub mod audit;
pub mod call;
pub mod csv;
pub mod customer;
pub mod date;
pub mod dialpad;
pub mod error;
pub mod fields;
pub mod front_desk;
pub mod hours;
pub mod limiter;
pub mod messages;
pub mod password;
pub mod phone;
pub mod placement;
pub mod prefix;
pub mod protocol;
#[cfg(test)]
mod protocol_ts;
pub mod replay;
pub mod report;
pub mod retention;
pub mod search;
pub mod store;
pub mod token;
