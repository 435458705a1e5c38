-- Sealed texts cannot be turned back into text here: waiting messages are
-- given up, expired ones count as dead, and the texts are left empty. The
-- table is copied as in up.sql, the attachments kept aside meanwhile.
CREATE TABLE outbox_attachments_kept AS SELECT * FROM outbox_attachments;
DROP TABLE outbox_attachments;

CREATE TABLE outbox_messages_text (
    id              TEXT PRIMARY KEY,
    channel         TEXT NOT NULL CHECK (channel IN ('sms', 'email')),
    recipient       TEXT NOT NULL,
    subject         TEXT NOT NULL,
    body            TEXT NOT NULL,
    language        TEXT NOT NULL CHECK (language IN ('el', 'en')),
    status          TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'dead')),
    transport       TEXT,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    locked_until    TIMESTAMP,
    last_error      TEXT,
    created_at      TIMESTAMP NOT NULL,
    sent_at         TIMESTAMP
);
INSERT INTO outbox_messages_text
SELECT id, channel, recipient, '', '', language,
       CASE WHEN status IN ('pending', 'expired') THEN 'dead' ELSE status END,
       transport, attempts, next_attempt_at, NULL,
       CASE WHEN status IN ('pending', 'expired')
           THEN COALESCE(last_error, 'sealed text dropped by a downgrade; not sent')
           ELSE last_error END,
       created_at, sent_at
FROM outbox_messages;
DROP TABLE outbox_messages;
ALTER TABLE outbox_messages_text RENAME TO outbox_messages;
CREATE INDEX outbox_messages_due ON outbox_messages (status, next_attempt_at);

CREATE TABLE outbox_attachments (
    message_id   TEXT NOT NULL REFERENCES outbox_messages (id) ON DELETE CASCADE,
    position     INTEGER NOT NULL,
    filename     TEXT NOT NULL,
    content_type TEXT NOT NULL,
    content      BLOB NOT NULL,
    PRIMARY KEY (message_id, position)
);
INSERT INTO outbox_attachments SELECT * FROM outbox_attachments_kept;
DROP TABLE outbox_attachments_kept;
