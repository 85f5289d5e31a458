//! Accounts: who is signed in (sessions), the user rows behind them, the login guard and
//! password hashing in the runtime.
pub mod admin;
pub mod auth;
pub mod guard;
pub mod hashing;
