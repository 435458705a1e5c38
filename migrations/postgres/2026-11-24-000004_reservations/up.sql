-- Appointments (R-BK-02 .. R-BK-10): schedules, materialized slots,
-- reservations, idempotency records and the audit trail.

-- One schedule per service. Weekly opening hours and the dates that
-- differ are JSON text, read and validated by the service as a whole.
CREATE TABLE service_schedules (
    service_id         TEXT PRIMARY KEY REFERENCES service_categories (id) ON DELETE CASCADE,
    weekly_hours       TEXT NOT NULL,
    seats_per_slot     INTEGER NOT NULL CHECK (seats_per_slot BETWEEN 1 AND 100),
    min_notice_minutes INTEGER NOT NULL CHECK (min_notice_minutes >= 0),
    max_advance_days   INTEGER NOT NULL CHECK (max_advance_days >= 1),
    closed_dates       TEXT NOT NULL,
    open_dates         TEXT NOT NULL,
    updated_at         TIMESTAMP NOT NULL
);

-- A bookable time. `booked` never exceeds `capacity`: the CHECK backs the
-- conditional UPDATE that takes a seat.
CREATE TABLE slots (
    id           TEXT PRIMARY KEY,
    service_id   TEXT NOT NULL REFERENCES service_categories (id),
    starts_at    TIMESTAMP NOT NULL,
    ends_at      TIMESTAMP NOT NULL,
    capacity     INTEGER NOT NULL CHECK (capacity >= 1),
    booked       INTEGER NOT NULL DEFAULT 0,
    withdrawn_at TIMESTAMP,
    created_at   TIMESTAMP NOT NULL,
    CHECK (booked >= 0 AND booked <= capacity),
    CHECK (ends_at > starts_at),
    UNIQUE (service_id, starts_at)
);

CREATE TABLE reservations (
    id                   TEXT PRIMARY KEY,
    slot_id              TEXT NOT NULL REFERENCES slots (id),
    service_id           TEXT NOT NULL REFERENCES service_categories (id),
    department_id        TEXT NOT NULL REFERENCES departments (id),
    municipality_id      TEXT NOT NULL REFERENCES municipalities (id),
    -- The slot's start, copied so that lists, statistics and retention
    -- need no join; a reschedule updates both.
    starts_at            TIMESTAMP NOT NULL,
    ends_at              TIMESTAMP NOT NULL,
    status               TEXT NOT NULL CHECK (status IN ('confirmed', 'checked_in', 'completed', 'cancelled', 'no_show')),
    -- Personal data (R-BK-03, R-BK-04); NULL once anonymized (R-BK-07).
    citizen_afm          TEXT,
    full_name            TEXT,
    email                TEXT,
    phone                TEXT,
    special_requirements TEXT,
    legal_entity_name    TEXT,
    legal_entity_afm     TEXT,
    -- "<afm>:<service>" while this is the citizen's upcoming booking for the
    -- service, NULL otherwise: the UNIQUE makes "one upcoming reservation per
    -- citizen per service" hold under any concurrency.
    upcoming_key         TEXT UNIQUE,
    identity_document    TEXT,
    cancel_reason        TEXT,
    checked_in_at        TIMESTAMP,
    closed_at            TIMESTAMP,
    anonymized_at        TIMESTAMP,
    created_at           TIMESTAMP NOT NULL,
    updated_at           TIMESTAMP NOT NULL
);
CREATE INDEX reservations_citizen_idx ON reservations (citizen_afm, created_at);
CREATE INDEX reservations_department_idx ON reservations (department_id, starts_at);
CREATE INDEX reservations_slot_idx ON reservations (slot_id);

-- The first answer to a create request, replayed for the same key.
CREATE TABLE idempotency_records (
    caller       TEXT NOT NULL,
    key          TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status       INTEGER NOT NULL,
    body         TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (caller, key)
);

-- Append-only: who did what to which personal data, when (R-BK-10).
CREATE TABLE audit_events (
    id           TEXT PRIMARY KEY,
    at           TIMESTAMP NOT NULL,
    actor_afm    TEXT NOT NULL,
    actor_role   TEXT NOT NULL,
    action       TEXT NOT NULL,
    subject_type TEXT NOT NULL,
    subject_id   TEXT NOT NULL,
    scope_id     TEXT NOT NULL
);
CREATE INDEX audit_events_subject_idx ON audit_events (subject_type, subject_id);
