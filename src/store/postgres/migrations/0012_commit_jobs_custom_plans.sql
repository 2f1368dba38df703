-- Up Migration

-- commit_jobs plans its statements for the arrays it is given, on every call. PL/pgSQL keeps a session's plans, and
-- after five calls may settle on one generic plan made from the statistics of that moment: made while the jobs table
-- was new (estimated at 260 rows), the duplicate check became a hash of the whole table, read again by every commit
-- of that session however many jobs it later held (a sequential scan of 6,338 rows per push in the bench, where jobs
-- are held; a long-lived connection never re-plans). Planned per call, the check probes the primary key: the bench's
-- flat-out pushes went from 510-900 to 1,200-1,450 a second as held jobs accumulated (bench/README.md).
ALTER FUNCTION commit_jobs(text, bigint, text, text[], text[], text[], text[], text[], json[], bigint[], bigint[], text, text)
  SET plan_cache_mode = force_custom_plan;

-- Down Migration

ALTER FUNCTION commit_jobs(text, bigint, text, text[], text[], text[], text[], text[], json[], bigint[], bigint[], text, text)
  RESET plan_cache_mode;
