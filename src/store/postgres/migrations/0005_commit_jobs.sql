-- Up Migration

-- A commit's event, lane locks and jobs in one statement: a push (an event id and the job it causes) is then one round
-- trip instead of four (BEGIN, the event with the lanes' locks, the jobs with their notice, COMMIT), and a lone
-- statement runs as its own transaction. Returns the jobs enqueued, or -1 when the event was seen before (nothing is
-- written). Commits that also write records call it inside their transaction, before the records, so every commit
-- takes its lanes' locks before any row lock.
CREATE FUNCTION commit_jobs(
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
  enqueued integer;
BEGIN
  IF event_id IS NOT NULL THEN
    INSERT INTO events (id, seen_at) VALUES (event_id, seen_at) ON CONFLICT (id) DO NOTHING;
    GET DIAGNOSTICS remembered = ROW_COUNT;
    IF remembered = 0 THEN
      RETURN -1;
    END IF;
  END IF;
  -- In the order given (sorted by the caller), before any row lock: commits never wait on each other in a cycle.
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

-- Down Migration

DROP FUNCTION commit_jobs(text, bigint, text, text[], text[], text[], text[], text[], json[], bigint[], bigint[], text, text);
