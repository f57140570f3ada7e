-- The write-path anchor: an append-only, hash-chained audit table, as many teams keep audit
-- logs today. Each row's hash covers the previous row's hash and its own payload; a lock
-- serializes the chain, and the id is drawn under it so that id order is chain order.
CREATE TABLE audit_log (
    id        bigint PRIMARY KEY,
    ts        timestamptz NOT NULL DEFAULT now(),
    payload   jsonb NOT NULL,
    prev_hash bytea NOT NULL,
    hash      bytea NOT NULL
);
CREATE SEQUENCE audit_log_id;
CREATE FUNCTION audit_chain() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE last bytea;
BEGIN
    PERFORM pg_advisory_xact_lock(6962);
    NEW.id := nextval('audit_log_id');
    SELECT hash INTO last FROM audit_log ORDER BY id DESC LIMIT 1;
    NEW.prev_hash := coalesce(last, '\x'::bytea);
    NEW.hash := sha256(NEW.prev_hash || convert_to(NEW.payload::text, 'UTF8'));
    RETURN NEW;
END $$;
CREATE TRIGGER audit_chain BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_chain();
-- Append-only: no updates, deletes or truncation for anyone but the owner.
CREATE ROLE auditwriter;
GRANT INSERT, SELECT ON audit_log TO auditwriter;
GRANT USAGE ON SEQUENCE audit_log_id TO auditwriter;
REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM PUBLIC;
