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
mod tests {
    use super::*;

    const ADMIN: Viewer = Viewer {
        role: Role::Admin,
        stores: Vec::new(),
    };
    const STORELESS: Viewer = Viewer {
        role: Role::Staff,
        stores: Vec::new(),
    };
    #[allow(non_snake_case)]
    fn NISHI() -> Viewer {
        Viewer::staff_of(Some(1))
    }

    #[test]
    fn customers() {
        assert!(ADMIN.may_see_customer(Some(2)) && ADMIN.may_see_customer(None));
        assert!(NISHI().may_see_customer(Some(1)));
        assert!(
            NISHI().may_see_customer(None),
            "an unassigned customer is everyone's"
        );
        assert!(!NISHI().may_see_customer(Some(2)));
        assert!(STORELESS.may_see_customer(None) && !STORELESS.may_see_customer(Some(1)));
        assert!(NISHI().may_assign_home(Some(1)) && !NISHI().may_assign_home(Some(2)));
        assert!(!NISHI().may_assign_home(None) && ADMIN.may_assign_home(None));
    }

    #[test]
    fn a_store_is_never_locked_out_of_its_own_caller() {
        assert!(NISHI().may_attach_number(&[]));
        assert!(NISHI().may_attach_number(&[None, Some(1)]));
        // Another store's customer has the number: the number is claimed in two stores.
        assert!(NISHI().may_attach_number(&[Some(1), Some(2)]));
        assert!(!STORELESS.may_attach_number(&[Some(1)]));
        assert!(STORELESS.may_attach_number(&[None]));
        assert!(ADMIN.may_attach_number(&[Some(2)]));
    }

    #[test]
    fn store_settings() {
        assert!(ADMIN.may_see_store_setting(Some(2)) && ADMIN.may_see_store_setting(None));
        assert!(NISHI().may_see_store_setting(Some(1)) && NISHI().may_see_store_setting(None));
        assert!(!NISHI().may_see_store_setting(Some(2)));
        assert!(!STORELESS.may_see_store_setting(Some(1)));
    }

    #[test]
    fn calls_link_only_to_customers_their_store_may_see() {
        assert!(may_link_call(Some(1), Some(1)));
        assert!(may_link_call(Some(1), None));
        assert!(
            !may_link_call(Some(1), Some(2)),
            "no squatting across stores"
        );
        assert!(
            may_link_call(None, Some(2)),
            "a storeless call is admins' only"
        );
        // The same rule as what the store's staff see.
        for call in [Some(1), Some(2)] {
            for home in [None, Some(1), Some(2)] {
                let staff = Viewer::staff_of(call);
                assert_eq!(may_link_call(call, home), staff.may_see_customer(home));
            }
        }
    }

    #[test]
    fn the_link_fragment_agrees_with_may_link_call() {
        // What `call_links_customer_sql` computes, evaluated here in Rust.
        let sql =
            |call: Option<i64>, home: Option<i64>| call.is_none() || home.is_none() || call == home;
        for call in [None, Some(1), Some(2)] {
            for home in [None, Some(1), Some(2)] {
                assert_eq!(
                    sql(call, home),
                    may_link_call(call, home),
                    "{call:?} {home:?}"
                );
            }
        }
        assert_eq!(
            call_links_customer_sql(5),
            "(k.store_id IS NULL OR ?5 IS NULL OR k.store_id = ?5)"
        );
    }

    #[test]
    fn the_call_logs_customer_columns_are_masked_by_the_customer_rule() {
        let cols = call_customer_columns_sql(3);
        assert_eq!(cols.matches(&customer_visible_sql(3)).count(), 2);
        assert!(cols.contains("THEN k.customer_id END AS customer_id"));
        assert!(cols.contains(&format!(
            "WHEN k.customer_id IS NULL THEN {} END AS customer_name",
            shared_name_sql("k.caller")
        )));
        // The shared name only under チェーン共通, and never the id.
        assert_eq!(cols.matches(&sharing_chain_sql()).count(), 2);
        assert!(shared_name_sql("k.caller").contains(&sharing_chain_sql()));
    }

    /// The bug this policy replaced: the popup lookup let staff read another store's customer
    /// once that customer had called their store, while the customer page refused the same
    /// customer (and the reverse for older calls). Now calls to the store do not widen what a
    /// staff member sees: one rule, whatever the customer's call history.
    #[test]
    fn call_history_never_widens_customer_visibility() {
        let satos_home = Some(2);
        // Whatever calls exist, the answer is a function of the home store alone.
        assert!(!NISHI().may_see_customer(satos_home));
        assert!(NISHI().may_see_call(Some(1)) && !NISHI().may_see_call(Some(2)));
    }

    /// The four roles, one line each of the README's table (the routes are tested against
    /// the same table in `tests/roles.test.mjs`).
    #[test]
    fn roles() {
        let area = Viewer::new(Role::AreaManager, [1, 2]);
        let desk = Viewer::new(Role::Reception, []);
        // エリアマネージャー: their stores, like their staff; editing included.
        assert!(area.may_see_call(Some(2)) && !area.may_see_call(Some(3)));
        assert!(area.may_edit_customer(Some(1)) && !area.may_see_customer(Some(3)));
        assert!(area.may_see_reports() && area.may_create_customer());
        assert_eq!(area.rooms(), vec!["store:1", "store:2"]);
        // 受付センター: every store's calls, no customer but the one of the call it handles,
        // never an edit, no report; it registers an unknown caller for the store called.
        for s in [Some(1), Some(7)] {
            assert!(desk.may_see_call(s) && desk.may_see_store_setting(s));
            assert!(!desk.may_see_customer(s));
        }
        assert!(!desk.may_see_call(None) && !desk.may_see_customer(None));
        let handling = desk.handling(Some(7));
        assert!(handling.may_see_customer(Some(7)) && handling.may_see_customer(None));
        assert!(!handling.may_see_customer(Some(1)));
        assert!(!handling.may_edit_customer(Some(7)));
        assert!(desk.may_create_customer() && !desk.may_see_reports());
        assert!(desk.may_assign_home(Some(7)) && !desk.may_assign_home(None));
        assert!(desk.may_attach_number(&[]) && desk.may_attach_number(&[Some(1)]));
        assert_eq!(desk.rooms(), vec!["desk"]);
        // Handling a call changes nothing for anyone else.
        assert_eq!(area.handling(Some(7)), area);
        // A reception account's own stores decide nothing.
        let session = Session {
            uid: 1,
            login: "desk".into(),
            name: "受付".into(),
            role: Role::Reception,
            store: Some(1),
            stores: vec![1, 2],
            tv: 0,
            sid: String::new(),
        };
        assert_eq!(Viewer::from(&session), desk);
    }

    /// A member of two stores sees both stores' calls, customers and settings, and nothing of
    /// a third; their first store is where their new records go.
    #[test]
    fn a_member_of_two_stores_sees_the_union() {
        let both = Viewer::new(Role::Staff, [2, 1]);
        assert_eq!(both.stores, vec![1, 2]);
        for s in [Some(1), Some(2)] {
            assert!(both.may_see_call(s) && both.may_see_customer(s));
            assert!(both.may_assign_home(s) && both.may_see_store_setting(s));
        }
        assert!(!both.may_see_call(Some(3)) && !both.may_see_customer(Some(3)));
        assert!(!both.may_assign_home(Some(3)) && !both.may_see_store_setting(Some(3)));
        assert!(!both.may_see_call(None));
        assert_eq!(both.default_store(), Some(1));
    }

    #[test]
    fn sharing() {
        let desk = Viewer::new(Role::Reception, []);
        for v in [
            NISHI(),
            Viewer::new(Role::AreaManager, [1, 3]),
            desk.clone(),
        ] {
            // 店舗ごと: another store's customer is nothing.
            assert_eq!(v.customer_view(Some(2), Sharing::PerStore), None, "{v:?}");
            // チェーン共通: their shared view, never an edit.
            assert_eq!(
                v.customer_view(Some(2), Sharing::Chain),
                Some(CustomerView::Shared)
            );
            assert!(!v.may_edit_customer(Some(2)));
        }
        for sharing in [Sharing::PerStore, Sharing::Chain] {
            assert_eq!(
                NISHI().customer_view(Some(1), sharing),
                Some(CustomerView::Full)
            );
            assert_eq!(
                ADMIN.customer_view(Some(2), sharing),
                Some(CustomerView::Full)
            );
        }
        assert_eq!(Sharing::parse("chain"), Some(Sharing::Chain));
        assert_eq!(Sharing::parse("store"), Some(Sharing::PerStore));
        assert_eq!(Sharing::parse("店舗ごと"), None);
        assert_eq!(Sharing::default().as_str(), "store");
    }

    #[test]
    fn the_desk_never_hears_customer_changes() {
        let desk = Viewer::new(Role::Reception, []);
        for home in [None, Some(1), Some(2)] {
            assert!(!desk.may_hear_customer_change(home));
            assert!(!desk.handling(home).may_hear_customer_change(home));
            assert!(ADMIN.may_hear_customer_change(home));
            assert_eq!(
                NISHI().may_hear_customer_change(home),
                NISHI().may_see_customer(home)
            );
            // The rooms follow the rule: the desk's room is never among them.
            let rooms = customer_rooms(home);
            assert!(!rooms.iter().any(|r| r == DESK_ROOM));
            for r in desk.rooms() {
                assert!(!rooms.contains(&r));
            }
        }
        assert_eq!(customer_rooms(Some(3)), vec!["admin", "store:3"]);
    }

    #[test]
    fn calls_and_rooms() {
        assert!(ADMIN.may_see_call(None) && ADMIN.may_see_call(Some(9)));
        assert!(!NISHI().may_see_call(None));
        assert!(!STORELESS.may_see_call(None) && !STORELESS.may_see_call(Some(1)));
        assert_eq!(ADMIN.rooms(), vec!["admin"]);
        assert_eq!(NISHI().rooms(), vec!["store:1"]);
        assert!(STORELESS.rooms().is_empty());
        assert_eq!(
            Viewer::new(Role::Staff, [2, 1]).rooms(),
            vec!["store:1", "store:2"]
        );
        assert_eq!(call_rooms(Some(3)), vec!["admin", "store:3", "desk"]);
        assert_eq!(call_rooms(None), vec!["admin"]);
    }

    #[test]
    fn scope_agrees_with_the_predicates() {
        // What the SQL fragments compute for a bound scope, evaluated here in Rust.
        let parsed = |scope: &Option<String>| -> serde_json::Value {
            serde_json::from_str(scope.as_deref().unwrap()).unwrap()
        };
        let within = |scope: &Option<String>, s: Option<i64>| {
            let set: Vec<i64> = serde_json::from_value(parsed(scope)["s"].clone()).unwrap();
            s.is_some_and(|s| set.contains(&s))
        };
        let sql_customer = |scope: Option<String>, home: Option<i64>| {
            scope.is_none()
                || (parsed(&scope)["c"] == 1 && (home.is_none() || within(&scope, home)))
        };
        let sql_call = |scope: Option<String>, store: Option<i64>| {
            scope.is_none()
                || (parsed(&scope)["all"] == 1 && store.is_some())
                || within(&scope, store)
        };
        let desk = Viewer::new(Role::Reception, []);
        for v in [
            ADMIN,
            NISHI(),
            STORELESS,
            Viewer::new(Role::Staff, [1, 3]),
            Viewer::new(Role::AreaManager, [1, 2]),
            desk.clone(),
            desk.handling(Some(2)),
        ] {
            for s in [None, Some(1), Some(2), Some(3)] {
                assert_eq!(
                    sql_customer(v.scope(), s),
                    v.may_see_customer(s),
                    "{v:?} {s:?}"
                );
                assert_eq!(sql_call(v.scope(), s), v.may_see_call(s), "{v:?} {s:?}");
            }
        }
        assert_eq!(
            customer_visible_sql(4),
            "(?4 IS NULL OR (json_extract(?4, '$.c') = 1 AND (c.home_store_id IS NULL OR \
             c.home_store_id IN (SELECT value FROM json_each(?4, '$.s')))))"
        );
        assert_eq!(ADMIN.scope(), None);
        assert_eq!(
            STORELESS.scope().as_deref(),
            Some(r#"{"s":[],"c":1,"all":0}"#)
        );
        assert_eq!(
            Viewer::new(Role::Staff, [3, 1, 3]).scope().as_deref(),
            Some(r#"{"s":[1,3],"c":1,"all":0}"#)
        );
        assert_eq!(desk.scope().as_deref(), Some(r#"{"s":[],"c":0,"all":1}"#));
    }
}
