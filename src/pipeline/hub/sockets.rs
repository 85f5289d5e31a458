//! Who may still hear the hub: the users it knows (token version, role, store, disabled),
//! the revoked sessions, each socket's lease, and revocation from the Worker or the alarm's
//! re-check of D1. One check (`Hub::access`) serves a broadcast and a `sync` replay alike.
use super::*;
use crate::domain::token;
use worker::js_sys;

/// What a socket may do now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Access {
    Allowed,
    /// Session over, logged out, or the user changed: the console shows the login screen.
    Revoked,
    /// Not re-confirmed recently: reconnect (through the Worker, which checks D1).
    LeaseOver,
}

/// The hub's knowledge of users (loaded once per broadcast) and, for one socket's check,
/// whether its session was logged out: a keyed lookup of that one session, never the whole
/// revoked set (a broadcast needs none: a revoked session's sockets were closed by `/revoke`).
pub(super) struct Known {
    pub(super) users: HashMap<i64, UserState>,
    pub(super) revoked: HashSet<String>,
}

#[derive(Deserialize)]
struct UserRow {
    uid: i64,
    tv: i64,
    disabled: i64,
    role: Option<String>,
    store: Option<i64>,
}

impl UserRow {
    pub(super) fn state(self) -> UserState {
        UserState {
            uid: self.uid,
            tv: self.tv,
            disabled: self.disabled != 0,
            role: self.role.as_deref().and_then(Role::parse),
            store: self.store,
        }
    }
}

#[wasm_bindgen::prelude::wasm_bindgen(module = "/src/pipeline/hub/fanout.js")]
extern "C" {
    /// Sends `text` to every socket of `sockets` in one JS loop (`fanout.js`): one crossing
    /// from wasm for a whole room instead of one per socket. Returns how many took it.
    #[wasm_bindgen(js_name = sendAll)]
    fn send_all(sockets: &js_sys::Array, text: &wasm_bindgen::JsValue) -> u32;
}

/// A room's sockets and what each one's attachment said when they were read, with the ones
/// that may hear a broadcast, ready for [`send_all`], and until when that holds.
pub(super) struct RoomSockets {
    pub(super) list: Vec<(WebSocket, SocketInfo)>,
    allowed: RefCell<Option<Allowed>>,
}

struct Allowed {
    sockets: js_sys::Array,
    /// The earliest moment (epoch ms) at which one of them may lose access by itself (its
    /// token's expiry or its lease); anything else that changes access (a user's change, a
    /// revocation, a re-check, a socket coming or going) drops the whole room list.
    until: i64,
}

impl RoomSockets {
    fn new(list: Vec<(WebSocket, SocketInfo)>) -> Self {
        RoomSockets {
            list,
            allowed: RefCell::new(None),
        }
    }
}

/// The moment a socket that is allowed now stops being so without anything changing in the
/// hub: the last millisecond of its token and of its lease (`Hub::access`).
fn allowed_until(info: &SocketInfo) -> i64 {
    (info.exp.saturating_mul(1000) - 1).min(info.lease)
}

/// A socket's [`SocketInfo`], kept in its attachment as JSON text (parsed by the same reader
/// as the Worker's header that brought it, rather than by a second, per-type reader of JS
/// objects: docs/benchmarks.md, "Pop module size, trimmed"). An attachment written as a JS
/// object (by a hub from before, whose sockets stay connected across a code update) is read
/// through its JSON, which is the same text.
pub(super) fn read_info(ws: &WebSocket) -> worker::Result<Option<SocketInfo>> {
    use worker::worker_sys::ext::WebSocketExt;
    let raw = AsRef::<worker::web_sys::WebSocket>::as_ref(ws).deserialize_attachment()?;
    if raw.is_null() || raw.is_undefined() {
        return Ok(None);
    }
    let text = match raw.as_string() {
        Some(text) => text,
        None => String::from(js_sys::JSON::stringify(&raw)?),
    };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| worker::Error::RustError(e.to_string()))
}

/// Stores `info` as the socket's attachment (JSON text).
pub(super) fn write_info(ws: &WebSocket, info: &SocketInfo) -> worker::Result<()> {
    use worker::worker_sys::ext::WebSocketExt;
    let text = serde_json::to_string(info).map_err(|e| worker::Error::RustError(e.to_string()))?;
    AsRef::<worker::web_sys::WebSocket>::as_ref(ws).serialize_attachment(text.into())?;
    Ok(())
}

pub(super) fn tag_user(uid: i64) -> String {
    format!("u:{uid}")
}
pub(super) fn tag_session(sid: &str) -> String {
    format!("s:{sid}")
}

impl Hub {
    pub(super) fn recheck_ms(&self) -> i64 {
        self.env
            .var("HUB_RECHECK_SECS")
            .ok()
            .and_then(|v| v.to_string().parse::<i64>().ok())
            .filter(|s| (1..=60).contains(s))
            .unwrap_or(RECHECK_SECS)
            * 1000
    }

    pub(super) fn lease_ms(&self) -> i64 {
        self.recheck_ms() * LEASE_RECHECKS
    }

    /// What the hub knows of `only` (a socket's user and session), or of every user: that one
    /// is kept in memory between broadcasts (every broadcast checks every socket against it)
    /// until a user or a session changes here ([`Self::put_user`], [`Self::revoke`]).
    pub(super) fn known(&self, only: Option<&SocketInfo>) -> worker::Result<Rc<Known>> {
        if only.is_some() {
            return self.load_known(only).map(Rc::new);
        }
        if let Some(k) = self.known_all.borrow().as_ref() {
            return Ok(k.clone());
        }
        let k = Rc::new(self.load_known(None)?);
        *self.known_all.borrow_mut() = Some(k.clone());
        Ok(k)
    }

    fn load_known(&self, only: Option<&SocketInfo>) -> worker::Result<Known> {
        let Some(info) = only else {
            let rows: Vec<UserRow> = self
                .sql()
                .exec("SELECT uid, tv, disabled, role, store FROM users", None)?
                .to_array()?;
            return Ok(Known {
                users: rows.into_iter().map(|r| (r.uid, r.state())).collect(),
                revoked: HashSet::new(),
            });
        };
        // One socket's user and whether its session was logged out, in one statement (a
        // connect and a `sync` ask both): the session, looked up by its primary key, comes back
        // as a row of uid -1.
        let rows: Vec<UserRow> = self
            .sql()
            .exec(
                "SELECT uid, tv, disabled, role, store FROM users WHERE uid = ? \
                 UNION ALL SELECT -1, 0, 1, NULL, NULL FROM revoked_sessions WHERE sid = ?",
                vec![info.uid.into(), info.sid.as_str().into()],
            )?
            .to_array()?;
        let revoked = rows.iter().any(|r| r.uid == -1);
        Ok(Known {
            users: rows
                .into_iter()
                .filter(|r| r.uid != -1)
                .map(|r| (r.uid, r.state()))
                .collect(),
            revoked: revoked.then(|| info.sid.clone()).into_iter().collect(),
        })
    }

    pub(super) fn put_user(&self, u: &UserState) -> worker::Result<()> {
        *self.known_all.borrow_mut() = None;
        self.sockets_changed();
        self.sql().exec(
            "INSERT INTO users (uid, tv, disabled, role, store) VALUES (?, ?, ?, ?, ?) \
             ON CONFLICT (uid) DO UPDATE SET tv = excluded.tv, disabled = excluded.disabled, \
             role = excluded.role, store = excluded.store",
            vec![
                u.uid.into(),
                u.tv.into(),
                (u.disabled as i64).into(),
                u.role.map(Role::as_str).into(),
                u.store.into(),
            ],
        )?;
        Ok(())
    }

    /// Forgets the rooms' socket lists: a socket came or went, or its lease changed.
    pub(super) fn sockets_changed(&self) {
        self.rooms.borrow_mut().clear();
    }

    /// `room`'s sockets with their attachments. Deserialising every attachment on every
    /// broadcast cost a few microseconds per socket (milliseconds at a thousand consoles), so
    /// the list is kept until [`Self::sockets_changed`]; after a wake from hibernation the
    /// object is new and reads the runtime's list again. A socket whose attachment cannot be
    /// read is closed (its console logs in again).
    fn room_sockets(&self, room: &str) -> Rc<RoomSockets> {
        if let Some(list) = self.rooms.borrow().get(room) {
            return list.clone();
        }
        let list = Rc::new(RoomSockets::new(with_infos(
            self.state.get_websockets_with_tag(room),
        )));
        self.rooms
            .borrow_mut()
            .insert(room.to_string(), list.clone());
        list
    }

    /// Sends a call's message to the rooms of `store` (the store room hears `staff_text` when
    /// given, the admin room `text`), after the one access check; closes the sockets that
    /// fail it. Returns how many sockets were sent the message. A `customer_changed`
    /// (`customer`) goes to the rooms `access::customer_rooms` names, never the desk's.
    ///
    /// The check's outcome is kept with the room's list until one of the allowed sockets could
    /// lose access by itself (token expiry, lease), so a broadcast is one JS call per room:
    /// the message crosses from wasm once and the loop over the sockets runs in JS.
    pub(super) fn send_to_rooms(
        &self,
        store: Option<i64>,
        customer: bool,
        text: &str,
        staff_text: Option<&str>,
        now: i64,
    ) -> worker::Result<u32> {
        let mut delivered = 0;
        let mut closed = false;
        let text = wasm_bindgen::JsValue::from_str(text);
        let staff_text = staff_text.map(wasm_bindgen::JsValue::from_str);
        let rooms = if customer {
            access::customer_rooms(store)
        } else {
            access::call_rooms(store)
        };
        for room in rooms {
            let text = match &staff_text {
                Some(staff) if room != access::ADMIN_ROOM => staff,
                _ => &text,
            };
            let sockets = self.room_sockets(&room);
            let fresh = sockets
                .allowed
                .borrow()
                .as_ref()
                .is_some_and(|a| now <= a.until);
            if !fresh {
                let known = self.known(None)?;
                let ready = js_sys::Array::new();
                let mut until = i64::MAX;
                for (ws, info) in sockets.list.iter() {
                    let access = Self::access(info, &known, now);
                    if access == Access::Allowed {
                        let raw: &worker::web_sys::WebSocket = ws.as_ref();
                        ready.push(raw);
                        until = until.min(allowed_until(info));
                    } else {
                        Self::close_for(ws, access);
                        closed = true;
                    }
                }
                *sockets.allowed.borrow_mut() = Some(Allowed {
                    sockets: ready,
                    until,
                });
            }
            if let Some(a) = sockets.allowed.borrow().as_ref() {
                delivered += send_all(&a.sockets, text);
            };
        }
        if closed {
            self.sockets_changed();
        }
        Ok(delivered)
    }

    /// The one check before anything is sent to a socket (broadcast, replay, sync).
    pub(super) fn access(info: &SocketInfo, known: &Known, now: i64) -> Access {
        if info.exp <= now / 1000 || info.sid.is_empty() || known.revoked.contains(&info.sid) {
            return Access::Revoked;
        }
        match known.users.get(&info.uid) {
            Some(u) if !info.still_allowed(u) => return Access::Revoked,
            None => return Access::Revoked,
            Some(_) => {}
        }
        if info.lease < now {
            return Access::LeaseOver;
        }
        Access::Allowed
    }

    pub(super) fn close_for(ws: &WebSocket, access: Access) {
        let _ = match access {
            Access::Allowed => Ok(()),
            Access::Revoked => ws.close(Some(close::REVOKED), Some("session ended")),
            Access::LeaseOver => ws.close(Some(close::TRY_AGAIN), Some("reconnect")),
        };
    }

    /// Makes sure the alarm comes back to re-check the connected users.
    pub(super) async fn ensure_alarm(&self) -> worker::Result<()> {
        self.schedule_at(http::now_ms() + self.recheck_ms()).await
    }

    /// `/revoke`: records the change, closes the sockets that no longer fit, answers after.
    pub(super) fn revoke(&self, req: RevokeRequest) -> ApiResult<RevokeResult> {
        self.sockets_changed();
        *self.known_all.borrow_mut() = None;
        let now = http::now_ms();
        let mut closed = 0;
        if let Some(sid) = req.sid.as_deref() {
            self.sql().exec(
                "INSERT INTO revoked_sessions (sid, until) VALUES (?, ?) ON CONFLICT (sid) DO NOTHING",
                vec![sid.into(), (now + REVOKED_KEEP_MS).into()],
            )?;
            for ws in self.state.get_websockets_with_tag(&tag_session(sid)) {
                let _ = ws.close(Some(close::REVOKED), Some("logged out"));
                closed += 1;
            }
        }
        if let Some(user) = req.user.as_ref().filter(|u| u.uid == req.uid) {
            self.put_user(user)?;
            for ws in self.state.get_websockets_with_tag(&tag_user(req.uid)) {
                let keep = matches!(read_info(&ws),
                    Ok(Some(info)) if info.still_allowed(user));
                if !keep {
                    let _ = ws.close(Some(close::REVOKED), Some("session ended"));
                    closed += 1;
                }
            }
        }
        self.sql().exec(
            "DELETE FROM revoked_sessions WHERE until < ?",
            vec![now.into()],
        )?;
        Ok(RevokeResult { closed })
    }

    /// The alarm: re-reads every connected user (and session) from D1, closes the sockets
    /// whose access changed, renews the others' leases. Off the pop's path.
    pub(super) async fn recheck(&self) -> worker::Result<()> {
        self.sockets_changed();
        let sockets = self.state.get_websockets();
        if sockets.is_empty() {
            return Ok(());
        }
        let infos = with_infos(sockets);
        let uids: Vec<i64> = infos
            .iter()
            .map(|(_, i)| i.uid)
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let sids: Vec<String> = infos.iter().map(|(_, i)| i.sid.clone()).collect();
        let now = http::now_ms();
        let checked = match self.env.d1("DB") {
            Ok(db) => {
                let var = |name: &str| self.env.var(name).ok().map(|v| v.to_string());
                let idle = token::idle_secs(
                    var("SESSION_IDLE_SECS").as_deref(),
                    var("SESSION_IDLE_MINUTES").as_deref(),
                );
                users::states(&db, &uids, &sids, now / 1000, idle)
                    .await
                    .ok()
            }
            Err(_) => None,
        };
        let Some((states, live)) = checked else {
            worker::console_warn!(
                "{}",
                serde_json::json!({"event": "hub_recheck_failed", "users": uids.len()})
            );
            return Ok(());
        };
        for st in &states {
            self.put_user(st)?;
        }
        let by_uid: HashMap<i64, &UserState> = states.iter().map(|u| (u.uid, u)).collect();
        let live: HashSet<String> = live.into_iter().collect();
        let lease = http::now_ms() + self.lease_ms();
        for (ws, mut info) in infos {
            let ok = live.contains(&info.sid)
                && by_uid.get(&info.uid).is_some_and(|u| info.still_allowed(u));
            if ok {
                info.lease = lease;
                let _ = write_info(&ws, &info);
            } else {
                let _ = ws.close(Some(close::REVOKED), Some("session ended"));
            }
        }
        // Again: a broadcast during the D1 read above may have read the old leases.
        self.sockets_changed();
        // Users no longer in D1 (deleted) can never connect again.
        for uid in uids.iter().filter(|u| !by_uid.contains_key(u)) {
            self.put_user(&UserState {
                uid: *uid,
                tv: i64::MAX,
                disabled: true,
                role: None,
                store: None,
            })?;
        }
        Ok(())
    }
}

/// Each socket with its attachment; a socket whose attachment cannot be read is closed (its
/// console logs in again).
fn with_infos(sockets: Vec<WebSocket>) -> Vec<(WebSocket, SocketInfo)> {
    sockets
        .into_iter()
        .filter_map(|ws| match read_info(&ws) {
            Ok(Some(info)) => Some((ws, info)),
            _ => {
                let _ = ws.close(Some(close::REVOKED), Some("session ended"));
                None
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::limiter::Bucket;

    /// The one check used by a broadcast, a `sync` replay and nothing else: every way a
    /// socket loses access.
    #[test]
    fn access_covers_every_way_a_socket_ends() {
        let now = 1_000_000_000;
        let info = SocketInfo {
            uid: 7,
            role: Role::Staff,
            store: Some(1),
            stores: vec![],
            exp: now / 1000 + 60,
            tv: 2,
            sid: "abc".into(),
            lease: now + 1,
            bucket: Bucket::default(),
        };
        let user = UserState {
            uid: 7,
            tv: 2,
            disabled: false,
            role: Some(Role::Staff),
            store: Some(1),
        };
        let known = |u: Option<UserState>, revoked: &[&str]| Known {
            users: u.into_iter().map(|u| (u.uid, u)).collect(),
            revoked: revoked.iter().map(|s| s.to_string()).collect(),
        };
        let ok = known(Some(user.clone()), &[]);
        assert_eq!(Hub::access(&info, &ok, now), Access::Allowed);
        let cases = [
            (known(Some(user.clone()), &["abc"]), Access::Revoked),
            (known(None, &[]), Access::Revoked),
            (
                known(
                    Some(UserState {
                        tv: 3,
                        ..user.clone()
                    }),
                    &[],
                ),
                Access::Revoked,
            ),
            (
                known(
                    Some(UserState {
                        store: Some(2),
                        ..user.clone()
                    }),
                    &[],
                ),
                Access::Revoked,
            ),
            (
                known(
                    Some(UserState {
                        disabled: true,
                        ..user.clone()
                    }),
                    &[],
                ),
                Access::Revoked,
            ),
        ];
        for (k, want) in cases {
            assert_eq!(Hub::access(&info, &k, now), want);
        }
        let expired = SocketInfo {
            exp: now / 1000,
            ..info.clone()
        };
        assert_eq!(Hub::access(&expired, &ok, now), Access::Revoked);
        let no_sid = SocketInfo {
            sid: String::new(),
            ..info.clone()
        };
        assert_eq!(Hub::access(&no_sid, &ok, now), Access::Revoked);
        let stale = SocketInfo {
            lease: now - 1,
            ..info
        };
        assert_eq!(Hub::access(&stale, &ok, now), Access::LeaseOver);
    }
}
