-- A key is scoped by where the request went (method, route template and
-- path parameters, hashed), not only by who sent it: the same key sent to
-- two municipalities' departments is two requests. Records from before
-- have no scope and match no request any more; they expire with the rest.
ALTER TABLE idempotency_records ADD COLUMN scope TEXT NOT NULL DEFAULT '';
ALTER TABLE idempotency_records ALTER COLUMN scope DROP DEFAULT;
ALTER TABLE idempotency_records DROP CONSTRAINT idempotency_records_pkey;
ALTER TABLE idempotency_records ADD PRIMARY KEY (caller, scope, key);
