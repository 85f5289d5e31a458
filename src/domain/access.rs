//! Who may see and edit what: the one access policy.
//!
//! Admins see and edit everything. A staff member works for one store: they see the calls that
//! came in on that store's lines, and the customers whose home store is theirs or who have no
//! home store yet (a caller registered by nobody in particular). Everything that shows a
//! customer or a call asks here: the popup lookup, the customer pages, search, export, the
//! call log and the hub's rooms. SQL list queries use the fragments below, which state the same
//! rule for a bound scope (see [`Viewer::scope`]).
use crate::domain::token::{Role, Session};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Viewer {
    pub role: Role,
    pub store: Option<i64>,
}

impl From<&Session> for Viewer {
    fn from(s: &Session) -> Self {
        Viewer {
            role: s.role,
            store: s.store,
        }
    }
}

/// Bound in place of a store id when a staff member has no store: matches no store.
const NO_STORE: i64 = -1;

impl Viewer {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// 操作履歴 (the audit log: who looked at and changed which customer): admins only.
    pub fn may_read_audit(&self) -> bool {
        self.is_admin()
    }

    /// A customer whose home store is `home`: visible (and editable) to this viewer?
    pub fn may_see_customer(&self, home: Option<i64>) -> bool {
        self.is_admin() || home.is_none() || (self.store.is_some() && home == self.store)
    }

    /// Staff edit exactly what they see; the rule is separate so it can diverge on purpose.
    pub fn may_edit_customer(&self, home: Option<i64>) -> bool {
        self.may_see_customer(home)
    }

    /// May this viewer make `store` a customer's home store?
    pub fn may_assign_home(&self, store: Option<i64>) -> bool {
        self.is_admin() || (store.is_some() && store == self.store)
    }

    /// May this viewer give one of their customers a number that the customers with home
    /// stores `owners` already have? Yes for an admin, and for a staff member of a store
    /// whatever the other owners' stores: a store is never locked out of recording its own
    /// caller. Nothing of the other store's leaks by it: calls link per store
    /// ([`may_link_call`]), a staff member sees only their store's calls of the number and
    /// never the other store's customer ([`Viewer::may_see_customer`]); the number is then
    /// claimed in two stores and listed for admins (`GET /api/customers/shared-numbers`). A
    /// staff member without a store registers no one's number but an unassigned customer's.
    pub fn may_attach_number(&self, owners: &[Option<i64>]) -> bool {
        self.is_admin() || self.store.is_some() || owners.iter().all(|home| home.is_none())
    }

    /// A call that came in on `store`'s line (None: no store matched).
    pub fn may_see_call(&self, store: Option<i64>) -> bool {
        self.is_admin() || (self.store.is_some() && store == self.store)
    }

    /// A setting made for `store` (an action button, a caller id; None: every store): staff
    /// get only their own store's and the global ones (partner tokens in another store's
    /// button URLs, other stores' caller ids stay with admins).
    pub fn may_see_store_setting(&self, store: Option<i64>) -> bool {
        self.is_admin() || store.is_none() || (self.store.is_some() && store == self.store)
    }

    /// The value bound for the SQL fragments below: NULL (everything) for an admin, else the
    /// staff member's store.
    pub fn scope(&self) -> Option<i64> {
        match self.role {
            Role::Admin => None,
            Role::Staff => Some(self.store.unwrap_or(NO_STORE)),
        }
    }

    /// The hub rooms (hibernation tags) a socket of this viewer listens in.
    pub fn rooms(&self) -> Vec<String> {
        match (self.role, self.store) {
            (Role::Admin, _) => vec![ADMIN_ROOM.to_string()],
            (Role::Staff, Some(s)) => vec![store_room(s)],
            (Role::Staff, None) => vec![],
        }
    }
}

/// `may_see_customer` for a customer row aliased `c`, the scope bound at `?n`.
pub fn customer_visible_sql(n: usize) -> String {
    format!("(?{n} IS NULL OR c.home_store_id IS NULL OR c.home_store_id = ?{n})")
}

/// A call that came in on `call_store`'s line is linked to a customer whose home store is
/// `customer_home` only when that store's staff may see the customer: a number claimed in two
/// stores links each store's calls to its own customer, and a call is never linked (so never
/// shown, counted or named) to another store's customer. A call on no store's line is seen
/// by admins only, so any one customer may be linked.
pub fn may_link_call(call_store: Option<i64>, customer_home: Option<i64>) -> bool {
    call_store.is_none()
        || Viewer {
            role: Role::Staff,
            store: call_store,
        }
        .may_see_customer(customer_home)
}

/// `may_link_call` for a call row aliased `k` and a customer whose home store is bound at `?n`.
pub fn call_links_customer_sql(n: usize) -> String {
    format!("(k.store_id IS NULL OR ?{n} IS NULL OR k.store_id = ?{n})")
}

/// A call-log row's customer columns as `viewer` (scope at `?n`) may see them: the call stays
/// visible to the store it came to, but its customer's id and name only when
/// [`Viewer::may_see_customer`] holds for the customer (`c`, LEFT JOINed on the call). The
/// one place the call log's customer columns are written.
pub fn call_customer_columns_sql(n: usize) -> String {
    let vis = customer_visible_sql(n);
    format!(
        "CASE WHEN {vis} THEN k.customer_id END AS customer_id, \
         CASE WHEN {vis} THEN c.name END AS customer_name"
    )
}

/// `may_see_call` for a call row aliased `k`, the scope bound at `?n`.
pub fn call_visible_sql(n: usize) -> String {
    format!("(?{n} IS NULL OR k.store_id = ?{n})")
}

pub const ADMIN_ROOM: &str = "admin";

pub fn store_room(store_id: i64) -> String {
    format!("store:{store_id}")
}

/// Rooms a call on `store_id` goes to. Disjoint from one another, so no socket gets it twice.
pub fn call_rooms(store_id: Option<i64>) -> Vec<String> {
    let mut rooms = vec![ADMIN_ROOM.to_string()];
    if let Some(s) = store_id {
        rooms.push(store_room(s));
    }
    rooms
}

#[cfg(test)]
mod tests {
    use super::*;

    const ADMIN: Viewer = Viewer {
        role: Role::Admin,
        store: None,
    };
    const NISHI: Viewer = Viewer {
        role: Role::Staff,
        store: Some(1),
    };
    const STORELESS: Viewer = Viewer {
        role: Role::Staff,
        store: None,
    };

    #[test]
    fn customers() {
        assert!(ADMIN.may_see_customer(Some(2)) && ADMIN.may_see_customer(None));
        assert!(NISHI.may_see_customer(Some(1)));
        assert!(
            NISHI.may_see_customer(None),
            "an unassigned customer is everyone's"
        );
        assert!(!NISHI.may_see_customer(Some(2)));
        assert!(STORELESS.may_see_customer(None) && !STORELESS.may_see_customer(Some(1)));
        assert!(NISHI.may_assign_home(Some(1)) && !NISHI.may_assign_home(Some(2)));
        assert!(!NISHI.may_assign_home(None) && ADMIN.may_assign_home(None));
    }

    #[test]
    fn a_store_is_never_locked_out_of_its_own_caller() {
        assert!(NISHI.may_attach_number(&[]));
        assert!(NISHI.may_attach_number(&[None, Some(1)]));
        // Another store's customer has the number: the number is claimed in two stores.
        assert!(NISHI.may_attach_number(&[Some(1), Some(2)]));
        assert!(!STORELESS.may_attach_number(&[Some(1)]));
        assert!(STORELESS.may_attach_number(&[None]));
        assert!(ADMIN.may_attach_number(&[Some(2)]));
    }

    #[test]
    fn store_settings() {
        assert!(ADMIN.may_see_store_setting(Some(2)) && ADMIN.may_see_store_setting(None));
        assert!(NISHI.may_see_store_setting(Some(1)) && NISHI.may_see_store_setting(None));
        assert!(!NISHI.may_see_store_setting(Some(2)));
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
                let staff = Viewer {
                    role: Role::Staff,
                    store: call,
                };
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
        assert!(cols.contains("THEN c.name END AS customer_name"));
    }

    /// The bug this policy replaced: the popup lookup let staff read another store's customer
    /// once that customer had called their store, while the customer page refused the same
    /// customer (and the reverse for older calls). Now calls to the store do not widen what a
    /// staff member sees: one rule, whatever the customer's call history.
    #[test]
    fn call_history_never_widens_customer_visibility() {
        let satos_home = Some(2);
        // Whatever calls exist, the answer is a function of the home store alone.
        assert!(!NISHI.may_see_customer(satos_home));
        assert!(NISHI.may_see_call(Some(1)) && !NISHI.may_see_call(Some(2)));
    }

    #[test]
    fn calls_and_rooms() {
        assert!(ADMIN.may_see_call(None) && ADMIN.may_see_call(Some(9)));
        assert!(!NISHI.may_see_call(None));
        assert!(!STORELESS.may_see_call(None) && !STORELESS.may_see_call(Some(1)));
        assert_eq!(ADMIN.rooms(), vec!["admin"]);
        assert_eq!(NISHI.rooms(), vec!["store:1"]);
        assert!(STORELESS.rooms().is_empty());
        assert_eq!(call_rooms(Some(3)), vec!["admin", "store:3"]);
        assert_eq!(call_rooms(None), vec!["admin"]);
    }

    #[test]
    fn scope_agrees_with_the_predicates() {
        // What the SQL fragments compute for a bound scope, evaluated here in Rust.
        let sql_customer = |scope: Option<i64>, home: Option<i64>| {
            scope.is_none() || home.is_none() || home == scope
        };
        let sql_call = |scope: Option<i64>, store: Option<i64>| scope.is_none() || store == scope;
        for v in [ADMIN, NISHI, STORELESS] {
            for s in [None, Some(1), Some(2)] {
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
            "(?4 IS NULL OR c.home_store_id IS NULL OR c.home_store_id = ?4)"
        );
    }
}
