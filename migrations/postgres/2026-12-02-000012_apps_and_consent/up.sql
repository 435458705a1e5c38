-- Third-party applications (ministry systems) and their OAuth clients, the
-- access tokens revoked before their end, the citizens' consents, and the
-- log of every photo fetch by an application (R-PH-15, R-PH-16, R-PH-18).

-- A registered application. Its purpose decides which images it may ever
-- be allowed (R-PH-18: the signature only for driving licences); scopes is
-- the space-separated list it was registered with.
CREATE TABLE apps (
    id           TEXT PRIMARY KEY,
    client_id    TEXT NOT NULL UNIQUE,
    name         TEXT NOT NULL,
    organization TEXT NOT NULL,
    purpose      TEXT NOT NULL CHECK (purpose IN ('driving_licences', 'identity_documents')),
    scopes       TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    disabled_at  TIMESTAMP
);

-- An application's client secrets, as Argon2id hashes (PHC strings). A
-- rotation adds a secret and gives the ones before it a retirement time
-- (the configured overlap); a secret past it no longer authenticates.
CREATE TABLE app_secrets (
    id          TEXT PRIMARY KEY,
    app_id      TEXT NOT NULL REFERENCES apps (id),
    secret_hash TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    retires_at  TIMESTAMP
);
CREATE INDEX app_secrets_app_idx ON app_secrets (app_id);

-- Access tokens revoked before they expire (RFC 7009), by their jti; a row
-- is useless once its token has expired and retention removes it.
CREATE TABLE revoked_tokens (
    jti        TEXT PRIMARY KEY,
    app_id     TEXT NOT NULL REFERENCES apps (id),
    expires_at TIMESTAMP NOT NULL
);

-- A citizen's authorization of an application (R-PH-15), given on one link
-- of their photos: it is active while it is not revoked AND that same link
-- (the submission, linked at that time) still stands. Unlinking therefore
-- ends every consent given on the link, and linking again does not bring
-- them back (R-PH-16), by construction rather than by a second statement.
-- Rows are kept once ended: they are the consent's history.
CREATE TABLE consents (
    id            TEXT PRIMARY KEY,
    app_id        TEXT NOT NULL REFERENCES apps (id),
    afm           TEXT NOT NULL,
    submission_id TEXT NOT NULL REFERENCES photo_submissions (id),
    linked_at     TIMESTAMP NOT NULL,
    granted_at    TIMESTAMP NOT NULL,
    revoked_at    TIMESTAMP
);
-- One unrevoked consent per application and link: two grants at once
-- leave one row.
CREATE UNIQUE INDEX consents_one_open_idx
    ON consents (app_id, afm, submission_id, linked_at) WHERE revoked_at IS NULL;
CREATE INDEX consents_afm_idx ON consents (afm, granted_at);

-- Every call of an application to a citizen's photo, allowed or refused:
-- the AFM when the path held a well-formed one.
CREATE TABLE photo_access_log (
    id       TEXT PRIMARY KEY,
    app_id   TEXT NOT NULL REFERENCES apps (id),
    afm      TEXT,
    kind     TEXT NOT NULL CHECK (kind IN ('face', 'signature')),
    outcome  TEXT NOT NULL,
    at       TIMESTAMP NOT NULL
);
CREATE INDEX photo_access_log_afm_idx ON photo_access_log (afm, id);
