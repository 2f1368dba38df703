-- Up Migration

-- claim_jobs planned on every call, as commit_jobs is (0012). A generic plan made while the jobs table was new leases
-- the picked jobs (`id = ANY (ARRAY(SELECT id FROM picked))`, a list no plan can know) by reading the whole table, the
-- cheaper way on a new table; kept by a long-lived connection, every claim read every waiting job however many came
-- to wait. Planned per call, it probes the primary key once the table has grown.
ALTER FUNCTION claim_jobs(text, bigint, integer, text, integer, text, integer)
  SET plan_cache_mode = force_custom_plan;

-- Down Migration

ALTER FUNCTION claim_jobs(text, bigint, integer, text, integer, text, integer)
  RESET plan_cache_mode;
