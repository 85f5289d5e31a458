//! Unit tests of `access` (kept apart from the rules: the viewers and the role table are long).
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
        scope.is_none() || (parsed(&scope)["c"] == 1 && (home.is_none() || within(&scope, home)))
    };
    let sql_call = |scope: Option<String>, store: Option<i64>| {
        scope.is_none() || (parsed(&scope)["all"] == 1 && store.is_some()) || within(&scope, store)
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

#[test]
fn only_store_is_the_whole_call_scope() {
    // Every role with every set of up to three stores: where a viewer has one store as its
    // whole scope, the calls it may see are exactly that store's (what `one_store_calls_sql`
    // asks SQLite), and where it has not, `only_store` says None.
    let sets: Vec<Vec<i64>> = (0..8u8)
        .map(|m| (1..=3).filter(|s| m & (1 << (s - 1)) != 0).collect())
        .collect();
    for role in [Role::Admin, Role::AreaManager, Role::Staff, Role::Reception] {
        for stores in &sets {
            let v = Viewer {
                role,
                stores: stores.clone(),
            };
            match v.only_store() {
                Some(one) => {
                    for call in [None, Some(1), Some(2), Some(3), Some(4)] {
                        assert_eq!(v.may_see_call(call), call == Some(one), "{v:?} {call:?}");
                    }
                }
                None => assert!(
                    matches!(role, Role::Admin | Role::Reception) || stores.len() != 1,
                    "{v:?}"
                ),
            }
        }
    }
    assert_eq!(NISHI().only_store(), Some(1));
    assert_eq!(ADMIN.only_store(), None);
}
