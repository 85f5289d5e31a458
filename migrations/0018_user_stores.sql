-- Several stores per person (issue 25): an account belongs to a set of stores. `users.store_id`
-- stays the account's first store (where their new records go when they name none) and is
-- always one of the set; the set is `user_stores` together with `users.store_id`, so an account
-- written by an older client (one store in `store_id`) keeps working exactly as before.
-- Filled from today's `users.store_id`: every staff member keeps their one store, an admin
-- without a store keeps none.
CREATE TABLE user_stores (
  user_id  INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  store_id INTEGER NOT NULL REFERENCES stores(id) ON DELETE CASCADE,
  PRIMARY KEY (user_id, store_id)
) WITHOUT ROWID;
CREATE INDEX user_stores_store ON user_stores(store_id);
INSERT INTO user_stores (user_id, store_id) SELECT id, store_id FROM users WHERE store_id IS NOT NULL;
