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

-- Roles (issue 25): エリアマネージャー and 受付センター besides 管理者 and スタッフ. `users.role`
-- keeps its CHECK (admin | staff: what every older reader and the last-admin guard rely on);
-- the finer role is `org_role`, read as `coalesce(org_role, role)`. (A CHECK cannot be widened
-- in place, and rebuilding `users` would cascade its DROP to every session and store row.)
ALTER TABLE users ADD COLUMN org_role TEXT CHECK (org_role IS NULL OR org_role IN ('area_manager', 'reception'));
