-- ID photos (R-PH-*): studios, the submissions they upload, the sealed
-- files, and the per-AFM counters that hold the rules under concurrency.
-- A studio's owner and employees are role grants scoped to the studio
-- (photographer, studio_employee), so one extractor serves every role.

CREATE TABLE studios (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    -- The studio's business AFM: one registration per business.
    business_afm TEXT NOT NULL UNIQUE,
    owner_afm    TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL
);

-- One upload: a face photo and a signature, and its kodikarithmos.
-- The code is kept as a keyed hash, to find the row, and sealed under the
-- photo master key, to show it again in the QR code and the archive
-- (R-PH-14); never in clear. Contacts are kept only masked, for the
-- studio's list: the messages that carried the code were queued sealed.
CREATE TABLE photo_submissions (
    id          TEXT PRIMARY KEY,
    studio_id   TEXT NOT NULL REFERENCES studios (id),
    uploaded_by TEXT NOT NULL,
    code_hash   TEXT NOT NULL UNIQUE,
    code_sealed BLOB NOT NULL,
    mobile_hint TEXT,
    email_hint  TEXT,
    created_at  TIMESTAMP NOT NULL,
    -- The AFM that first linked the code: only it may relink (R-PH-10).
    bound_afm   TEXT,
    -- The AFM it is linked to now; unique, so one linked pair per AFM
    -- holds by construction (R-PH-06).
    linked_afm  TEXT UNIQUE,
    linked_at   TIMESTAMP,
    -- Set when the files are deleted; the row stays for the studio's list.
    deleted_at  TIMESTAMP,
    CHECK (linked_afm IS NULL OR linked_afm = bound_afm),
    CHECK (linked_afm IS NULL OR deleted_at IS NULL)
);
CREATE INDEX photo_submissions_studio_idx ON photo_submissions (studio_id, id);

-- The two images of a submission, each sealed under its own data key; the
-- data key is stored wrapped by the master key named in master_key_id, so
-- that rotation finds what it must rewrap.
CREATE TABLE photo_files (
    submission_id TEXT NOT NULL REFERENCES photo_submissions (id) ON DELETE CASCADE,
    kind          TEXT NOT NULL CHECK (kind IN ('face', 'signature')),
    content_type  TEXT NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png')),
    object_key    TEXT NOT NULL UNIQUE,
    wrapped_key   BLOB NOT NULL,
    master_key_id TEXT NOT NULL,
    size_bytes    BIGINT NOT NULL,
    sha256        TEXT NOT NULL,
    PRIMARY KEY (submission_id, kind)
);
CREATE INDEX photo_files_master_key_idx ON photo_files (master_key_id);

-- R-PH-07: link and unlink operations of an AFM on one Athens day, taken by
-- one conditional statement whose row count answers.
CREATE TABLE photo_link_counts (
    afm   TEXT NOT NULL,
    -- YYYY-MM-DD in Europe/Athens.
    day   TEXT NOT NULL,
    taken INTEGER NOT NULL,
    PRIMARY KEY (afm, day)
);

-- Tries of a kodikarithmos per AFM, throttled in the database so that the
-- limit holds across instances and restarts. A try is taken before the
-- code is looked up and given back when the code was right.
CREATE TABLE photo_code_attempts (
    afm          TEXT PRIMARY KEY,
    window_start TIMESTAMP NOT NULL,
    attempts     INTEGER NOT NULL
);
