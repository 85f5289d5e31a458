// @ts-check
// 着信分析 at a year of calls (issue 27): 20 stores and 500,000 calls over a year seeded
// straight into the local D1 of the built Workers (Miniflare / workerd), the rollups rebuilt
// from them, then POST /api/reports/calls timed for a month and for a year (admin: every store;
// staff: one store), and the page's render in Chromium. Not part of `npm test`:
//   npm run bench:reports [-- --calls=500000 --runs=7 --no-browser]
import { startWorker } from '../tests/helpers/worker.mjs';
import { upsertStore } from '../scripts/lib/seed.mjs';
import { rebuildRollups } from '../scripts/lib/rollups.mjs';

const arg = (name, d) => {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  return a ? Number(a.split('=')[1]) : d;
};
const CALLS = arg('calls', 500000);
const RUNS = arg('runs', 7);
const STORES = 20;
const CALLERS = 40000; // distinct numbers; the first 12,000 are registered customers
const DAY = 86400000;
const median = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

const w = await startWorker();
const t = (label, ms) => console.log(`${label.padEnd(44)} ${ms.toFixed(0).padStart(8)} ms`);
try {
  const db = w.rawDb;
  let t0 = performance.now();
  const storeIds = [];
  for (let s = 0; s < STORES; s++) {
    await upsertStore(db, `ベンチ店${String(s + 1).padStart(2, '0')}`, [
      `0602${String(s).padStart(2, '0')}`,
    ]);
    storeIds.push(
      (
        await db
          .prepare('SELECT id FROM stores WHERE name = ?1')
          .bind(`ベンチ店${String(s + 1).padStart(2, '0')}`)
          .first()
      ).id,
    );
  }
  // Customers: numbers 080-0000-0000 … , home store by number.
  await db
    .prepare(
      `WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < 11999)
     INSERT INTO customers (name, kana, home_store_id) SELECT 'ベンチ顧客' || i, '', ?1 + i % ${STORES} FROM s`,
    )
    .bind(storeIds[0])
    .run();
  await db
    .prepare(
      `INSERT INTO customer_phones (phone, customer_id)
     SELECT '080' || printf('%08d', CAST(substr(name, 6) AS INTEGER)), id FROM customers WHERE name LIKE 'ベンチ顧客%'`,
    )
    .run();
  // A year of calls ending today (Japan time), 09:00–21:00, store by caller mostly.
  const end = Math.floor((Date.now() + 9 * 3600e3) / DAY) * DAY - 9 * 3600e3;
  const start = end - 365 * DAY;
  const CHUNK = 50000;
  for (let off = 0; off < CALLS; off += CHUNK) {
    const n = Math.min(CHUNK, CALLS - off);
    await db
      .prepare(
        `WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < ?2 - 1),
       r AS (SELECT i, abs(random()) AS a, abs(random()) AS b, abs(random()) AS c FROM s),
       v AS (SELECT i, a % ${CALLERS} AS who, ?3 + (b % 365) * 86400000 + 9 * 3600000 + (c % (12 * 3600000)) AS t,
                    (a / 7) % 100 AS p, b % 30000 AS ring, c % 600000 AS talk FROM r)
       INSERT INTO calls (id, direction, caller, dialled, store_id, customer_id, state, phase, rank, is_test,
                          started_at, connected_at, ended_at, duration_ms, updated_at)
       SELECT 'bench-' || (?1 + i), CASE WHEN p < 3 THEN 'outbound' ELSE 'inbound' END,
              CASE WHEN p = 99 THEN '' ELSE '080' || printf('%08d', who) END, '0602000000',
              ?4 + (CASE WHEN p % 10 = 0 THEN (who + i) ELSE who END) % ${STORES}, NULL,
              CASE WHEN p < 80 THEN 'hangup' WHEN p < 92 THEN 'missed' WHEN p < 97 THEN 'voicemail' ELSE 'hangup' END,
              CASE WHEN p < 80 THEN 'ended' WHEN p < 92 THEN 'missed' WHEN p < 97 THEN 'voicemail' ELSE 'ended' END,
              3, 0, t, CASE WHEN p < 80 OR p >= 97 THEN t + 2000 + ring END, t + 2000 + ring + talk,
              CASE WHEN p < 80 OR p >= 97 THEN talk END, t + 2000 + ring + talk
       FROM v`,
      )
      .bind(off, n, start, storeIds[0])
      .run();
  }
  await db
    .prepare(
      `INSERT INTO call_wrapups (call_id, category, outcome, note, updated_at)
     SELECT id, CASE abs(random()) % 5 WHEN 0 THEN '予約' WHEN 1 THEN '問い合わせ' WHEN 2 THEN '注文' WHEN 3 THEN '変更・キャンセル' ELSE 'その他' END,
            CASE abs(random()) % 4 WHEN 0 THEN '対応済み' WHEN 1 THEN '折り返し予定' WHEN 2 THEN '担当者へ引継ぎ' ELSE '対応不要' END, '', started_at
     FROM calls WHERE id LIKE 'bench-%' AND abs(random()) % 5 = 0`,
    )
    .run();
  // 折り返し: one item per missed call, nearly all closed within a day; the last week's open.
  await db
    .prepare(
      `INSERT OR IGNORE INTO callbacks (store_id, phone, status, note, closed_by_call, created_at, updated_at)
     SELECT store_id, caller, CASE WHEN started_at > ?1 AND abs(random()) % 3 = 0 THEN 'open' ELSE 'done' END, '',
            CASE WHEN abs(random()) % 4 = 0 THEN id END, started_at + 5000, started_at + 60000 + abs(random()) % 86400000
     FROM calls WHERE id LIKE 'bench-%' AND phase IN ('missed', 'voicemail') AND caller != ''`,
    )
    .bind(end - 7 * DAY)
    .run();
  const counts = await db
    .prepare(
      'SELECT (SELECT count(*) FROM calls) AS calls, (SELECT count(*) FROM call_wrapups) AS wrapups, (SELECT count(*) FROM callbacks) AS callbacks',
    )
    .first();
  t(
    `seed (${counts.calls} calls, ${counts.wrapups} wrap-ups, ${counts.callbacks} 折り返し)`,
    performance.now() - t0,
  );
  t0 = performance.now();
  const rebuilt = await rebuildRollups(db);
  t(`reports:rebuild (${rebuilt.rows} rollup rows)`, performance.now() - t0);

  const admin = await w.login({ role: 'admin' });
  const staff = await w.login({ role: 'staff', store: storeIds[3] });
  const ymd = (ms) => new Date(ms + 9 * 3600e3).toISOString().slice(0, 10);
  const periods = {
    month: { from: ymd(end - 30 * DAY), to: ymd(end - DAY) },
    year: { from: ymd(start), to: ymd(end - DAY) },
    'year with callers': { from: ymd(start), to: ymd(end - DAY), callers: true },
  };
  const results = {};
  if (process.argv.includes('--probe')) {
    // Each kind of read of a year alone, straight on D1 from Node (each pays the proxy's round
    // trip: see 'select 1'), with SQLite's plan.
    const y0 = start;
    const y1 = end;
    const probes = {
      'per store (daily rollups)': [
        'SELECT store_id, sum(calls), sum(answered) FROM call_rollups_day WHERE day >= ?1 / 86400000 AND day < ?2 / 86400000 GROUP BY store_id',
        [y0 + 9 * 3600e3, y1 + 9 * 3600e3],
      ],
      'heatmap (hourly rollups)': [
        'SELECT ((hour + 9) / 24 + 3) % 7 AS dow, (hour + 9) % 24 AS hod, sum(calls) FROM call_rollups WHERE hour >= ?1 / 3600000 AND hour < ?2 / 3600000 GROUP BY dow, hod',
        [y0, y1],
      ],
      'line (daily rollups)': [
        'SELECT day, sum(calls) FROM call_rollups_day WHERE day >= ?1 / 86400000 AND day < ?2 / 86400000 GROUP BY day',
        [y0 + 9 * 3600e3, y1 + 9 * 3600e3],
      ],
      'wrap-ups (rollups)': [
        'SELECT category, outcome, sum(n) FROM call_wrapup_rollups WHERE hour >= ?1 / 3600000 AND hour < ?2 / 3600000 GROUP BY 1, 2',
        [y0, y1],
      ],
      'callers (every call of the period)': [
        "SELECT count(*), sum(EXISTS (SELECT 1 FROM customer_phones p WHERE p.phone = g.caller)) FROM (SELECT caller, count(*) n FROM calls k WHERE k.started_at >= ?1 AND k.started_at < ?2 AND k.direction = 'inbound' AND k.is_test = 0 AND k.caller != '' GROUP BY caller) g",
        [y0, y1],
      ],
      '折り返し counts': [
        "SELECT count(*), sum(status = 'done') FROM callbacks WHERE created_at >= ?1 AND created_at < ?2",
        [y0, y1],
      ],
      '折り返し percentiles': [
        "SELECT min(CASE WHEN cum >= (50 * n + 99) / 100 THEN m END), min(CASE WHEN cum >= (90 * n + 99) / 100 THEN m END) FROM (SELECT m, sum(c) OVER (ORDER BY m) AS cum, sum(c) OVER () AS n FROM (SELECT (updated_at - created_at) / 60000 AS m, count(*) AS c FROM callbacks WHERE created_at >= ?1 AND created_at < ?2 AND +status = 'done' GROUP BY m))",
        [y0, y1],
      ],
      'select 1': ['SELECT 1', []],
    };
    for (const [name, [sql, args]] of Object.entries(probes)) {
      const times = [];
      for (let i = 0; i < 3; i++) {
        const s = performance.now();
        await db
          .prepare(sql)
          .bind(...args)
          .all();
        times.push(performance.now() - s);
      }
      t(`D1 ${name}`, median(times));
      const plan = await db
        .prepare(`EXPLAIN QUERY PLAN ${sql}`)
        .bind(...args)
        .all();
      console.log('   ', plan.results.map((r) => r.detail).join(' | '));
    }
    const me = [];
    for (let i = 0; i < 3; i++) {
      const s = performance.now();
      await w.json('/api/auth/me', { headers: { authorization: `Bearer ${admin.token}` } });
      me.push(performance.now() - s);
    }
    t('GET /api/auth/me', median(me));
  }
  for (const [who, acct] of /** @type {const} */ ([
    ['admin', admin],
    ['staff', staff],
  ])) {
    for (const [name, p] of Object.entries(periods)) {
      const times = [];
      let body;
      for (let i = 0; i < RUNS; i++) {
        const s = performance.now();
        const r = await w.json('/api/reports/calls', {
          method: 'POST',
          headers: { authorization: `Bearer ${acct.token}`, 'content-type': 'application/json' },
          body: JSON.stringify(p),
        });
        times.push(performance.now() - s);
        if (r.status !== 200) throw new Error(JSON.stringify(r.body));
        body = r.body;
      }
      results[`${who} ${name}`] = {
        median: median(times),
        min: Math.min(...times),
        calls: body.total.calls,
      };
      t(`API ${who} ${name} (${body.total.calls} calls) median of ${RUNS}`, median(times));
    }
  }

  if (!process.argv.includes('--no-browser')) {
    const { openBrowser } = await import('../tests/helpers/browser.mjs');
    const { browser, context } = await openBrowser();
    try {
      const base = w.url.replace('127.0.0.1', 'localhost');
      await context.request.post(`${base}/api/auth/login`, {
        data: { loginId: admin.login, password: admin.password },
      });
      const page = await context.newPage();
      await page.goto(`${base}/admin/reports.html`);
      for (const [name, p] of Object.entries(periods).filter(([k]) => k !== 'year with callers')) {
        const renders = [];
        const apis = [];
        for (let i = 0; i < Math.min(RUNS, 5); i++) {
          await page.getByLabel('期間', { exact: true }).selectOption('custom');
          await page.getByLabel('開始日').fill(p.from);
          await page.getByLabel('終了日').fill(p.to);
          const before = await page.evaluate(() => document.body.dataset.reportReady ?? '0');
          await page.getByRole('button', { name: '集計する', exact: true }).click();
          await page.waitForFunction(
            (b) => (document.body.dataset.reportReady ?? '0') !== b,
            before,
          );
          renders.push(Number(await page.evaluate(() => document.body.dataset.renderMs)));
          apis.push(Number(await page.evaluate(() => document.body.dataset.apiMs)));
        }
        t(`page ${name}: render (answer wait ${median(apis)} ms)`, median(renders));
        results[`page ${name}`] = { render: median(renders), api: median(apis) };
      }
    } finally {
      await browser.close();
    }
  }
  console.log(
    JSON.stringify({ calls: counts.calls, stores: STORES, rollupRows: rebuilt.rows, results }),
  );
} finally {
  await w.close();
}
