-- Who registered a customer (users.id; NULL for rows from before this column, imports and
-- scripts). Kept as a plain id, not a foreign key: the record of who created a customer
-- outlives the account.
ALTER TABLE customers ADD COLUMN created_by INTEGER;
