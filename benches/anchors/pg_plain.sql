-- The anchor of issue #16's batched-ingest target: plain inserts into an append-only table,
-- no hash chain, no proofs and no redaction on PostgreSQL's side.
CREATE TABLE audit_plain (
    id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ts      timestamptz NOT NULL DEFAULT now(),
    payload jsonb NOT NULL
);
