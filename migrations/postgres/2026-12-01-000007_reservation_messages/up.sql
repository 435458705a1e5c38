-- What messages sent after the booking need. `language`: the one the
-- citizen booked in (`el` or `en`, from Accept-Language), so that messages
-- sent without a request of theirs, such as a withdrawn slot's notice, are
-- in it too; reservations booked before this column existed were confirmed
-- in Greek, the default. `revision`: how often the appointment moved, the
-- SEQUENCE of its calendar file, so that a calendar replaces the entry the
-- earlier file made (RFC 5545 3.8.7.4).
ALTER TABLE reservations ADD COLUMN language TEXT NOT NULL DEFAULT 'el';
ALTER TABLE reservations ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
