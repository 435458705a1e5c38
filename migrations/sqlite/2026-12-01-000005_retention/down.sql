DROP INDEX reservations_to_anonymize;
