//! The CTI pipeline, in the order an event travels: `webhook` (verify, parse, decide) ->
//! `platform::hub_client` (the Worker's side of the hub) -> `hub` (the Durable Object that pops
//! the call, holds the consoles' sockets and fans events out to them, and records the call log
//! in D1 through its outbox with `db::calls`' statements); `stale` closes calls whose end never
//! arrived.
pub mod hub;
pub mod stale;
pub mod webhook;
