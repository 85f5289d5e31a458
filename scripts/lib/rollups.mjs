// @ts-check
// The 着信分析 rollups (migration 0013) rebuilt from the call log: the statement the outbox
// runs for the hours it touched (src/db/rollup.sql), here for every hour of a span.
import { readFileSync } from 'node:fs';

const HOUR = 3600000;

/** Days ?1 to ?2 (Japan time) summed from their hours, as the outbox does (db::rollups). */
const DAYS = `INSERT INTO call_rollups_day (day, store_id, calls, answered, missed, voicemail, ring_n,
  ring_ms, ring_max_ms, talk_n, talk_ms, withheld)
  SELECT (hour + 9) / 24 AS day, store_id, sum(calls), sum(answered), sum(missed), sum(voicemail),
    sum(ring_n), sum(ring_ms), max(ring_max_ms), sum(talk_n), sum(talk_ms), sum(withheld)
  FROM call_rollups WHERE hour >= ?1 * 24 - 9 AND hour < ?2 * 24 - 9 GROUP BY day, store_id`;
const SPAN_HOURS = 24 * 31;

/**
 * A recompute (src/db/rollup.sql, rollup_wrapups.sql) over `calls` between hours ?1 and
 * ?2 instead of over the marked hours.
 */
export function rangeSql(file = 'rollup.sql') {
  const sql = readFileSync(new URL(`../../src/db/${file}`, import.meta.url), 'utf8');
  const marked = /FROM call_rollup_dirty d\s+JOIN calls k ON [^\n]+\n/;
  if (!marked.test(sql))
    throw new Error('src/db/rollup.sql changed shape: update scripts/lib/rollups.mjs');
  return sql
    .replace('INSERT INTO', 'INSERT OR REPLACE INTO')
    .replace(marked, 'FROM calls k\n')
    .replace(
      "WHERE k.direction = 'inbound'",
      "WHERE k.started_at >= ?1 * 3600000 AND k.started_at < ?2 * 3600000 AND k.direction = 'inbound'",
    )
    .replaceAll('d.hour', 'k.started_at / 3600000')
    .trim();
}

/**
 * Recomputes every hour from the first call in the log to the last, a month at a time (each
 * span: its rollups deleted, then written again from its calls). Hours before the log's first
 * call (calls deleted by retention) keep their figures. Safe while the Workers run: the
 * outbox recomputes the hours it touches from the same calls (OR REPLACE).
 * @param {any} db a D1 binding
 * @param {{ log?: (line: string) => void }} [opts]
 */
export async function rebuildRollups(db, { log = () => {} } = {}) {
  const span = await db
    .prepare('SELECT min(started_at) AS lo, max(started_at) AS hi, count(*) AS n FROM calls')
    .first();
  if (!span || span.lo === null) {
    log('calls: 0 (nothing to rebuild)');
    return { hours: 0, rows: 0 };
  }
  const first = Math.floor(span.lo / HOUR);
  const last = Math.floor(span.hi / HOUR) + 1;
  const [calls, wrapups] = [rangeSql('rollup.sql'), rangeSql('rollup_wrapups.sql')];
  for (let h = first; h < last; h += SPAN_HOURS) {
    const to = Math.min(h + SPAN_HOURS, last);
    await db.prepare('DELETE FROM call_rollups WHERE hour >= ?1 AND hour < ?2').bind(h, to).run();
    await db.prepare(calls).bind(h, to).run();
    await db
      .prepare('DELETE FROM call_wrapup_rollups WHERE hour >= ?1 AND hour < ?2')
      .bind(h, to)
      .run();
    await db.prepare(wrapups).bind(h, to).run();
    // The Japan-time days of the span, summed again from their hours (whole days: a day's
    // hours may straddle two spans, so both recompute it, the second one last).
    const [d0, d1] = [Math.floor((h + 9) / 24), Math.floor((to - 1 + 9) / 24) + 1];
    await db
      .prepare('DELETE FROM call_rollups_day WHERE day >= ?1 AND day < ?2')
      .bind(d0, d1)
      .run();
    await db.prepare(DAYS).bind(d0, d1).run();
    log(
      `${new Date(h * HOUR).toISOString().slice(0, 10)} … ${new Date(to * HOUR).toISOString().slice(0, 10)}`,
    );
  }
  const rows = await db.prepare('SELECT count(*) AS n FROM call_rollups').first();
  return { calls: span.n, hours: last - first, rows: rows.n };
}
