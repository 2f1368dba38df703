-- Up Migration

-- commit_jobs tells the other instances of its jobs only when given a notice: a null one says that the committing
-- instance takes the jobs itself, or that no instance could take them now (`Outbox.othersMayTake`). A NOTIFY takes a
-- lock that queues the commits of every notifying transaction on the server one behind another, through each one's
-- flush to disk, and wakes every listening instance: a fleet whose every push notified spent about twice the
-- PostgreSQL CPU per push (bench/README.md). What it enqueues is unchanged.
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
  IF notice IS NOT NULL THEN
    PERFORM pg_notify(channel, notice);
  END IF;
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
