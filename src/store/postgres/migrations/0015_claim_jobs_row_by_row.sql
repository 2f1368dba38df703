-- Up Migration

-- claim_jobs leases its picked jobs one row at a time, each an update by primary key, so that a plan made once serves
-- every call, as commit_jobs does since 0014. Its one update of `id = ANY (ARRAY(SELECT id FROM picked))` had a plan
-- only as good as the statistics it was made from: migration 0013 had the function planned again on every call, so a
-- claim that found nothing cost 0.74 ms of the server's time in a loop, against 0.27 ms now (bench/README.md), and
-- every instance claims after each job it ends and within 25 ms of another instance's commit. What it leases is
-- unchanged: the same chats are walked and locked, the same jobs picked in the same order, each leased with a token
-- of its own.
CREATE OR REPLACE FUNCTION claim_jobs(from_chat text, now_ms bigint, per_chat integer, chat_key text, max_jobs integer, owner text, lease_ms integer)
RETURNS json
LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $$
DECLARE
  chats text[];
  picked text[];
  leased json[] := '{}';
  one json;
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
  )
  SELECT coalesce(array_agg(p.id ORDER BY p.turn, p.run_at, p.seq), '{}') INTO picked
  FROM (SELECT id, turn, run_at, seq FROM candidates ORDER BY turn, run_at, seq LIMIT max_jobs) p;

  FOR k IN 1 .. cardinality(picked) LOOP
    UPDATE jobs u
    SET lease_owner = owner, lease_token = gen_random_uuid(), lease_until = statement_timestamp() + lease_ms * interval '1 millisecond'
    WHERE u.id = picked[k]
    RETURNING json_build_object(
      'id', u.id, 'kind', u.kind, 'lane', u.lane, 'chat_id', u.chat_id, 'seq', u.seq, 'payload', u.payload,
      'steps', (SELECT json_object_agg(st.name, st.result) FROM job_steps st WHERE st.job_id = u.id),
      'attempts', u.attempts, 'run_at', u.run_at, 'created_at', u.created_at, 'last_error', u.last_error,
      'lease_owner', u.lease_owner, 'lease_token', u.lease_token, 'lease_until', (extract(epoch FROM u.lease_until) * 1000)::bigint
    ) INTO one;
    leased := leased || one;
  END LOOP;

  SELECT min(j.run_at) INTO next_run FROM jobs j WHERE j.is_head AND j.run_at > now_ms;
  RETURN json_build_object('chats', chats, 'jobs', array_to_json(leased), 'next', next_run);
END;
$$;
ALTER FUNCTION claim_jobs(text, bigint, integer, text, integer, text, integer) RESET plan_cache_mode;

-- Down Migration

CREATE OR REPLACE FUNCTION claim_jobs(from_chat text, now_ms bigint, per_chat integer, chat_key text, max_jobs integer, owner text, lease_ms integer)
RETURNS json
LANGUAGE plpgsql
SET search_path FROM CURRENT
SET plan_cache_mode = force_custom_plan
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
