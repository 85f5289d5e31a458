//! Property tests over the one access policy (`domain::access`, issue 23): for arbitrary
//! viewers, stores, customers and calls, linking a call to a customer never shows that
//! customer to anyone who may see the call but not the customer, and the rules agree with one
//! another. The SQL forms of these rules are driven with random data through every route by
//! `tests/boundary-property.test.mjs`.
use cti_edge::domain::access::{customer_rooms, may_link_call, CustomerView, Sharing, Viewer};
use cti_edge::domain::token::Role;
use proptest::prelude::*;

fn store() -> impl Strategy<Value = Option<i64>> {
    prop_oneof![Just(None), (1i64..6).prop_map(Some)]
}

/// Any of the four roles; staff and area managers with a set of stores (none, one or
/// several); a reception desk as it is (no store) or handling a call on a store's line.
fn viewer() -> impl Strategy<Value = Viewer> {
    (
        proptest::sample::select(Role::ALL.to_vec()),
        proptest::collection::vec(1i64..6, 0..4),
        store(),
    )
        .prop_map(|(role, stores, handling)| match role {
            Role::Admin => Viewer::new(role, []),
            Role::Reception => Viewer::new(role, []).handling(handling),
            _ => Viewer::new(role, stores),
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// A call linked to a customer (by the hub or a create) names that customer only to
    /// viewers who may see both the call and the customer: whoever sees the call may see the
    /// customer it is linked to, so the link itself never widens what anyone sees.
    #[test]
    fn a_link_never_shows_a_customer_to_someone_who_may_not_see_them(
        v in viewer(), call_store in store(), home in store()
    ) {
        // Whoever sees the call sees its customer when handling it (a reception desk sees a
        // customer only then; the call log masks the customer otherwise).
        if may_link_call(call_store, home) && v.may_see_call(call_store) {
            let handling = v.handling(call_store);
            prop_assert!(handling.may_see_customer(home), "{v:?} sees call at {call_store:?} linked to a customer of {home:?}");
        }
    }

    /// A staff member of a store may always record their own caller, whoever else has the
    /// number; a staff member without a store only an unassigned customer's number.
    #[test]
    fn no_store_is_locked_out_of_its_own_caller(
        v in viewer(), owners in proptest::collection::vec(store(), 0..5)
    ) {
        let allowed = v.may_attach_number(&owners);
        if v.is_admin() || v.is_reception() || !v.stores.is_empty() {
            prop_assert!(allowed);
        } else {
            prop_assert_eq!(allowed, owners.iter().all(Option::is_none));
        }
    }

    /// Staff get a store's settings (action buttons, caller ids) only for their own store or
    /// for every store; that is exactly the stores whose calls they see, plus the global ones.
    #[test]
    fn staff_settings_are_their_stores(v in viewer(), setting_store in store()) {
        let shown = v.may_see_store_setting(setting_store);
        prop_assert_eq!(shown, v.is_admin() || v.is_reception() || setting_store.is_none() || v.may_see_call(setting_store));
    }

    /// What a staff member sees of customers depends on the home store alone (never on calls),
    /// and the call's store decides which customer a call links to: the two rules are one.
    #[test]
    fn linking_is_the_call_stores_staff_view(call_store in 1i64..6, home in store()) {
        let staff = Viewer::staff_of(Some(call_store));
        prop_assert_eq!(may_link_call(Some(call_store), home), staff.may_see_customer(home));
    }

    /// A member of several stores sees exactly the union of what a member of each one sees:
    /// calls, customers, store settings and the rooms they listen in.
    #[test]
    fn a_set_of_stores_is_the_union_of_its_stores(
        stores in proptest::collection::vec(1i64..6, 1..4), s in store()
    ) {
        let v = Viewer::new(Role::Staff, stores.clone());
        let any = |f: &dyn Fn(&Viewer) -> bool| stores.iter().any(|one| f(&Viewer::staff_of(Some(*one))));
        prop_assert_eq!(v.may_see_call(s), any(&|o| o.may_see_call(s)));
        prop_assert_eq!(v.may_see_customer(s), any(&|o| o.may_see_customer(s)));
        prop_assert_eq!(v.may_edit_customer(s), any(&|o| o.may_edit_customer(s)));
        prop_assert_eq!(v.may_see_store_setting(s), any(&|o| o.may_see_store_setting(s)));
        prop_assert_eq!(v.may_assign_home(s), any(&|o| o.may_assign_home(s)));
        // One room per store, and a call on one store's line reaches the socket by one room.
        let rooms = v.rooms();
        for call in 1i64..6 {
            let shared = access_rooms(Some(call)).iter().filter(|r| rooms.contains(r)).count();
            prop_assert_eq!(shared, usize::from(v.may_see_call(Some(call))));
        }
    }

    /// Editing never reaches beyond seeing, for every role; a reception desk never edits or
    /// reports, registers callers for any store, and sees every store's calls but no
    /// storeless one.
    #[test]
    fn roles_keep_to_the_table(v in viewer(), s in store()) {
        prop_assert!(!v.may_edit_customer(s) || v.may_see_customer(s));
        prop_assert!(!v.may_assign_home(s) || v.is_admin() || v.may_see_call(s));
        if v.is_reception() {
            prop_assert!(!v.may_edit_customer(s) && !v.may_see_reports());
            // It registers callers for the store called (any store), never for no store.
            prop_assert!(v.may_create_customer());
            prop_assert_eq!(v.may_assign_home(s), s.is_some());
            prop_assert_eq!(v.may_see_call(s), s.is_some());
        }
        if matches!(v.role, Role::AreaManager | Role::Staff) {
            prop_assert_eq!(v.may_see_call(s), s.is_some_and(|s| v.stores.contains(&s)));
        }
        // A socket hears a call through exactly one room when it may see the call, else none.
        let rooms = v.rooms();
        let shared = access_rooms(s).iter().filter(|r| rooms.contains(r)).count();
        prop_assert_eq!(shared, usize::from(v.may_see_call(s)));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// 顧客の共有: under 店舗ごと a viewer sees of a customer exactly what
    /// `may_see_customer` allows (nothing else, anywhere); under チェーン共通 everyone sees at
    /// least the shared view of a customer who has a home store, the full record only where
    /// they did before, and the sharing mode never widens an edit.
    #[test]
    fn sharing_widens_only_the_read_only_view(v in viewer(), home in store()) {
        let per_store = v.customer_view(home, Sharing::PerStore);
        prop_assert_eq!(per_store.is_some(), v.may_see_customer(home));
        prop_assert_ne!(per_store, Some(CustomerView::Shared));
        let chain = v.customer_view(home, Sharing::Chain);
        if v.may_see_customer(home) {
            prop_assert_eq!(chain, Some(CustomerView::Full));
        } else if home.is_some() {
            prop_assert_eq!(chain, Some(CustomerView::Shared));
        } else {
            prop_assert_eq!(chain, None);
        }
        // Editing is the full record's, whatever the mode.
        if chain == Some(CustomerView::Shared) {
            prop_assert!(!v.may_edit_customer(home));
        }
    }

    /// A `customer_changed` (id, name, numbers) reaches a socket only by a room of a viewer
    /// who may see the full record: never a reception desk, never another store.
    #[test]
    fn customer_changes_reach_only_the_full_record(v in viewer(), home in store()) {
        let rooms = v.rooms();
        let heard = customer_rooms(home).iter().filter(|r| rooms.contains(r)).count();
        prop_assert!(heard <= 1);
        if heard == 1 {
            prop_assert!(v.may_hear_customer_change(home), "{v:?} hears a change of {home:?}");
            prop_assert!(!v.is_reception());
        }
    }
}

fn access_rooms(store: Option<i64>) -> Vec<String> {
    cti_edge::domain::access::call_rooms(store)
}
