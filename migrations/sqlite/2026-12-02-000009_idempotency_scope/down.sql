-- Without the scope, one key may have several records; the records are
-- short-lived answers to replay, so going back forgets them all.
DROP TABLE idempotency_records;
CREATE TABLE idempotency_records (
    caller       TEXT NOT NULL,
    key          TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status       INTEGER NOT NULL,
    body         TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (caller, key)
);
