-- glasslog on PostgreSQL, migration 2: the sequencer lease. One row: the front-end named
-- `holder` sequences until `expires_at`, under fencing token `token`, which grows by one at
-- every takeover. Every commit locks the row and checks the token (crates/postgres/src/lib.rs),
-- so a front-end that lost the lease (paused, partitioned) can never write again under it.
CREATE TABLE glasslog_lease (
    id         integer     PRIMARY KEY CHECK (id = 1),
    holder     text        NOT NULL,
    token      bigint      NOT NULL,
    expires_at timestamptz NOT NULL
);
INSERT INTO glasslog_lease (id, holder, token, expires_at) VALUES (1, '', 0, 'epoch');
