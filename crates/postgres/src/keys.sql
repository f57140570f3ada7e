-- Migration 3: the data keys of encryption at rest (crates/seal), as RocksDB's `keys` family.

-- Key records by id: a data key wrapped by the master key, or its tombstone once destroyed.
CREATE TABLE glasslog_keys (
    id     bytea PRIMARY KEY CHECK (length(id) = 16),
    record bytea NOT NULL
);

-- Each scope's current key, by the scope's pseudonym; erasure deletes the row.
CREATE TABLE glasslog_key_scopes (
    scope bytea PRIMARY KEY CHECK (length(scope) = 16),
    id    bytea NOT NULL CHECK (length(id) = 16)
);
