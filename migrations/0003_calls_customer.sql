-- The customer page and the popup read a customer's calls; a new customer's registration
-- links their earlier calls. Both look calls up by customer.
CREATE INDEX IF NOT EXISTS calls_customer ON calls(customer_id, started_at DESC);
