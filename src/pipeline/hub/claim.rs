//! 「対応中」: a console says its user has a call (answering it, or its wrap-up open); every
//! console that may see the call hears who, live and unsequenced (nothing stored or replayed).
use super::sockets::Access;
use super::Hub;
use crate::db::users;
use crate::domain::messages::SocketInfo;
use crate::domain::protocol::{ErrorCode, SocketMessage};
use serde::Deserialize;
use worker::WebSocket;

impl Hub {
    /// A socket's `{type:"claim", callId}`: tells every console that may see the call (the
    /// admin room and the call's store) `{type:"call_claimed", callId, by, uid}`, live and
    /// unsequenced (nothing is stored or replayed). The claimer must be allowed now and may
    /// see the call; the store comes from the call's events here, the name from D1.
    pub(super) async fn claim(
        &self,
        ws: &WebSocket,
        info: &SocketInfo,
        call_id: &str,
        now: i64,
    ) -> worker::Result<()> {
        let known = self.known(None)?;
        let access = Self::access(info, &known, now);
        if access != Access::Allowed {
            Self::close_for(ws, access);
            return Ok(());
        }
        #[derive(Deserialize)]
        struct Store {
            store_id: Option<i64>,
        }
        let store: Option<Store> = if crate::domain::call::call_id(call_id).is_some() {
            self.sql()
                .exec(
                    "SELECT store_id FROM events WHERE call_id = ? ORDER BY seq DESC LIMIT 1",
                    vec![call_id.into()],
                )?
                .to_array::<Store>()?
                .into_iter()
                .next()
        } else {
            None
        };
        let store = match store {
            Some(s) if info.viewer().may_see_call(s.store_id) => s.store_id,
            _ => return ws.send_with_str(SocketMessage::error(ErrorCode::UnknownCall).text()),
        };
        let name = match self.env.d1("DB") {
            Ok(db) => users::by_id(&db, info.uid)
                .await
                .ok()
                .flatten()
                .map(|u| u.display_name),
            Err(_) => None,
        };
        let Some(name) = name else {
            return ws
                .send_with_str(SocketMessage::error(ErrorCode::TemporarilyUnavailable).text());
        };
        let text = SocketMessage::CallClaimed {
            call_id: call_id.to_string(),
            by: name,
            uid: info.uid,
        }
        .text();
        self.send_to_rooms(store, false, &text, None, now)?;
        Ok(())
    }
}
