INSERT INTO call_rollups (hour, store_id, calls, answered, missed, voicemail, ring_n, ring_ms,
  ring_max_ms, talk_n, talk_ms, withheld)
SELECT d.hour, coalesce(k.store_id, 0), count(*),
  sum(k.connected_at IS NOT NULL OR k.phase IN ('connected', 'hold', 'ended')),
  sum(k.phase = 'missed'),
  sum(k.phase = 'voicemail'),
  count(k.connected_at),
  coalesce(sum(max(k.connected_at - k.started_at, 0)), 0),
  coalesce(max(max(k.connected_at - k.started_at, 0)), 0),
  count(CASE WHEN k.phase = 'ended' THEN k.duration_ms END),
  coalesce(sum(CASE WHEN k.phase = 'ended' THEN k.duration_ms END), 0),
  sum(k.caller = '')
FROM call_rollup_dirty d
JOIN calls k ON k.started_at >= d.hour * 3600000 AND k.started_at < d.hour * 3600000 + 3600000
WHERE k.direction = 'inbound' AND k.is_test = 0
GROUP BY d.hour, coalesce(k.store_id, 0)
