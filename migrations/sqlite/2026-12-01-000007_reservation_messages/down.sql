ALTER TABLE reservations DROP COLUMN revision;
ALTER TABLE reservations DROP COLUMN language;
