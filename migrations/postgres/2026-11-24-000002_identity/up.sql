-- Identity: TAXISnet logins in flight, sessions, one-time codes, roles, and
-- the development contact registry. Secrets (state, session tokens, codes)
-- are stored only as hashes. R-BK-01: no TAXISnet account data is kept
-- beyond the session that shows it.

-- A login started at /v1/auth/login and not yet finished: single use, short-lived.
CREATE TABLE login_states (
    state_hash    TEXT PRIMARY KEY,
    pkce_verifier TEXT NOT NULL,
    return_to     TEXT,
    created_at    TIMESTAMP NOT NULL,
    expires_at    TIMESTAMP NOT NULL
);

CREATE TABLE sessions (
    id           TEXT PRIMARY KEY,
    token_hash   TEXT NOT NULL UNIQUE,
    afm          TEXT NOT NULL,
    first_name   TEXT NOT NULL,
    last_name    TEXT NOT NULL,
    father_name  TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    -- The absolute limit; the idle limit is last_seen_at + idle timeout.
    expires_at   TIMESTAMP NOT NULL,
    -- When the SMS one-time code was verified (R-PH-02); NULL until then.
    strong_at    TIMESTAMP
);
CREATE INDEX sessions_afm_idx ON sessions (afm);

-- At most one live code per session: a new request replaces the old one.
CREATE TABLE otp_codes (
    session_id      TEXT PRIMARY KEY REFERENCES sessions (id) ON DELETE CASCADE,
    code_hash       TEXT NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    expires_at      TIMESTAMP NOT NULL,
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    consumed_at     TIMESTAMP
);

-- Resend throttling per AFM, decided by one conditional UPDATE so that
-- parallel requests cannot both slip through.
CREATE TABLE otp_throttle (
    afm            TEXT PRIMARY KEY,
    window_start   TIMESTAMP NOT NULL,
    sent_in_window INTEGER NOT NULL,
    last_sent_at   TIMESTAMP NOT NULL
);

CREATE TABLE role_grants (
    id         TEXT PRIMARY KEY,
    afm        TEXT NOT NULL,
    role       TEXT NOT NULL CHECK (role IN ('platform_admin', 'municipality_admin', 'staff', 'photographer', 'studio_employee')),
    -- The municipality, department or studio the role is for; '' for platform-wide.
    scope_id   TEXT NOT NULL DEFAULT '',
    granted_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (afm, role, scope_id)
);

-- The development and demo stand-in for the National Registry of
-- Communication (ΕΜΕπ): the mobile each AFM has certified.
CREATE TABLE contact_registry (
    afm        TEXT PRIMARY KEY,
    mobile     TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
