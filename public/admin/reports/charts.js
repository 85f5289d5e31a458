// @ts-check
// 着信分析's charts: plain SVG built with DOM APIs (no library; attributes only, no inline style
// under the CSP). Each chart's numbers are in a table beside it (reports.js).

const SVG = 'http://www.w3.org/2000/svg';
/** An SVG element: attributes only (no inline style under the CSP). */
function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  for (const c of children.flat())
    if (c) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

/**
 * A weekday × hour heatmap: one cell per hour, its opacity the share of the busiest cell.
 * @param {string} title
 * @param {number[][]} grid
 * @param {string[]} weekdays
 * @param {string} color
 */
export function heatmap(title, grid, weekdays, color) {
  const max = Math.max(1, ...grid.flat());
  const cw = 26;
  const ch = 20;
  const left = 24;
  const top = 14;
  const cells = [];
  grid.forEach((row, d) => {
    row.forEach((v, h) => {
      const a = v === 0 ? 0.04 : 0.15 + (0.85 * v) / max;
      cells.push(
        svg(
          'rect',
          {
            x: left + h * cw,
            y: top + d * ch,
            width: cw - 2,
            height: ch - 2,
            fill: color,
            'fill-opacity': a.toFixed(2),
          },
          svg('title', {}, `${weekdays[d]} ${h}時: ${v}件`),
        ),
      );
    });
  });
  const hours = Array.from({ length: 24 }, (_, h) =>
    h % 3 === 0 ? svg('text', { x: left + h * cw + 4, y: 10 }, String(h)) : null,
  );
  const days = weekdays.map((w, d) => svg('text', { x: 4, y: top + d * ch + 14 }, w));
  return svg(
    'svg',
    {
      class: 'rp-chart',
      viewBox: `0 0 ${left + 24 * cw} ${top + 7 * ch}`,
      role: 'img',
      'aria-label': `${title}（曜日×時間帯、最大 ${max} 件）`,
    },
    hours,
    days,
    cells,
  );
}

/**
 * The calls per day (or hour) of the period against the previous one (dashed).
 * @param {{ label: string, calls: number }[]} series
 * @param {{ label: string, calls: number }[]} previous
 */
export function line(series, previous) {
  const w = 720;
  const h = 180;
  const pad = 28;
  const max = Math.max(1, ...series.map((s) => s.calls), ...previous.map((s) => s.calls));
  const count = Math.max(series.length, previous.length);
  const x = (i) => pad + (count <= 1 ? 0 : (i * (w - pad * 2)) / (count - 1));
  const y = (v) => h - pad - (v * (h - pad * 2)) / max;
  const path = (s) =>
    s.map((p, i) => `${i ? 'L' : 'M'}${x(i).toFixed(1)},${y(p.calls).toFixed(1)}`).join(' ');
  const dots = (s, color) =>
    s.map((p, i) =>
      svg(
        'circle',
        { cx: x(i).toFixed(1), cy: y(p.calls).toFixed(1), r: 2.5, fill: color },
        svg('title', {}, `${p.label}: ${p.calls}件`),
      ),
    );
  return svg(
    'svg',
    {
      class: 'rp-chart',
      viewBox: `0 0 ${w} ${h}`,
      role: 'img',
      'aria-label': `着信数の推移（今期 ${series.reduce((a, s) => a + s.calls, 0)} 件、前期間 ${previous.reduce((a, s) => a + s.calls, 0)} 件）`,
    },
    svg('line', { x1: pad, y1: h - pad, x2: w - pad, y2: h - pad, stroke: '#ccc' }),
    svg('text', { x: 2, y: y(max) + 4 }, String(max)),
    svg('text', { x: 2, y: h - pad + 4 }, '0'),
    series.length ? svg('text', { x: pad, y: h - 8 }, series[0].label) : null,
    series.length > 1
      ? svg('text', { x: w - pad - 60, y: h - 8 }, series[series.length - 1].label)
      : null,
    previous.length
      ? svg('path', {
          d: path(previous),
          fill: 'none',
          stroke: '#999',
          'stroke-dasharray': '4 3',
          'stroke-width': 1.5,
        })
      : null,
    series.length
      ? svg('path', { d: path(series), fill: 'none', stroke: '#1f6feb', 'stroke-width': 2 })
      : null,
    dots(previous, '#999'),
    dots(series, '#1f6feb'),
  );
}
