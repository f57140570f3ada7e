-- glasslog on PostgreSQL, migration 4: the published head, for the checkpoint's
-- compare-and-swap (Store::swap_head). One row; size -1 until the first checkpoint is
-- published this way. A new checkpoint is recorded only by the UPDATE that finds the row
-- still holding the head its writer replaces, and the row lock makes that one step.
CREATE TABLE glasslog_head (
    id   integer PRIMARY KEY CHECK (id = 1),
    size bigint  NOT NULL,
    root bytea   NOT NULL
);
INSERT INTO glasslog_head (id, size, root) VALUES (1, -1, '\x');
