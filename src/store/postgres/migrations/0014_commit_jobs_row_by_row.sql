-- Up Migration

-- commit_jobs enqueues its jobs one row at a time, each statement a lookup by key, so that a plan made once serves
-- every call. Its set-based insert (an anti-join of the new jobs with the table, a window for the lane's head) had a
-- plan only as good as the statistics it was made from: migration 0012 had it planned again on every call, which cost
-- 0.54 ms of the server's time per push, most of a push's share of a group commit (3.4 ms for five pushes, measured
-- with track_functions in bench/README.md), and the group commits of one instance run one after the other. A lookup
-- by primary key or by an index's leading column is planned the same for any statistics, so the plan is kept.
-- What it enqueues is unchanged: a job whose id is already stored is skipped, and a job is its lane's head when no
-- job of that lane is stored before it, counting those this call enqueued (the lane's lock is held meanwhile).
CREATE OR REPLACE FUNCTION commit_jobs(
  event_id text, seen_at bigint, lock_prefix text, lanes text[],
  ids text[], kinds text[], job_lanes text[], chat_ids text[], payloads json[], run_ats bigint[], created_ats bigint[],
  channel text, notice text
)
RETURNS integer
LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $$
DECLARE
  remembered integer;
  inserted integer;
  enqueued integer := 0;
BEGIN
  IF event_id IS NOT NULL THEN
    INSERT INTO events (id, seen_at) VALUES (event_id, seen_at) ON CONFLICT (id) DO NOTHING;
    GET DIAGNOSTICS remembered = ROW_COUNT;
    IF remembered = 0 THEN
      RETURN -1;
    END IF;
  END IF;
  -- In the order given (sorted by the caller), before any row lock: commits never wait on each other in a cycle.
  PERFORM pg_advisory_xact_lock(hashtextextended(lock_prefix || t.l, 0)) FROM unnest(lanes) WITH ORDINALITY AS t(l, ord) ORDER BY ord;
  IF cardinality(ids) = 0 THEN
    RETURN 0;
  END IF;
  FOR k IN 1 .. cardinality(ids) LOOP
    INSERT INTO jobs (id, kind, lane, chat_id, payload, run_at, created_at, is_head)
    VALUES (ids[k], kinds[k], job_lanes[k], chat_ids[k], payloads[k], run_ats[k], created_ats[k],
            NOT EXISTS (SELECT 1 FROM jobs l WHERE l.lane = job_lanes[k]))
    ON CONFLICT (id) DO NOTHING;
    GET DIAGNOSTICS inserted = ROW_COUNT;
    enqueued := enqueued + inserted;
  END LOOP;
  PERFORM pg_notify(channel, notice);
  RETURN enqueued;
END;
$$;

-- Down Migration

CREATE OR REPLACE FUNCTION commit_jobs(
  event_id text, seen_at bigint, lock_prefix text, lanes text[],
  ids text[], kinds text[], job_lanes text[], chat_ids text[], payloads json[], run_ats bigint[], created_ats bigint[],
  channel text, notice text
)
RETURNS integer
LANGUAGE plpgsql
SET search_path FROM CURRENT
SET plan_cache_mode = force_custom_plan
AS $$
DECLARE
  remembered integer;
  enqueued integer;
BEGIN
  IF event_id IS NOT NULL THEN
    INSERT INTO events (id, seen_at) VALUES (event_id, seen_at) ON CONFLICT (id) DO NOTHING;
    GET DIAGNOSTICS remembered = ROW_COUNT;
    IF remembered = 0 THEN
      RETURN -1;
    END IF;
  END IF;
  PERFORM pg_advisory_xact_lock(hashtextextended(lock_prefix || l, 0)) FROM unnest(lanes) WITH ORDINALITY AS t(l, ord) ORDER BY ord;
  IF cardinality(ids) = 0 THEN
    RETURN 0;
  END IF;
  WITH inserted AS (
    INSERT INTO jobs (id, kind, lane, chat_id, payload, run_at, created_at, is_head)
    SELECT n.id, n.kind, n.lane, n.chat_id, n.payload, n.run_at, n.created_at,
           row_number() OVER (PARTITION BY n.lane ORDER BY n.ord) = 1 AND NOT EXISTS (SELECT 1 FROM jobs l WHERE l.lane = n.lane)
    FROM unnest(ids, kinds, job_lanes, chat_ids, payloads, run_ats, created_ats)
         WITH ORDINALITY AS n(id, kind, lane, chat_id, payload, run_at, created_at, ord)
    WHERE NOT EXISTS (SELECT 1 FROM jobs d WHERE d.id = n.id)
    ORDER BY n.ord
    ON CONFLICT (id) DO NOTHING
    RETURNING id
  )
  SELECT count(*) INTO enqueued FROM inserted;
  PERFORM pg_notify(channel, notice);
  RETURN enqueued;
END;
$$;
