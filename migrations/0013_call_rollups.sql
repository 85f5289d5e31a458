-- 着信分析 (issue 27): per-store, per-hour rollups of the call log, so a report over a year
-- reads at most stores × hours small rows instead of every call.
--
-- A rollup row is recomputed from the call log for the hours an outbox batch touched, in the
-- same D1 batch (one transaction) as the calls it copies (`pipeline::rollup`): recomputing is
-- idempotent, so a batch the hub runs twice (an answer lost after D1 committed) changes
-- nothing, where adding +1 would count twice. `npm run reports:rebuild` recomputes every hour
-- from the call log (after this migration, an import, a restore).
--
-- What is rolled up: inbound, non-test calls by the hour their first leg started (epoch hour =
-- started_at / 3600000; Japan time has no DST, so a JST day or business day is whole hours).
-- Figures that depend on customers (known callers, names) are not rolled up: a registration
-- or a merge relinks old calls without going through the outbox.
CREATE TABLE call_rollups (
  hour        INTEGER NOT NULL,           -- started_at / 3600000 (epoch hour, UTC)
  store_id    INTEGER NOT NULL,           -- 0: no store matched
  calls       INTEGER NOT NULL,
  answered    INTEGER NOT NULL,           -- connected at some point
  missed      INTEGER NOT NULL,           -- phase missed (不在着信)
  voicemail   INTEGER NOT NULL,           -- phase voicemail (留守電)
  ring_n      INTEGER NOT NULL,           -- answered calls with a ring time
  ring_ms     INTEGER NOT NULL,           -- sum of connected_at - started_at
  ring_max_ms INTEGER NOT NULL,
  talk_n      INTEGER NOT NULL,           -- ended calls with a duration
  talk_ms     INTEGER NOT NULL,
  withheld    INTEGER NOT NULL,           -- 非通知
  PRIMARY KEY (hour, store_id)
) WITHOUT ROWID;

-- The same per Japan-time day (midnight to midnight: day = (hour + 9) / 24), summed from the
-- hours: the totals and the daily line of a long period read these.
CREATE TABLE call_rollups_day (
  day         INTEGER NOT NULL,
  store_id    INTEGER NOT NULL,
  calls       INTEGER NOT NULL,
  answered    INTEGER NOT NULL,
  missed      INTEGER NOT NULL,
  voicemail   INTEGER NOT NULL,
  ring_n      INTEGER NOT NULL,
  ring_ms     INTEGER NOT NULL,
  ring_max_ms INTEGER NOT NULL,
  talk_n      INTEGER NOT NULL,
  talk_ms     INTEGER NOT NULL,
  withheld    INTEGER NOT NULL,
  PRIMARY KEY (day, store_id)
) WITHOUT ROWID;

-- The wrap-ups (用件 × 対応結果) of the calls that started in an hour, kept with them.
CREATE TABLE call_wrapup_rollups (
  hour     INTEGER NOT NULL,
  store_id INTEGER NOT NULL,
  category TEXT NOT NULL,
  outcome  TEXT NOT NULL,
  n        INTEGER NOT NULL,
  PRIMARY KEY (hour, store_id, category, outcome)
) WITHOUT ROWID;

-- Hours to recompute, filled and emptied inside one batch.
CREATE TABLE call_rollup_dirty (hour INTEGER PRIMARY KEY) WITHOUT ROWID;

-- The callers of a period (repeat callers, unknown numbers, known vs new) read this index
-- alone, from the period's first call to its last.
CREATE INDEX calls_report ON calls(started_at, store_id, caller, direction, is_test);

-- 折り返し of a period, by when the item was opened.
CREATE INDEX callbacks_created ON callbacks(created_at, store_id, status, updated_at, closed_by_call);

-- The weekly summary's webhook (設定): one row.
CREATE TABLE report_settings (
  id            INTEGER PRIMARY KEY CHECK (id = 1),
  webhook_url   TEXT,
  last_sent_week TEXT,
  updated_by    TEXT,
  updated_at    INTEGER NOT NULL
);

-- The calls already in the call log are rolled up by `npm run reports:rebuild [-- --remote]`
-- after the release is deployed, a month per statement: one statement over a large call log
-- here could outlast D1's limit on a single query.
