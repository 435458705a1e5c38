-- The transactional outbox: every SMS and e-mail is written here in the same
-- transaction as the change that causes it, and delivered afterwards by the
-- worker (at least once). The id (UUIDv7) travels with the message so that
-- receivers can drop duplicates. Instants are UTC timestamps.

CREATE TABLE outbox_messages (
    id              TEXT PRIMARY KEY,
    channel         TEXT NOT NULL CHECK (channel IN ('sms', 'email')),
    recipient       TEXT NOT NULL,
    -- Empty for SMS.
    subject         TEXT NOT NULL,
    body            TEXT NOT NULL,
    language        TEXT NOT NULL CHECK (language IN ('el', 'en')),
    status          TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'dead')),
    -- Which transport delivered it ('development', 'smtp', 'sms_gateway').
    transport       TEXT,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    -- A worker's lease: while in the future, no other worker claims it.
    locked_until    TIMESTAMP,
    last_error      TEXT,
    created_at      TIMESTAMP NOT NULL,
    sent_at         TIMESTAMP
);
-- What the worker polls for: pending messages that are due.
CREATE INDEX outbox_messages_due ON outbox_messages (status, next_attempt_at);

CREATE TABLE outbox_attachments (
    message_id   TEXT NOT NULL REFERENCES outbox_messages (id) ON DELETE CASCADE,
    position     INTEGER NOT NULL,
    filename     TEXT NOT NULL,
    content_type TEXT NOT NULL,
    content      BYTEA NOT NULL,
    PRIMARY KEY (message_id, position)
);
