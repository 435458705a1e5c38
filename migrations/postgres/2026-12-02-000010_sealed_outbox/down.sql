-- Sealed texts cannot be turned back into text here: waiting messages are
-- given up, expired ones count as dead, and the texts are left empty.
UPDATE outbox_messages
SET status = 'dead', locked_until = NULL,
    last_error = COALESCE(last_error, 'sealed text dropped by a downgrade; not sent')
WHERE status IN ('pending', 'expired');

ALTER TABLE outbox_messages
    DROP CONSTRAINT outbox_messages_status_check,
    ADD CONSTRAINT outbox_messages_status_check
        CHECK (status IN ('pending', 'sent', 'dead')),
    DROP COLUMN expires_at,
    ALTER COLUMN subject TYPE TEXT USING '',
    ALTER COLUMN subject SET NOT NULL,
    ALTER COLUMN body TYPE TEXT USING '',
    ALTER COLUMN body SET NOT NULL;
