-- glasslog's tables on PostgreSQL, migration 1: one table per index the RocksDB store keeps
-- (crates/log/src/rocks.rs), the same keys and values. Applied once, inside a transaction,
-- by crates/postgres/src/lib.rs; glasslog_schema records which migrations ran.

-- Entries by index: the sanitized event bytes, hashed into the leaf.
CREATE TABLE glasslog_entries (
    idx  bigint PRIMARY KEY CHECK (idx >= 0),
    data bytea  NOT NULL
);

-- Tile records (crates/log/src/tiles.rs): level and index, replaced as a tile fills.
CREATE TABLE glasslog_tiles (
    level  smallint NOT NULL CHECK (level >= 0),
    idx    bigint   NOT NULL CHECK (idx >= 0),
    record bytea    NOT NULL,
    PRIMARY KEY (level, idx)
);

-- Identity hash to index: deduplication of resubmitted entries (idempotency keys).
CREATE TABLE glasslog_identity (
    hash bytea  PRIMARY KEY CHECK (length(hash) = 32),
    idx  bigint NOT NULL
);

-- Leaf hash to index: inclusion proofs by hash.
CREATE TABLE glasslog_leaf (
    hash bytea  PRIMARY KEY CHECK (length(hash) = 32),
    idx  bigint NOT NULL
);

-- Tag and index: the entries of a break-glass session, the signing-key records.
CREATE TABLE glasslog_tags (
    tag text   NOT NULL,
    idx bigint NOT NULL,
    PRIMARY KEY (tag, idx)
);

-- Signed checkpoints by tree size.
CREATE TABLE glasslog_checkpoints (
    size bigint PRIMARY KEY CHECK (size >= 0),
    note bytea  NOT NULL
);

-- The tree size of the last commit.
CREATE TABLE glasslog_meta (
    k text   PRIMARY KEY,
    v bigint NOT NULL
);
