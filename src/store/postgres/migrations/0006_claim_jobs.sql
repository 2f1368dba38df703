-- Up Migration

-- A claim in one round trip instead of five (BEGIN, the chats' locks, the leases, the next run time, COMMIT), and a
-- finish in one instead of four: an instance claims after every commit it makes, so on a busy fleet these were most
-- of its statements. A function's statements run in its caller's transaction, each with a snapshot of its own (the
-- functions are VOLATILE), so a statement still sees what was committed before the locks taken by the one before it.

-- The chats that have heads are walked by a skip scan (one index probe per chat), starting after `from_chat` (where
-- this instance's last claim ended, so chats take turns); the transaction lock of each chat with a runnable head and
-- room under the cap is taken, skipping chats another claim holds, up to `max_jobs` chats. Then each locked chat's
-- live leases are counted afresh and its runnable heads leased, oldest first, up to the room left, each chat's first
-- job before any chat's second. No other claim can lease jobs of those chats until this one commits, so the cap holds
-- across instances; a chat whose room was used up meanwhile just yields nothing.
-- Returns {"chats": the chats locked, "jobs": the jobs leased with their steps, "next": the earliest run time of a
-- head not yet due, or null}.
CREATE FUNCTION claim_jobs(from_chat text, now_ms bigint, per_chat integer, chat_key text, max_jobs integer, owner text, lease_ms integer)
RETURNS json
LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $$
DECLARE
  chats text[];
  leased json;
  next_run bigint;
BEGIN
  WITH RECURSIVE later(chat_id) AS (
    (SELECT j.chat_id FROM jobs j WHERE j.is_head AND j.chat_id > from_chat ORDER BY j.chat_id LIMIT 1)
    UNION ALL
    SELECT (SELECT j.chat_id FROM jobs j WHERE j.is_head AND j.chat_id > c.chat_id ORDER BY j.chat_id LIMIT 1)
    FROM later c WHERE c.chat_id IS NOT NULL
  ), earlier(chat_id) AS (
    (SELECT j.chat_id FROM jobs j WHERE j.is_head AND j.chat_id <= from_chat ORDER BY j.chat_id LIMIT 1)
    UNION ALL
    SELECT (SELECT j.chat_id FROM jobs j WHERE j.is_head AND j.chat_id > c.chat_id AND j.chat_id <= from_chat ORDER BY j.chat_id LIMIT 1)
    FROM earlier c WHERE c.chat_id IS NOT NULL
  ), walked AS (
    SELECT chat_id FROM later WHERE chat_id IS NOT NULL
    UNION ALL
    SELECT chat_id FROM earlier WHERE chat_id IS NOT NULL
  ), locked AS (
    SELECT w.chat_id FROM walked w
    WHERE CASE
      WHEN (SELECT h.run_at FROM jobs h
            WHERE h.is_head AND h.chat_id = w.chat_id AND (h.lease_until IS NULL OR h.lease_until <= statement_timestamp())
            ORDER BY h.run_at, h.seq LIMIT 1) <= now_ms
       AND (SELECT count(*) FROM jobs l WHERE l.chat_id = w.chat_id AND l.lease_token IS NOT NULL AND l.lease_until > statement_timestamp()) < per_chat
      THEN pg_try_advisory_xact_lock(hashtextextended(chat_key || w.chat_id, 0))
      ELSE false END
    LIMIT max_jobs
  )
  SELECT coalesce(array_agg(chat_id), '{}') INTO chats FROM locked;

  WITH candidates AS (
    SELECT h.id, h.run_at, h.seq, row_number() OVER (PARTITION BY c.chat_id ORDER BY h.run_at, h.seq) AS turn
    FROM unnest(chats) AS c(chat_id)
    CROSS JOIN LATERAL (
      SELECT per_chat - count(*)::int AS room FROM jobs l
      WHERE l.chat_id = c.chat_id AND l.lease_token IS NOT NULL AND l.lease_until > statement_timestamp()
    ) r
    CROSS JOIN LATERAL (
      SELECT j.id, j.run_at, j.seq FROM jobs j
      WHERE j.is_head AND j.chat_id = c.chat_id AND j.run_at <= now_ms AND (j.lease_until IS NULL OR j.lease_until <= statement_timestamp())
      ORDER BY j.run_at, j.seq LIMIT greatest(r.room, 0)
      FOR UPDATE SKIP LOCKED
    ) h
    UNION ALL
    SELECT n.id, n.run_at, n.seq, row_number() OVER (ORDER BY n.run_at, n.seq) FROM (
      SELECT j.id, j.run_at, j.seq FROM jobs j
      WHERE j.is_head AND j.chat_id IS NULL AND j.run_at <= now_ms AND (j.lease_until IS NULL OR j.lease_until <= statement_timestamp())
      ORDER BY j.run_at, j.seq LIMIT max_jobs
      FOR UPDATE SKIP LOCKED
    ) n
  ), picked AS (SELECT id FROM candidates ORDER BY turn, run_at, seq LIMIT max_jobs),
  updated AS (
    UPDATE jobs j
    SET lease_owner = owner, lease_token = gen_random_uuid(), lease_until = statement_timestamp() + lease_ms * interval '1 millisecond'
    WHERE j.id = ANY (ARRAY(SELECT id FROM picked))
    RETURNING j.*
  )
  SELECT coalesce(json_agg(json_build_object(
    'id', u.id, 'kind', u.kind, 'lane', u.lane, 'chat_id', u.chat_id, 'seq', u.seq, 'payload', u.payload,
    'steps', (SELECT json_object_agg(st.name, st.result) FROM job_steps st WHERE st.job_id = u.id),
    'attempts', u.attempts, 'run_at', u.run_at, 'created_at', u.created_at, 'last_error', u.last_error,
    'lease_owner', u.lease_owner, 'lease_token', u.lease_token, 'lease_until', (extract(epoch FROM u.lease_until) * 1000)::bigint
  )), '[]') INTO leased FROM updated u;

  SELECT min(j.run_at) INTO next_run FROM jobs j WHERE j.is_head AND j.run_at > now_ms;
  RETURN json_build_object('chats', chats, 'jobs', leased, 'next', next_run);
END;
$$;

-- Removes the job `job_id` of lane `job_lane` if `token` still holds its live lease, makes the next job of the lane
-- its head, and tells the other instances; the lane's lock is taken first, in a statement of its own (as
-- `commit_jobs` takes it), so that the next head is read from what the lane's last enqueuer committed. Returns
-- whether the job was removed.
CREATE FUNCTION finish_job(job_id text, token uuid, job_lane text, lane_key text, channel text, notice text)
RETURNS boolean
LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(hashtextextended(lane_key || job_lane, 0));
  DELETE FROM jobs j WHERE j.id = job_id AND j.lease_token = token AND j.lease_until > statement_timestamp();
  IF NOT FOUND THEN
    RETURN false;
  END IF;
  UPDATE jobs SET is_head = true
  WHERE id = (SELECT n.id FROM jobs n WHERE n.lane = job_lane ORDER BY n.seq LIMIT 1);
  PERFORM pg_notify(channel, notice);
  RETURN true;
END;
$$;

-- Down Migration

DROP FUNCTION finish_job(text, uuid, text, text, text, text);
DROP FUNCTION claim_jobs(text, bigint, integer, text, integer, text, integer);
