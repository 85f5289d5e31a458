INSERT INTO call_wrapup_rollups (hour, store_id, category, outcome, n)
SELECT d.hour, coalesce(k.store_id, 0), w.category, w.outcome, count(*)
FROM call_rollup_dirty d
JOIN calls k ON k.started_at >= d.hour * 3600000 AND k.started_at < d.hour * 3600000 + 3600000
JOIN call_wrapups w ON w.call_id = k.id
WHERE k.direction = 'inbound' AND k.is_test = 0
GROUP BY d.hour, coalesce(k.store_id, 0), w.category, w.outcome
