//! Accounts: who is signed in (sessions), the user rows behind them, and the login guard.
pub mod auth;
pub mod guard;
pub mod users;
