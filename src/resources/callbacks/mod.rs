//! 折り返し: a queue of promises. One open item per (number, store) holds every call that asked
//! for a call back — a missed call or a voicemail (`db::callbacks::on_call_event`, from the hub),
//! a wrap-up saved with 対応結果 = 折り返し予定 (`wrapup_statements`) — and every attempt to
//! call back (result, note, who, when). Staff move an item to 対応中 and 対応済, take it
//! (担当: 自分), close several at once. A later call from the number answered at the SAME store
//! closes the open item by itself and says so (with that call); an answered call at another
//! store closes nothing. Every change broadcasts a small `callbacks_changed` message to the
//! store's room, so the consoles' badges follow live.
use crate::platform::http::ApiResult;
use crate::platform::hub_client;
use worker::Env;

mod actions;
mod list;
pub use actions::{add_attempt, assignees, close, update};
pub use list::{count, detail, list};

pub use crate::db::callbacks::{changed_stores, wrapup_statements, CallFacts};

/// Tells the store's consoles (and the admins') that its callback list changed.
pub async fn changed(env: &Env, store: Option<i64>, key: &str) -> ApiResult<()> {
    hub_client::broadcast(env, &hub_client::callbacks_changed(store, key)).await?;
    Ok(())
}
