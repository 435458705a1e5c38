DROP INDEX reservations_to_remind;
ALTER TABLE reservations DROP COLUMN reminder_handled_at;
