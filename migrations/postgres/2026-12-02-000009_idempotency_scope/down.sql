-- Without the scope, one key may have several records; the records are
-- short-lived answers to replay, so going back forgets them all.
DELETE FROM idempotency_records;
ALTER TABLE idempotency_records DROP CONSTRAINT idempotency_records_pkey;
ALTER TABLE idempotency_records DROP COLUMN scope;
ALTER TABLE idempotency_records ADD PRIMARY KEY (caller, key);
