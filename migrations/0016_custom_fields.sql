-- Custom fields (フリー項目): the business's own facts about customers.
-- Definitions in their own table; values as one JSON object per customer (field id -> text),
-- so a write binds one parameter however many fields there are (D1: 100 bound parameters)
-- and the hub's pop index carries them in the customer's row. custom_key: the folded text of
-- the text and list values, for the customer search.
CREATE TABLE custom_fields (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  label TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL,
  options TEXT NOT NULL DEFAULT '[]',
  store_id INTEGER REFERENCES stores(id) ON DELETE CASCADE,
  on_card INTEGER NOT NULL DEFAULT 0,
  position INTEGER NOT NULL DEFAULT 0,
  staff_edit INTEGER NOT NULL DEFAULT 1
);
ALTER TABLE customers ADD COLUMN custom TEXT NOT NULL DEFAULT '{}';
ALTER TABLE customers ADD COLUMN custom_key TEXT NOT NULL DEFAULT '';
