-- R-BK-05: when the reminder pass handled a reservation, whether it sent
-- the documents reminder or found none due (no documents, or booked too
-- late for one). Set by a conditional UPDATE, so that of several passes
-- (several instances) exactly one handles each reservation.
ALTER TABLE reservations ADD COLUMN reminder_handled_at TIMESTAMP;

-- What the pass looks for: confirmed reservations not handled yet, by start.
CREATE INDEX reservations_to_remind ON reservations (starts_at)
    WHERE reminder_handled_at IS NULL AND status = 'confirmed';
