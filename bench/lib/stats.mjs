// @ts-check
// Small statistics helpers: nearest-rank percentiles over a list of milliseconds.

const round = (x) => (x === null || Number.isNaN(x) ? null : Math.round(x * 100) / 100);

export function percentile(sorted, q) {
  if (sorted.length === 0) return null;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1];
}

export function summarize(values) {
  const s = [...values].sort((a, b) => a - b);
  const mean = s.length ? s.reduce((a, b) => a + b, 0) / s.length : null;
  return {
    count: s.length,
    min: round(s[0] ?? null),
    p50: round(percentile(s, 0.5)),
    p90: round(percentile(s, 0.9)),
    p99: round(percentile(s, 0.99)),
    max: round(s[s.length - 1] ?? null),
    mean: round(mean),
  };
}

export function median(values) {
  return summarize(values).p50;
}

export function ratio(a, b) {
  if (a === null || b === null || !b) return null;
  return Math.round((a / b) * 100) / 100;
}
