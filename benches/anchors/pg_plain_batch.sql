-- 100 audit events of ~1 KiB per durable transaction, like loadgen's --mode batch --batch 100.
\set n random(1, 2000000000)
INSERT INTO audit_plain (payload) SELECT jsonb_build_object(
    'actor', 'svc-' || (:n + g), 'action', 'update', 'resource', 'db/' || g,
    'outcome', 'success', 'pad', repeat('x', 900)) FROM generate_series(1, 100) AS g;
