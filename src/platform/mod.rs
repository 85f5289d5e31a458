//! Thin adapters to the Workers runtime: HTTP plumbing, D1 binding helpers, the route table,
//! and the one way to reach a Durable Object. No business rules live here.
pub mod batch;
pub mod db;
pub mod dialpad;
pub mod http;
pub mod hub_client;
pub mod router;
pub mod secrets;
pub mod sql;
pub mod stub;
pub mod url;
