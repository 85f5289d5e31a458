//! Property tests over the one access policy (`domain::access`, issue 23): for arbitrary
//! viewers, stores, customers and calls, linking a call to a customer never shows that
//! customer to anyone who may see the call but not the customer, and the rules agree with one
//! another. The SQL forms of these rules are driven with random data through every route by
//! `tests/boundary-property.test.mjs`.
use cti_edge::domain::access::{may_link_call, Viewer};
use cti_edge::domain::token::Role;
use proptest::prelude::*;

fn store() -> impl Strategy<Value = Option<i64>> {
    prop_oneof![Just(None), (1i64..6).prop_map(Some)]
}

fn viewer() -> impl Strategy<Value = Viewer> {
    (any::<bool>(), store()).prop_map(|(admin, store)| Viewer {
        role: if admin { Role::Admin } else { Role::Staff },
        store,
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
        if may_link_call(call_store, home) && v.may_see_call(call_store) {
            prop_assert!(v.may_see_customer(home), "{v:?} sees call at {call_store:?} linked to a customer of {home:?}");
        }
    }

    /// A staff member of a store may always record their own caller, whoever else has the
    /// number; a staff member without a store only an unassigned customer's number.
    #[test]
    fn no_store_is_locked_out_of_its_own_caller(
        v in viewer(), owners in proptest::collection::vec(store(), 0..5)
    ) {
        let allowed = v.may_attach_number(&owners);
        if v.is_admin() || v.store.is_some() {
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
        prop_assert_eq!(shown, v.is_admin() || setting_store.is_none() || v.may_see_call(setting_store));
    }

    /// What a staff member sees of customers depends on the home store alone (never on calls),
    /// and the call's store decides which customer a call links to: the two rules are one.
    #[test]
    fn linking_is_the_call_stores_staff_view(call_store in 1i64..6, home in store()) {
        let staff = Viewer { role: Role::Staff, store: Some(call_store) };
        prop_assert_eq!(may_link_call(Some(call_store), home), staff.may_see_customer(home));
    }
}
