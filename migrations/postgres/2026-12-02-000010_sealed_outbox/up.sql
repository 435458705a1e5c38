-- Outbox texts sealed at rest (AES-256-GCM under secrets.encryption_keys),
-- so that a one-time code, or anything else a message says, is not kept in
-- clear: `subject` and `body` hold sealed bytes while the message waits,
-- and NULL once it is sent, dead or expired. The database has no key to
-- seal what is already queued, so messages still pending at this upgrade
-- are given up (`dead`, with the reason in `last_error`) rather than kept
-- in clear; texts of finished messages are dropped.
-- `expires_at`: a message not delivered by then is never sent late but
-- ends `expired` (a one-time code is useless after its lifetime).
UPDATE outbox_messages
SET status = 'dead', locked_until = NULL,
    last_error = 'queued before outbox texts were sealed; not sent'
WHERE status = 'pending';

ALTER TABLE outbox_messages
    ALTER COLUMN subject DROP NOT NULL,
    ALTER COLUMN subject TYPE BYTEA USING NULL,
    ALTER COLUMN body DROP NOT NULL,
    ALTER COLUMN body TYPE BYTEA USING NULL,
    ADD COLUMN expires_at TIMESTAMP,
    DROP CONSTRAINT outbox_messages_status_check,
    ADD CONSTRAINT outbox_messages_status_check
        CHECK (status IN ('pending', 'sent', 'dead', 'expired'));
