-- Data keys of field encryption, each wrapped under the key-encryption key (see fieldcrypt.rs).
CREATE TABLE IF NOT EXISTS field_keys (
    tbl TEXT NOT NULL, col TEXT NOT NULL, purpose TEXT NOT NULL, version INTEGER NOT NULL,
    suite TEXT NOT NULL, kek_version INTEGER NOT NULL, wrapped BLOB NOT NULL,
    PRIMARY KEY (tbl, col, purpose, version));
