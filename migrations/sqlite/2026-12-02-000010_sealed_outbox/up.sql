-- Outbox texts sealed at rest (AES-256-GCM under secrets.encryption_keys),
-- so that a one-time code, or anything else a message says, is not kept in
-- clear: `subject` and `body` hold sealed bytes while the message waits,
-- and NULL once it is sent, dead or expired. The database has no key to
-- seal what is already queued, so messages still pending at this upgrade
-- are given up (`dead`, with the reason in `last_error`) rather than kept
-- in clear; texts of finished messages are dropped.
-- `expires_at`: a message not delivered by then is never sent late but
-- ends `expired` (a one-time code is useless after its lifetime).
--
-- SQLite cannot change a column's type or a CHECK in place, so the table is
-- copied into a new one. Dropping a table deletes its rows first, and with
-- foreign keys on (as the pool sets them) that would cascade to the
-- attachments: they wait in a table without a foreign key meanwhile.
CREATE TABLE outbox_attachments_kept AS SELECT * FROM outbox_attachments;
DROP TABLE outbox_attachments;

CREATE TABLE outbox_messages_sealed (
    id              TEXT PRIMARY KEY,
    channel         TEXT NOT NULL CHECK (channel IN ('sms', 'email')),
    recipient       TEXT NOT NULL,
    subject         BLOB,
    body            BLOB,
    language        TEXT NOT NULL CHECK (language IN ('el', 'en')),
    status          TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'dead', 'expired')),
    transport       TEXT,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    locked_until    TIMESTAMP,
    last_error      TEXT,
    created_at      TIMESTAMP NOT NULL,
    sent_at         TIMESTAMP,
    expires_at      TIMESTAMP
);
INSERT INTO outbox_messages_sealed
    (id, channel, recipient, subject, body, language, status, transport,
     attempts, next_attempt_at, locked_until, last_error, created_at, sent_at)
SELECT id, channel, recipient, NULL, NULL, language,
       CASE status WHEN 'pending' THEN 'dead' ELSE status END, transport,
       attempts, next_attempt_at,
       CASE status WHEN 'pending' THEN NULL ELSE locked_until END,
       CASE status WHEN 'pending'
           THEN 'queued before outbox texts were sealed; not sent'
           ELSE last_error END,
       created_at, sent_at
FROM outbox_messages;
DROP TABLE outbox_messages;
ALTER TABLE outbox_messages_sealed RENAME TO outbox_messages;
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
