-- PostgreSQL version of ../0002_ledger.sql.
-- Ledger: every write appends an entry in the same transaction (xiezhi-ledger builds the
-- Merkle tree, signs checkpoints and verifies). Rows carry a version bumped on each write.
ALTER TABLE std_organization ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE std_person ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE std_case ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE std_case_person ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE std_event ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE std_evidence ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE std_document ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE std_sentence ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE std_execution ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE std_petition ADD COLUMN version BIGINT NOT NULL DEFAULT 0;

CREATE TABLE ledger_entry (
    seq BIGINT PRIMARY KEY,
    kind TEXT NOT NULL,
    entity TEXT,
    uid TEXT,
    body TEXT NOT NULL,
    body_sha256 TEXT NOT NULL
);

CREATE TABLE ledger_checkpoint (
    size BIGINT PRIMARY KEY,
    note TEXT NOT NULL,
    created_at TEXT NOT NULL
);

-- The compact Merkle state (size and subtree roots) at the last checkpoint, so a new
-- checkpoint hashes only the entries appended since.
CREATE TABLE ledger_state (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    size BIGINT NOT NULL,
    peaks BYTEA NOT NULL
);
