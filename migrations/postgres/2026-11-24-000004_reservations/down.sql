DROP TABLE audit_events;
DROP TABLE idempotency_records;
DROP TABLE reservations;
DROP TABLE slots;
DROP TABLE service_schedules;
