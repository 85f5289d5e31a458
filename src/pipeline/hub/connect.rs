//! A console's socket coming in: the identity the Worker checked, the hub's later knowledge of
//! it (a logout racing the connect), its rooms, and what it missed (the replay), bounded per
//! session so that a reconnect loop cannot make the hub replay its whole log again and again.
use super::*;

/// A session may be replayed this many events per [`REPLAY_WINDOW_MS`] (default;
/// `HUB_REPLAY_BUDGET`): a whole log ([`KEEP_COUNT`]) once, so a console back from a long
/// disconnect misses nothing. Past it (a reconnect loop, or many tabs at once), a replay is cut
/// to the latest event of each call, the newest [`REPLAY_CUT_MAX`]: every message carries its
/// call's whole state, so the console still shows every recent call as it is now.
const REPLAY_BUDGET: u32 = KEEP_COUNT as u32;
const REPLAY_WINDOW_MS: i64 = 60 * 1000;
const REPLAY_CUT_MAX: i64 = 100;

#[derive(Deserialize)]
struct EventRow {
    seq: i64,
    store_id: Option<i64>,
    body: String,
    /// The message as the store's staff may see it, when it differs (`staff_message`).
    staff_body: Option<String>,
}

/// The events replayed to each session in its current window: (session, window start, events
/// sent). A list, not a map: it holds only the sessions replayed in the last minute.
#[derive(Default)]
pub(super) struct Replays(Vec<(String, i64, u32)>);

impl Replays {
    /// How many events `sid` may still be replayed now.
    fn left(&mut self, sid: &str, now: i64, budget: u32) -> u32 {
        // Forget finished windows.
        self.0
            .retain(|(_, start, _)| now - *start < REPLAY_WINDOW_MS);
        self.0
            .iter()
            .find(|(s, _, _)| s == sid)
            .map_or(budget, |(_, _, used)| budget.saturating_sub(*used))
    }

    fn spend(&mut self, sid: &str, now: i64, n: u32) {
        match self.0.iter_mut().find(|(s, _, _)| s == sid) {
            Some(e) => e.2 = e.2.saturating_add(n),
            None => self.0.push((sid.to_string(), now, n)),
        }
    }
}

impl Hub {
    /// The newest seq in the log: read once per instance, then kept as events are inserted.
    pub(super) fn latest_seq(&self) -> i64 {
        if let Some(seq) = self.latest.get() {
            return seq;
        }
        #[derive(Deserialize)]
        struct Max {
            seq: Option<i64>,
        }
        let seq = self
            .sql()
            .exec("SELECT max(seq) AS seq FROM events", None)
            .and_then(|c| c.one::<Max>())
            .ok()
            .and_then(|m| m.seq)
            .unwrap_or(0);
        self.latest.set(Some(seq));
        seq
    }

    fn replay_budget(&self) -> u32 {
        self.env
            .var("HUB_REPLAY_BUDGET")
            .ok()
            .and_then(|v| v.to_string().parse::<u32>().ok())
            .unwrap_or(REPLAY_BUDGET)
    }

    /// Sends `info`'s socket what it missed: the events after `since`, or, for a fresh
    /// console, the latest event of every call that is still live. A session past its replay
    /// budget gets the latest event of each call after `since` instead (bounded).
    pub(super) fn catch_up(
        &self,
        ws: &WebSocket,
        info: &SocketInfo,
        since: Option<i64>,
    ) -> worker::Result<u32> {
        let latest = self.latest_seq();
        let now = http::now_ms();
        let rows: Vec<EventRow> = match since {
            // A console that has seen everything (a reconnect with nothing missed): no query.
            Some(s) if s == latest => vec![],
            // A `since` from before a storage reset is older than anything we have: the client
            // resynchronises from the hello's seq instead of waiting for numbers never sent.
            Some(s) if s < latest => {
                let left = self
                    .replays
                    .borrow_mut()
                    .left(&info.sid, now, self.replay_budget());
                let rows: Vec<EventRow> = self
                    .sql()
                    .exec(
                        "SELECT seq, store_id, body, staff_body FROM events WHERE seq > ? \
                         ORDER BY seq LIMIT ?",
                        vec![s.into(), (i64::from(left) + 1).into()],
                    )?
                    .to_array()?;
                if rows.len() as u64 <= u64::from(left) {
                    rows
                } else {
                    worker::console_log!(
                        "{}",
                        serde_json::json!({"event": "replay_cut", "uid": info.uid, "since": s})
                    );
                    let mut cut: Vec<EventRow> = self
                        .sql()
                        .exec(
                            "SELECT seq, store_id, body, staff_body FROM events WHERE seq IN \
                               (SELECT max(seq) FROM events WHERE seq > ? GROUP BY call_id) \
                             ORDER BY seq DESC LIMIT ?",
                            vec![s.into(), REPLAY_CUT_MAX.into()],
                        )?
                        .to_array()?;
                    cut.reverse();
                    cut
                }
            }
            _ => self
                .sql()
                .exec(
                    "SELECT seq, store_id, body, staff_body FROM events WHERE seq IN \
                       (SELECT max(seq) FROM events GROUP BY call_id) AND live = 1 ORDER BY seq",
                    None,
                )?
                .to_array()?,
        };
        let viewer = info.viewer();
        let visible: Vec<&EventRow> = rows
            .iter()
            .filter(|r| {
                // A customer's change replays to whom it was sent live (`customer_rooms`).
                if messages::is_customer_change(&r.body) {
                    viewer.may_see_call(r.store_id) && viewer.may_hear_customer_change(r.store_id)
                } else {
                    viewer.may_see_call(r.store_id)
                }
            })
            .collect();
        let mut sent = 0;
        ws.send_with_str(SocketMessage::hello(latest, visible.len()).text())?;
        for row in visible {
            let body = match (&row.staff_body, viewer.is_admin()) {
                (Some(staff), false) => staff,
                _ => &row.body,
            };
            ws.send_with_str(messages::with_seq(body, row.seq))?;
            sent += 1;
        }
        if since.is_some() {
            self.replays.borrow_mut().spend(&info.sid, now, sent);
        }
        Ok(sent)
    }

    pub(super) async fn accept(&self, req: &Request) -> ApiResult<Response> {
        let mut info: SocketInfo = req
            .headers()
            .get(SOCKET_HEADER)?
            .and_then(|h| serde_json::from_str(&h).ok())
            .ok_or(ApiError::Unauthenticated("missing_identity"))?;
        let now = http::now_ms();
        // The Worker just checked this session against D1; the hub may know of a later
        // change (a logout or revocation that raced this connect).
        let known = self.known(Some(&info))?;
        let stale = known.revoked.contains(&info.sid)
            || known
                .users
                .get(&info.uid)
                .is_some_and(|u| u.tv > info.tv || (u.tv == info.tv && u.disabled));
        if stale {
            return Err(ApiError::Unauthenticated("session_revoked"));
        }
        if self
            .state
            .get_websockets_with_tag(&tag_user(info.uid))
            .len()
            >= limiter::MAX_SOCKETS_PER_USER
        {
            return Err(ApiError::RateLimited(60));
        }
        let user = UserState {
            uid: info.uid,
            tv: info.tv,
            disabled: false,
            role: Some(info.role),
            store: info.store,
        };
        // Written only when it says something new: a console's second socket (or a reconnect)
        // costs no write.
        if known.users.get(&info.uid) != Some(&user) {
            self.put_user(&user)?;
        }
        info.lease = now + self.lease_ms();
        info.bucket = limiter::Bucket::default();
        let since = http::query_param(req, "since").and_then(|s| s.parse::<i64>().ok());
        let pair = WebSocketPair::new()?;
        let mut tags = info.viewer().rooms();
        tags.push(tag_user(info.uid));
        tags.push(tag_session(&info.sid));
        let tags: Vec<&str> = tags.iter().map(String::as_str).collect();
        self.state.accept_websocket_with_tags(&pair.server, &tags);
        super::sockets::write_info(&pair.server, &info)?;
        self.sockets_changed();
        self.catch_up(&pair.server, &info, since)?;
        self.ensure_alarm().await?;
        // HSTS here: the Worker passes this response on and cannot add to its headers.
        Ok(ResponseBuilder::new()
            .with_status(101)
            .with_header("Strict-Transport-Security", http::HSTS)?
            .with_websocket(pair.client)
            .empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_spends_its_replay_budget_per_window() {
        let mut r = Replays::default();
        assert_eq!(r.left("a", 0, 10), 10);
        r.spend("a", 0, 7);
        assert_eq!(r.left("a", 1000, 10), 3);
        // Another session has its own.
        assert_eq!(r.left("b", 1000, 10), 10);
        r.spend("a", 1000, 7);
        assert_eq!(r.left("a", 2000, 10), 0);
        // The window (from the first replay) ends: the budget is whole again, and the
        // finished window is forgotten.
        assert_eq!(r.left("a", REPLAY_WINDOW_MS, 10), 10);
        assert!(r.0.is_empty());
    }
}
