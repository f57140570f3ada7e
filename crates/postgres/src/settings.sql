-- glasslog on PostgreSQL, migration 5: small named records every front-end reads (the token
-- store), written only by the lease holder (fenced like a commit) and durably.
CREATE TABLE glasslog_settings (
    name  text  PRIMARY KEY,
    value bytea NOT NULL
);
