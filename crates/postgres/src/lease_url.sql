-- glasslog on PostgreSQL, migration 6: where the sequencing front-end is reached. A front-end
-- that takes the lease writes the URL it advertises; standbys forward requests there.
ALTER TABLE glasslog_lease ADD COLUMN url text NOT NULL DEFAULT '';
