// @ts-check
// How numbers, times and amounts are written on every page.

/** 09012345678 -> 090-1234-5678; digits the rules do not know are returned unchanged. */
export function fmtPhone(n) {
  if (!n) return '非通知';
  const s = String(n);
  if (!/^\d+$/.test(s)) return s;
  if (/^0[5789]0\d{8}$/.test(s)) return `${s.slice(0, 3)}-${s.slice(3, 7)}-${s.slice(7)}`;
  if (/^0(120|800)\d{6,7}$/.test(s)) return `${s.slice(0, 4)}-${s.slice(4, 7)}-${s.slice(7)}`;
  if (/^0[36]\d{8}$/.test(s)) return `${s.slice(0, 2)}-${s.slice(2, 6)}-${s.slice(6)}`;
  if (/^0\d{9}$/.test(s)) return `${s.slice(0, 3)}-${s.slice(3, 6)}-${s.slice(6)}`;
  return s;
}

const pad2 = (n) => String(n).padStart(2, '0');

function toDate(v) {
  if (v === null || v === undefined || v === '') return null;
  const d = typeof v === 'number' ? new Date(v) : new Date(String(v));
  return Number.isNaN(d.getTime()) ? null : d;
}

/** HH:MM for today, M/D HH:MM this year, YYYY/M/D HH:MM otherwise. */
export function fmtTime(v) {
  const d = toDate(v);
  if (!d) return '—';
  const now = new Date();
  const hm = `${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
  if (d.toDateString() === now.toDateString()) return hm;
  if (d.getFullYear() === now.getFullYear()) return `${d.getMonth() + 1}/${d.getDate()} ${hm}`;
  return `${d.getFullYear()}/${d.getMonth() + 1}/${d.getDate()} ${hm}`;
}

/** YYYY/MM/DD HH:MM */
export function fmtDateTime(v) {
  const d = toDate(v);
  if (!d) return '—';
  return `${d.getFullYear()}/${pad2(d.getMonth() + 1)}/${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
}

/** YYYY/MM/DD. Plain dates ("2026-11-02") are shown as written, not shifted by time zone. */
export function fmtDate(v) {
  if (typeof v === 'string' && /^\d{4}-\d\d-\d\d$/.test(v)) return v.replaceAll('-', '/');
  const d = toDate(v);
  if (!d) return '—';
  return `${d.getFullYear()}/${pad2(d.getMonth() + 1)}/${pad2(d.getDate())}`;
}

/** m:ss, or h:mm:ss from an hour. */
export function fmtDuration(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return h > 0 ? `${h}:${pad2(m)}:${pad2(s)}` : `${m}:${pad2(s)}`;
}

const yen = new Intl.NumberFormat('ja-JP');
export function fmtYen(n) {
  return `¥${yen.format(Number(n) || 0)}`;
}

export function fmtCount(n, unit) {
  return `${yen.format(Number(n) || 0)}${unit}`;
}
