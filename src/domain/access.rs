//! Who may see and edit what: the one access policy (the README's table of roles).
//!
//! 管理者 (admins) see and edit everything. A スタッフ (staff member) works for a set of stores
//! (one or more): they see the calls that came in on those stores' lines, and the customers
//! whose home store is one of theirs or who have no home store yet (a caller registered by
//! nobody in particular). An エリアマネージャー (area manager) sees and does the same over their
//! stores (accounts, stores and settings are admins' alone, like every admin route). A
//! 受付センター (reception desk) answers for every store: it sees every store's calls and hears
//! every store's pops with the caller's card (what the called store's staff see), works the
//! callbacks of every store (the item's customer as the item's store sees them), and sees a
//! customer's record only while handling a call from them ([`Viewer::handling`]); it never
//! creates or edits a customer and sees no report. Everything that shows a
//! customer or a call asks here: the popup lookup, the customer pages, search, export, the
//! call log and the hub's rooms. SQL list queries use the fragments below, which state the same
//! rule for a bound scope (see [`Viewer::scope`]).
use crate::domain::token::{Role, Session};

/// 顧客の共有 (設定): how far a customer is known beyond their home store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sharing {
    /// 店舗ごと: another store's customer is hidden (nothing of them is shown).
    #[default]
    PerStore,
    /// チェーン共通: every store sees another store's customer's shared view (name, kana,
    /// flags, pinned 注意/苦情 notes, home store), read-only.
    Chain,
}

impl Sharing {
    /// The setting's stored value (`"store"` | `"chain"`).
    pub const VALUES: [&'static str; 2] = ["store", "chain"];

    pub fn parse(value: &str) -> Option<Sharing> {
        match value {
            "store" => Some(Sharing::PerStore),
            "chain" => Some(Sharing::Chain),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Sharing::PerStore => "store",
            Sharing::Chain => "chain",
        }
    }
}

/// What a viewer may see of one customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CustomerView {
    /// The whole record (and, but for a reception desk, its edits).
    Full,
    /// Under チェーン共通, another store's customer: name, kana, flags, pinned notes and the
    /// home store's name, read-only. Phones, memo, history and custom fields stay hidden.
    Shared,
}

/// Who is looking: their role and the set of stores they belong to (empty for an admin or an
/// account whose stores were all deleted). Built from the session, which the Worker reads
/// from D1 on every request (`users.store_id` and `user_stores`), and from a socket's
/// attachment on the hub (so the pop path never asks D1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Viewer {
    pub role: Role,
    /// The stores this account belongs to, ascending, without duplicates.
    pub stores: Vec<i64>,
}

impl From<&Session> for Viewer {
    fn from(s: &Session) -> Self {
        match s.role {
            // A reception desk's own stores decide nothing: it answers for every store, and
            // sees a customer only through the call it handles.
            Role::Reception => Viewer::new(Role::Reception, []),
            _ => Viewer::new(s.role, s.store_set()),
        }
    }
}

impl Viewer {
    /// A viewer of `role` belonging to `stores` (sorted and deduplicated here).
    pub fn new(role: Role, stores: impl IntoIterator<Item = i64>) -> Self {
        Viewer {
            role,
            stores: crate::domain::token::store_set(stores),
        }
    }

    /// The staff view of one store (None: of no store): what a call on that store's line
    /// may show, on the hub and in the link rule.
    pub fn staff_of(store: Option<i64>) -> Self {
        Viewer::new(Role::Staff, store)
    }

    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// 操作履歴 (the audit log: who looked at and changed which customer): admins only.
    pub fn may_read_audit(&self) -> bool {
        self.is_admin()
    }

    pub fn is_reception(&self) -> bool {
        self.role == Role::Reception
    }

    /// This viewer handling a call on `store`'s line (the popup's lookup of that call): a
    /// reception desk then sees the caller as the store's staff do (read-only); anyone else
    /// sees what they always see.
    pub fn handling(&self, store: Option<i64>) -> Viewer {
        match self.role {
            Role::Reception => Viewer::new(Role::Reception, store),
            _ => self.clone(),
        }
    }

    /// Registers new customers: every role. Staff and area managers for their stores, admins
    /// for any, a reception desk for the store of the call it is handling (it names the store:
    /// [`Viewer::may_assign_home`]); the desk then sees that customer only through calls it
    /// handles, as any other.
    pub fn may_create_customer(&self) -> bool {
        true
    }

    /// 着信分析.
    pub fn may_see_reports(&self) -> bool {
        !self.is_reception()
    }

    /// Is `store` one of this viewer's stores? (None is nobody's store.)
    pub fn belongs_to(&self, store: Option<i64>) -> bool {
        store.is_some_and(|s| self.stores.binary_search(&s).is_ok())
    }

    /// The lowest of their stores: where a new record goes when they name none and the
    /// account has no first store (`Session::store`) among them.
    pub fn default_store(&self) -> Option<i64> {
        self.stores.first().copied()
    }

    /// A customer whose home store is `home`: visible (and editable) to this viewer?
    pub fn may_see_customer(&self, home: Option<i64>) -> bool {
        match self.role {
            Role::Admin => true,
            Role::AreaManager | Role::Staff => home.is_none() || self.belongs_to(home),
            // Only through a call it handles (`handling` gives it that call's store).
            Role::Reception => !self.stores.is_empty() && (home.is_none() || self.belongs_to(home)),
        }
    }

    /// How much of a customer whose home store is `home` this viewer may see under
    /// `sharing`: the full record when [`Viewer::may_see_customer`] holds; else, under
    /// チェーン共通, the shared view of a customer who has a home store; else nothing.
    pub fn customer_view(&self, home: Option<i64>, sharing: Sharing) -> Option<CustomerView> {
        if self.may_see_customer(home) {
            Some(CustomerView::Full)
        } else if sharing == Sharing::Chain && home.is_some() {
            Some(CustomerView::Shared)
        } else {
            None
        }
    }

    /// Does this viewer hear `customer_changed` (a customer's id, name and numbers) for a
    /// customer whose home store is `home`? Only when they may see the full record: a
    /// reception desk (which sees a customer only through a call it handles) never does, and
    /// the shared view carries no numbers.
    pub fn may_hear_customer_change(&self, home: Option<i64>) -> bool {
        !self.is_reception() && self.may_see_customer(home)
    }

    /// Staff and area managers edit exactly what they see; a reception desk edits nothing.
    pub fn may_edit_customer(&self, home: Option<i64>) -> bool {
        !self.is_reception() && self.may_see_customer(home)
    }

    /// May this viewer make `store` a customer's home store?
    pub fn may_assign_home(&self, store: Option<i64>) -> bool {
        match self.role {
            Role::Admin => true,
            Role::AreaManager | Role::Staff => self.belongs_to(store),
            // The desk answers for every store: it registers a caller for the store called.
            Role::Reception => store.is_some(),
        }
    }

    /// May this viewer give one of their customers a number that the customers with home
    /// stores `owners` already have? Yes for an admin, and for a staff member of a store
    /// whatever the other owners' stores: a store is never locked out of recording its own
    /// caller. Nothing of the other store's leaks by it: calls link per store
    /// ([`may_link_call`]), a staff member sees only their stores' calls of the number and
    /// never the other store's customer ([`Viewer::may_see_customer`]); the number is then
    /// claimed in two stores and listed for admins (`GET /api/customers/shared-numbers`). A
    /// staff member without a store registers no one's number but an unassigned customer's.
    pub fn may_attach_number(&self, owners: &[Option<i64>]) -> bool {
        match self.role {
            // The desk registers for a store it names, as that store's staff would.
            Role::Admin | Role::Reception => true,
            Role::AreaManager | Role::Staff => {
                !self.stores.is_empty() || owners.iter().all(|home| home.is_none())
            }
        }
    }

    /// A call that came in on `store`'s line (None: no store matched, admins only).
    pub fn may_see_call(&self, store: Option<i64>) -> bool {
        match self.role {
            Role::Admin => true,
            Role::Reception => store.is_some(),
            Role::AreaManager | Role::Staff => self.belongs_to(store),
        }
    }

    /// A setting made for `store` (an action button, a caller id; None: every store): staff
    /// get only their own stores' and the global ones (partner tokens in another store's
    /// button URLs, other stores' caller ids stay with admins).
    pub fn may_see_store_setting(&self, store: Option<i64>) -> bool {
        match self.role {
            Role::Admin | Role::Reception => true,
            Role::AreaManager | Role::Staff => store.is_none() || self.belongs_to(store),
        }
    }

    /// The stores whose calls this viewer's lists cover: None (every store) for an admin and
    /// a reception desk, else their set (empty: none).
    pub fn scope_stores(&self) -> Option<&[i64]> {
        match self.role {
            Role::Admin | Role::Reception => None,
            Role::AreaManager | Role::Staff => Some(&self.stores),
        }
    }

    /// The value bound for the SQL fragments below: NULL (everything) for an admin, else one
    /// JSON object read with `json_each`/`json_extract`, so a set of any size is one bound
    /// parameter: `s`, the viewer's stores; `c`, 1 when the customers of `s` (and the
    /// unassigned ones) are visible; `all`, 1 when every store's calls are (a reception desk).
    pub fn scope(&self) -> Option<String> {
        if self.is_admin() {
            return None;
        }
        let ids: Vec<String> = self.stores.iter().map(i64::to_string).collect();
        let customers = self.may_see_customer(None);
        Some(format!(
            "{{\"s\":[{}],\"c\":{},\"all\":{}}}",
            ids.join(","),
            u8::from(customers),
            u8::from(self.is_reception())
        ))
    }

    /// The one store whose calls this viewer sees, when that store is their whole scope (the
    /// staff of one store, as the pop's store version is read for): then
    /// [`one_store_calls_sql`] bound to it says what [`call_visible_sql`] with [`Self::scope`]
    /// says, without the scope document.
    pub fn only_store(&self) -> Option<i64> {
        match (self.role, self.stores.as_slice()) {
            (Role::AreaManager | Role::Staff, [one]) => Some(*one),
            _ => None,
        }
    }

    /// The hub rooms (hibernation tags) a socket of this viewer listens in: one per store, so
    /// a member of two stores hears each store's calls, each call once ([`call_rooms`]); a
    /// reception desk listens in the desk's room, which hears every store's calls.
    pub fn rooms(&self) -> Vec<String> {
        match self.role {
            Role::Admin => vec![ADMIN_ROOM.to_string()],
            Role::Reception => vec![DESK_ROOM.to_string()],
            Role::AreaManager | Role::Staff => self.stores.iter().map(|s| store_room(*s)).collect(),
        }
    }
}

/// Rooms a `customer_changed` for a customer whose home store is `home` goes to: the admin
/// room and the home store's room, never the desk's ([`Viewer::may_hear_customer_change`]).
pub fn customer_rooms(home: Option<i64>) -> Vec<String> {
    call_rooms(home)
        .into_iter()
        .filter(|r| r != DESK_ROOM)
        .collect()
}

/// `column IN scope's stores`, for a scope bound at `?n`.
fn in_scope(column: &str, n: usize) -> String {
    format!("{column} IN (SELECT value FROM json_each(?{n}, '$.s'))")
}

/// `may_see_customer` for a customer row aliased `c`, the scope bound at `?n`.
pub fn customer_visible_sql(n: usize) -> String {
    format!(
        "(?{n} IS NULL OR (json_extract(?{n}, '$.c') = 1 AND (c.home_store_id IS NULL OR {})))",
        in_scope("c.home_store_id", n)
    )
}

/// The customer of a callback item (aliased `k`, its store `k.store_id`) as the 折り返し list
/// shows it: what [`customer_visible_sql`] allows, and for a reception desk (which works every
/// store's callbacks) the customer the item's store may see.
pub fn callback_customer_visible_sql(n: usize) -> String {
    format!(
        "({} OR (json_extract(?{n}, '$.all') = 1 AND (c.home_store_id IS NULL \
         OR c.home_store_id = k.store_id)))",
        customer_visible_sql(n)
    )
}

/// A call that came in on `call_store`'s line is linked to a customer whose home store is
/// `customer_home` only when that store's staff may see the customer: a number claimed in two
/// stores links each store's calls to its own customer, and a call is never linked (so never
/// shown, counted or named) to another store's customer. A call on no store's line is seen
/// by admins only, so any one customer may be linked.
pub fn may_link_call(call_store: Option<i64>, customer_home: Option<i64>) -> bool {
    call_store.is_none() || Viewer::staff_of(call_store).may_see_customer(customer_home)
}

/// `may_link_call` for a call row aliased `k` and a customer whose home store is bound at `?n`.
pub fn call_links_customer_sql(n: usize) -> String {
    format!("(k.store_id IS NULL OR ?{n} IS NULL OR k.store_id = ?{n})")
}

/// A call-log row's customer columns as `viewer` (scope at `?n`) may see them: the call stays
/// visible to the store it came to, but its customer's id and name only when
/// [`Viewer::may_see_customer`] holds for the customer (`c`, LEFT JOINed on the call). The
/// one place the call log's customer columns are written.
///
/// Under 顧客の共有: チェーン共通 ([`sharing_chain_sql`]) the name (never the id, which links
/// to an editable page) is there too for a customer the viewer may see only in the shared view
/// ([`Viewer::customer_view`]): the call's customer when they have a home store, or, for a
/// call linked to no one, the one customer with a home store who has the caller's number
/// ([`shared_name_sql`]).
pub fn call_customer_columns_sql(n: usize) -> String {
    let vis = customer_visible_sql(n);
    let chain = sharing_chain_sql();
    let shared = shared_name_sql("k.caller");
    format!(
        "CASE WHEN {vis} THEN k.customer_id END AS customer_id, \
         CASE WHEN k.customer_id IS NOT NULL AND {vis} THEN c.name \
         WHEN k.customer_id IS NOT NULL AND c.home_store_id IS NOT NULL AND {chain} THEN c.name \
         WHEN k.customer_id IS NULL THEN {shared} END AS customer_name"
    )
}

/// True when 顧客の共有 is チェーン共通 (the setting as D1 stores it, read in the same query:
/// no value is built into the SQL).
pub fn sharing_chain_sql() -> String {
    format!(
        "(coalesce((SELECT json_extract(body, '$.customerSharing') FROM front_desk_settings \
         WHERE id = 1), '{}') = '{}')",
        Sharing::PerStore.as_str(),
        Sharing::Chain.as_str()
    )
}

/// Under チェーン共通 ([`sharing_chain_sql`]), the name of the one customer with a home store
/// who has the number `phone` (a column): their shared view, which every viewer may see
/// ([`Viewer::customer_view`]). NULL under 店舗ごと, for an empty number, or when several
/// stores' customers have it (which one called is not known).
pub fn shared_name_sql(phone: &str) -> String {
    format!(
        "(SELECT CASE WHEN count(*) = 1 THEN max(sc.name) END FROM customer_phones sp \
         JOIN customers sc ON sc.id = sp.customer_id WHERE sp.phone = {phone} AND {phone} <> '' \
         AND sc.home_store_id IS NOT NULL AND {})",
        sharing_chain_sql()
    )
}

/// `may_see_call` for a call row aliased `k`, the scope bound at `?n`.
pub fn call_visible_sql(n: usize) -> String {
    format!(
        "(?{n} IS NULL OR (json_extract(?{n}, '$.all') = 1 AND k.store_id IS NOT NULL) OR {})",
        in_scope("k.store_id", n)
    )
}

/// [`call_visible_sql`] for a viewer whose scope is one store ([`Viewer::only_store`]), that
/// store's id bound at `?n`. The scope document's form is tested row by row (`json_extract`,
/// `json_each`): this one lets SQLite read a caller's calls at one store from the
/// `calls_caller_store` index alone. The pop reads a store's card with it on every call.
pub fn one_store_calls_sql(n: usize) -> String {
    format!("k.store_id = ?{n}")
}

pub const ADMIN_ROOM: &str = "admin";
/// The reception desk's room: every store's calls, as the called store's staff get them.
pub const DESK_ROOM: &str = "desk";

pub fn store_room(store_id: i64) -> String {
    format!("store:{store_id}")
}

/// Rooms a call on `store_id` goes to. A socket listens either in the admin room, in the
/// desk's, or in store rooms, and a call goes to one store room: no socket gets it twice.
pub fn call_rooms(store_id: Option<i64>) -> Vec<String> {
    let mut rooms = vec![ADMIN_ROOM.to_string()];
    if let Some(s) = store_id {
        rooms.push(store_room(s));
        rooms.push(DESK_ROOM.to_string());
    }
    rooms
}

#[cfg(test)]
#[path = "access_tests.rs"]
mod tests;
