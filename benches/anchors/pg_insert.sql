-- One audit event per transaction (durable: synchronous_commit = on), ~1 KiB like loadgen's.
\set n random(1, 2000000000)
INSERT INTO audit_log (payload) VALUES (jsonb_build_object(
    'actor', 'svc-' || :n, 'action', 'update', 'resource', 'db/' || :n,
    'outcome', 'success', 'pad', repeat('x', 900)));
