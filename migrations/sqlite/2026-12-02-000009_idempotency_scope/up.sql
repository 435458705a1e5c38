-- A key is scoped by where the request went (method, route template and
-- path parameters, hashed), not only by who sent it: the same key sent to
-- two municipalities' departments is two requests. Records from before
-- have no scope and match no request any more; they expire with the rest.
-- SQLite cannot change a primary key in place, so the table is rebuilt.
CREATE TABLE idempotency_records_scoped (
    caller       TEXT NOT NULL,
    key          TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status       INTEGER NOT NULL,
    body         TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    scope        TEXT NOT NULL,
    PRIMARY KEY (caller, scope, key)
);
INSERT INTO idempotency_records_scoped
    (caller, key, request_hash, status, body, created_at, scope)
    SELECT caller, key, request_hash, status, body, created_at, '' FROM idempotency_records;
DROP TABLE idempotency_records;
ALTER TABLE idempotency_records_scoped RENAME TO idempotency_records;
