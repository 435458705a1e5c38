-- The public service catalogue: municipalities, the departments that serve
-- citizens (R-BK-08: each booking belongs to exactly one), and the thematic
-- service categories a citizen books (R-BK-02), with the documents that
-- legal entities or every visitor must send beforehand (R-BK-04, R-BK-05).
-- Ids are UUIDv7 text; instants are UTC timestamps.

CREATE TABLE municipalities (
    id            TEXT PRIMARY KEY,
    name_el       TEXT NOT NULL,
    name_en       TEXT NOT NULL,
    contact_email TEXT NOT NULL,
    time_zone     TEXT NOT NULL DEFAULT 'Europe/Athens',
    created_at    TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX municipalities_name_el_key ON municipalities (name_el);

CREATE TABLE departments (
    id              TEXT PRIMARY KEY,
    municipality_id TEXT NOT NULL REFERENCES municipalities (id),
    name_el         TEXT NOT NULL,
    name_en         TEXT NOT NULL,
    email           TEXT NOT NULL,
    created_at      TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX departments_municipality_name_key ON departments (municipality_id, name_el);

CREATE TABLE service_categories (
    id                    TEXT PRIMARY KEY,
    department_id         TEXT NOT NULL REFERENCES departments (id),
    name_el               TEXT NOT NULL,
    name_en               TEXT NOT NULL,
    description_el        TEXT NOT NULL DEFAULT '',
    description_en        TEXT NOT NULL DEFAULT '',
    duration_minutes      INTEGER NOT NULL CHECK (duration_minutes BETWEEN 5 AND 480),
    serves_legal_entities BOOLEAN NOT NULL,
    created_at            TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX service_categories_department_name_key ON service_categories (department_id, name_el);

CREATE TABLE service_documents (
    id         TEXT PRIMARY KEY,
    service_id TEXT NOT NULL REFERENCES service_categories (id) ON DELETE CASCADE,
    purpose    TEXT NOT NULL CHECK (purpose IN ('legal_entity', 'before_visit')),
    position   INTEGER NOT NULL,
    name_el    TEXT NOT NULL,
    name_en    TEXT NOT NULL,
    UNIQUE (service_id, purpose, position)
);
