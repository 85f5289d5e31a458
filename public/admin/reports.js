// @ts-check
// 着信分析 (issue 27): the figures of POST /api/reports/calls for a period, per store, as
// tables and plain SVG charts built with DOM APIs (no library: a heatmap and a line are a few
// dozen elements, and each chart has its numbers in a table a click away). Admins pick
// stores; staff get their own store (the API decides). 「CSVをダウンロード」 writes every table.
import './lib/header.js';
import { $, el, setChildren } from './lib/dom.js';
import { api } from './lib/api.js';
import { fmtPhone } from './lib/format.js';
import { startPage, handleAuthError } from './lib/page.js';
import { loadStores } from './lib/stores.js';
import { heatmap, line } from './reports/charts.js';

const ui = {
  form: $('#rp-form'),
  period: $('#rp-period'),
  from: $('#rp-from'),
  to: $('#rp-to'),
  group: $('#rp-group'),
  stores: $('#rp-store-list'),
  csv: $('#rp-csv'),
  error: $('#rp-error'),
  status: $('#rp-status'),
  body: $('#rp-body'),
  periodText: $('#rp-period-text'),
};

// ---- the period, in Japan time ----
const DAY = 86400000;
/** Today's date in Japan time as a day number (days since 1970-01-01). */
const jstToday = () => Math.floor((Date.now() + 9 * 3600e3) / DAY);
const ymd = (day) => new Date(day * DAY).toISOString().slice(0, 10);
export function periodOf(kind, today = jstToday()) {
  const d = new Date(today * DAY);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  switch (kind) {
    case 'today':
      return [ymd(today), ymd(today)];
    case 'week': {
      const monday = today - ((d.getUTCDay() + 6) % 7);
      return [ymd(monday), ymd(today)];
    }
    case 'last-month':
      return [ymd(Date.UTC(y, m - 1, 1) / DAY), ymd(Date.UTC(y, m, 1) / DAY - 1)];
    case 'month':
    default:
      return [ymd(Date.UTC(y, m, 1) / DAY), ymd(today)];
  }
}

function syncPeriod() {
  const custom = ui.period.value === 'custom';
  if (!custom) [ui.from.value, ui.to.value] = periodOf(ui.period.value);
  ui.from.disabled = !custom;
  ui.to.disabled = !custom;
}

// ---- formatting ----
const n = (v) => (v === null || v === undefined ? '—' : Number(v).toLocaleString('ja-JP'));
const pct = (v) => (v === null || v === undefined ? '—' : `${v}%`);
const sec = (v) => (v === null || v === undefined ? '—' : `${v}秒`);
const minutes = (v) => (v === null || v === undefined ? '—' : `${v}分`);
const hms = (s) => {
  if (s === null || s === undefined) return '—';
  const t = Math.round(s);
  return `${Math.floor(t / 3600)}時間${Math.floor((t % 3600) / 60)}分`;
};

/** A table: caption, header cells, rows of cells (strings or numbers). */
function table(caption, head, rows, { cls = '' } = {}) {
  return el(
    'div',
    { class: 'table-wrap' },
    el(
      'table',
      { class: ['records', 'rp-table', cls] },
      el('caption', { text: caption }),
      el(
        'thead',
        {},
        el(
          'tr',
          {},
          head.map((h) => el('th', { text: h, attrs: { scope: 'col' } })),
        ),
      ),
      el(
        'tbody',
        {},
        rows.length
          ? rows.map((r) =>
              el(
                'tr',
                {},
                r.map((c, i) =>
                  i === 0
                    ? el('th', { text: c, attrs: { scope: 'row' } })
                    : el('td', { class: typeof c === 'number' ? 'num' : '', text: c }),
                ),
              ),
            )
          : el(
              'tr',
              {},
              el('td', { class: 'muted', text: 'なし', attrs: { colspan: head.length } }),
            ),
      ),
    ),
  );
}

/** The numbers under a chart, one click away. */
const numbers = (...content) =>
  el('details', { class: 'rp-numbers' }, el('summary', { text: '数値を表示' }), ...content);

function section(title, ...content) {
  const id = `rp-h-${title}`;
  return el(
    'section',
    { class: 'rp-section', attrs: { 'aria-labelledby': id } },
    el('h2', { text: title, attrs: { id } }),
    ...content,
  );
}

function figures(pairs) {
  return el(
    'dl',
    { class: 'rp-figures' },
    pairs.map(([k, v]) => el('div', {}, el('dt', { text: k }), el('dd', { text: v }))),
  );
}

function render(r) {
  const storeRows = [...r.stores, ...(r.stores.length > 1 ? [r.total] : [])].map((s) => [
    s.storeName,
    n(s.calls),
    n(s.answered),
    n(s.missed),
    n(s.voicemail),
    pct(s.answerRate),
    sec(s.avgRingSec),
    sec(s.maxRingSec),
    hms(s.talkSec),
    sec(s.avgTalkSec),
  ]);
  const hours = Array.from({ length: 24 }, (_, h) => `${h}時`);
  const heatRows = (grid) => grid.map((row, d) => [r.heatmap.weekdays[d], ...row.map((v) => v)]);
  const prevByIndex = r.previousSeries;
  const cb = r.callbacks;
  const c = r.callers;
  setChildren(
    ui.body,
    figures([
      ['着信', n(r.total.calls)],
      ['応答', n(r.total.answered)],
      ['応答率', pct(r.total.answerRate)],
      ['不在着信', n(r.total.missed)],
      ['留守電', n(r.total.voicemail)],
      ['平均呼出時間', sec(r.total.avgRingSec)],
    ]),
    section(
      '店舗別',
      table(
        '店舗別の着信',
        [
          '店舗',
          '着信',
          '応答',
          '不在着信',
          '留守電',
          '応答率',
          '平均呼出',
          '最長呼出',
          '通話時間',
          '平均通話',
        ],
        storeRows,
      ),
    ),
    section(
      '曜日×時間帯',
      el('h3', { class: 'small', text: '着信数' }),
      heatmap('着信数', r.heatmap.calls, r.heatmap.weekdays, '#1f6feb'),
      numbers(
        table('曜日×時間帯の着信数', ['曜日', ...hours], heatRows(r.heatmap.calls), {
          cls: 'rp-heat',
        }),
      ),
      el('h3', { class: 'small', text: '応答できなかった着信（不在着信・留守電など）' }),
      heatmap('応答できなかった着信', r.heatmap.unanswered, r.heatmap.weekdays, '#d1242f'),
      numbers(
        table(
          '曜日×時間帯の応答できなかった着信',
          ['曜日', ...hours],
          heatRows(r.heatmap.unanswered),
          { cls: 'rp-heat' },
        ),
      ),
    ),
    section(
      '着信数の推移',
      el(
        'p',
        { class: 'rp-legend' },
        el('span', { class: 'rp-swatch-now', text: '━ 今期' }),
        '　',
        el('span', { class: 'rp-swatch-prev', text: '┅ 前の期間' }),
        `（${r.period.previous.from}〜${r.period.previous.to}）`,
      ),
      line(r.series, r.previousSeries),
      numbers(
        table(
          '着信数の推移',
          ['期間', '着信', '応答', '応答できなかった', '前の期間', '前の期間の着信'],
          r.series.map((s, i) => [
            s.label,
            s.calls,
            s.answered,
            s.unanswered,
            prevByIndex[i]?.label ?? '—',
            prevByIndex[i]?.calls ?? '—',
          ]),
        ),
      ),
    ),
    section(
      '折り返し',
      table(
        '折り返し（期間中に登録）',
        ['項目', '値'],
        [
          ['登録', n(cb.opened)],
          ['対応済', n(cb.done)],
          ['未完了', n(cb.open)],
          ['対応済までの時間（中央値）', minutes(cb.medianMinutes)],
          ['対応済までの時間（90パーセンタイル）', minutes(cb.p90Minutes)],
          ['先にお客様からかけ直して応答', n(cb.calledBackFirst)],
        ],
      ),
    ),
    c === null
      ? section(
          '発信者',
          el('p', {
            class: 'muted small',
            text: `${r.callersMaxDays}日を超える期間では、発信者の集計は求めたときだけ行います（期間中の着信をすべて読むため）。`,
          }),
          el('button', {
            class: 'btn btn-small',
            text: '発信者も集計する',
            attrs: { type: 'button' },
            on: { click: () => run({ callers: true }) },
          }),
        )
      : section(
          '発信者',
          table(
            '発信者の内訳',
            ['区分', '番号数'],
            [
              ['登録済みの顧客', n(c.known)],
              ['未登録の番号', n(c.unknown)],
              ['非通知（着信数）', n(c.withheld)],
            ],
          ),
          table(
            '繰り返しかけてきた番号（上位10）',
            ['電話番号', '顧客', '着信'],
            c.repeat.map((x) => [
              fmtPhone(x.phone),
              x.name ?? (x.known ? '（表示できない顧客）' : '未登録'),
              x.calls,
            ]),
          ),
          table(
            '3回以上かけてきた未登録の番号（登録候補）',
            ['電話番号', '着信'],
            c.unknownFrequent.map((x) => [fmtPhone(x.phone), x.calls]),
          ),
        ),
    section(
      '対応記録',
      table(
        '用件',
        ['用件', '件数'],
        r.wrapups.categories.map((x) => [x.label, x.count]),
      ),
      table(
        '対応結果',
        ['対応結果', '件数'],
        r.wrapups.outcomes.map((x) => [x.label, x.count]),
      ),
    ),
  );
  ui.periodText.textContent = `${r.period.from}〜${r.period.to}（${r.period.days}日）`;
  ui.csv.disabled = false;
}

/** Every table on the page as one CSV (UTF-8 with BOM, opens in Excel), caption by caption. */
export function pageCsv(root = ui.body) {
  const esc = (v) => {
    let s = String(v ?? '');
    // A number with a leading 0 stays text in Excel, as the customer export writes it.
    if (/^0\d[\d-]*$/.test(s)) s = `="${s}"`;
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const lines = [];
  for (const t of root.querySelectorAll('table')) {
    lines.push(esc(t.caption?.textContent ?? ''));
    for (const tr of t.rows) lines.push([...tr.cells].map((c) => esc(c.textContent)).join(','));
    lines.push('');
  }
  return '\uFEFF' + lines.join('\r\n');
}

function downloadCsv() {
  const blob = new Blob([pageCsv()], { type: 'text/csv;charset=utf-8' });
  const a = el('a', {
    attrs: {
      href: URL.createObjectURL(blob),
      download: `着信分析_${ui.from.value}_${ui.to.value}.csv`,
    },
  });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
}

let seq = 0;
async function run(extra = {}) {
  const mine = ++seq;
  ui.error.hidden = true;
  ui.status.textContent = '集計中…';
  const stores = [...ui.stores.querySelectorAll('input:checked')].map((i) => Number(i.value));
  const body = {
    from: ui.from.value,
    to: ui.to.value,
    groupBy: ui.group.value,
    ...(stores.length ? { stores } : {}),
    ...extra,
  };
  const t0 = performance.now();
  try {
    const r = await api('/api/reports/calls', { method: 'POST', body });
    if (mine !== seq) return;
    const t1 = performance.now();
    render(r);
    const t2 = performance.now();
    ui.status.textContent = `集計しました（${Math.round(t2 - t0)} ms）`;
    // For bench/reports.mjs: the answer's wait and the drawing, apart.
    document.body.dataset.apiMs = String(Math.round(t1 - t0));
    document.body.dataset.renderMs = String(Math.round(t2 - t1));
    document.body.dataset.reportReady = String(mine);
  } catch (e) {
    if (handleAuthError(e)) return;
    if (mine !== seq) return;
    ui.status.textContent = '';
    ui.error.textContent = `集計できませんでした: ${e.message}`;
    ui.error.hidden = false;
  }
}

async function main() {
  const user = await startPage();
  $('#page-view').hidden = false;
  if (user.role === 'admin') {
    try {
      const stores = await loadStores();
      setChildren(
        ui.stores,
        stores.map((s) =>
          el(
            'label',
            {},
            el('input', { attrs: { type: 'checkbox', value: s.id, name: 'store' } }),
            s.name,
          ),
        ),
      );
    } catch (e) {
      handleAuthError(e);
    }
  }
  syncPeriod();
  ui.period.addEventListener('change', () => {
    syncPeriod();
    if (ui.period.value !== 'custom') run();
  });
  ui.form.addEventListener('submit', (e) => {
    e.preventDefault();
    run();
  });
  ui.group.addEventListener('change', () => run());
  ui.csv.addEventListener('click', downloadCsv);
  await run();
}

main();
