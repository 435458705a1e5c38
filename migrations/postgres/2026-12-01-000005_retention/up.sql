-- Reservations a retention pass will anonymize, oldest first, without
-- reading the ones it already did (R-BK-07).
CREATE INDEX reservations_to_anonymize ON reservations (starts_at) WHERE anonymized_at IS NULL;
