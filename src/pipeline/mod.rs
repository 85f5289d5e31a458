//! The CTI pipeline, in the order an event travels: `webhook` (verify, parse, decide) ->
//! `record` (the call log in D1) -> `hub_client` (the Worker's side of the hub) -> `hub` (the
//! Durable Object that holds the consoles' sockets and fans events out to them).
pub mod hub;
pub mod record;
pub mod stale;
pub mod webhook;
