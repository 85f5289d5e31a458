// @ts-check
// The browser's pure modules, run in Node (issue 24): how numbers, times and amounts are
// written (lib/format.js) and the pager's arithmetic (lib/pager.js). Times are written in the
// browser's zone: the tests pin it to Japan's, the zone of every store.
process.env.TZ = 'Asia/Tokyo';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  fmtPhone,
  fmtDate,
  fmtDateTime,
  fmtDuration,
  fmtYen,
  fmtCount,
  fmtTime,
} from '../public/admin/lib/format.js';
import { pagerText, pageCount, pageParam, pageAfterOverflow } from '../public/admin/lib/pager.js';

test('fmtPhone: mobile, toll-free, Tokyo/Osaka, other landlines; withheld; anything else unchanged', () => {
  assert.equal(fmtPhone('09012345678'), '090-1234-5678');
  assert.equal(fmtPhone('05017481234'), '050-1748-1234');
  assert.equal(fmtPhone('0120123456'), '0120-123-456');
  assert.equal(fmtPhone('08001234567'), '080-0123-4567', '080 is a mobile prefix before 0800');
  assert.equal(fmtPhone('0312345678'), '03-1234-5678');
  assert.equal(fmtPhone('0612345678'), '06-1234-5678');
  assert.equal(fmtPhone('0471234567'), '047-123-4567');
  assert.equal(fmtPhone(''), '非通知');
  assert.equal(fmtPhone(null), '非通知');
  assert.equal(fmtPhone('+819012345678'), '+819012345678', 'not digits only: as given');
  assert.equal(fmtPhone('123'), '123');
  assert.equal(fmtPhone(9012345678), '9012345678', 'a number without its 0 is not guessed at');
});

test('fmtDate / fmtDateTime: Japanese order, zero-padded; a plain date is not shifted by the zone', () => {
  assert.equal(fmtDate('2026-11-02'), '2026/11/02');
  assert.equal(
    fmtDate('2026-11-02T15:30:00Z'),
    '2026/11/03',
    'UTC afternoon is the next day in Japan',
  );
  assert.equal(fmtDateTime('2026-01-05T00:07:00Z'), '2026/01/05 09:07');
  assert.equal(
    fmtDateTime(Date.UTC(2026, 0, 5, 0, 7)),
    '2026/01/05 09:07',
    'epoch milliseconds too',
  );
  for (const empty of [null, undefined, '', 'not a date']) {
    assert.equal(fmtDate(empty), '—', String(empty));
    assert.equal(fmtDateTime(empty), '—', String(empty));
    assert.equal(fmtTime(empty), '—', String(empty));
  }
});

test('fmtTime: the time today, month/day this year, the full date before', () => {
  const now = new Date();
  const today = new Date(now.getFullYear(), now.getMonth(), now.getDate(), 8, 5);
  assert.equal(fmtTime(today.getTime()), '08:05');
  const earlier = new Date(now.getFullYear() - 1, 2, 4, 23, 59);
  assert.equal(fmtTime(earlier.getTime()), `${now.getFullYear() - 1}/3/4 23:59`);
  const day = now.getMonth() === 0 && now.getDate() === 1 ? 2 : 1; // this year, not today
  assert.equal(fmtTime(new Date(now.getFullYear(), 0, day, 12, 0).getTime()), `1/${day} 12:00`);
});

test('fmtDuration: m:ss under an hour, h:mm:ss from an hour; nothing known is a dash', () => {
  assert.equal(fmtDuration(0), '0:00');
  assert.equal(fmtDuration(59_999), '0:59');
  assert.equal(fmtDuration(61_000), '1:01');
  assert.equal(fmtDuration(3_600_000), '1:00:00');
  assert.equal(fmtDuration(3_725_000), '1:02:05');
  assert.equal(fmtDuration(-5_000), '0:00', 'a clock skew never shows a negative time');
  assert.equal(fmtDuration(null), '—');
  assert.equal(fmtDuration(Number.NaN), '—');
});

test('fmtYen / fmtCount: grouped digits; a missing amount is zero', () => {
  assert.equal(fmtYen(1234567), '¥1,234,567');
  assert.equal(fmtYen(null), '¥0');
  assert.equal(fmtYen('980'), '¥980');
  assert.equal(fmtCount(12, '回'), '12回');
  assert.equal(fmtCount(12000, '件'), '12,000件');
  assert.equal(fmtCount(undefined, '件'), '0件');
});

test('the pager: its text, the page count, the page in the address, a page past the last', () => {
  assert.equal(pagerText({ total: 0, page: 1, perPage: 50 }), '0件');
  assert.equal(pagerText({ total: 120, page: 1, perPage: 50 }), '120件中 1–50件 (1/3ページ)');
  assert.equal(pagerText({ total: 120, page: 3, perPage: 50 }), '120件中 101–120件 (3/3ページ)');
  assert.equal(pageCount({ total: 0, page: 1, perPage: 50 }), 1);
  assert.equal(pageCount({ total: 100, page: 1, perPage: 50 }), 2);
  assert.equal(pageCount({ total: 101, page: 1, perPage: 50 }), 3);
  assert.equal(pageParam(new URLSearchParams('page=4')), 4);
  for (const q of ['', 'page=0', 'page=-2', 'page=abc', 'page='])
    assert.equal(pageParam(new URLSearchParams(q)), 1, q);
  assert.equal(
    pageAfterOverflow({ rows: 0, total: 120, page: 5, perPage: 50 }),
    3,
    'back to the last page',
  );
  assert.equal(pageAfterOverflow({ rows: 20, total: 120, page: 3, perPage: 50 }), null);
  assert.equal(
    pageAfterOverflow({ rows: 0, total: 0, page: 2, perPage: 50 }),
    null,
    'nothing at all: stay',
  );
  assert.equal(pageAfterOverflow({ rows: 0, total: 10, page: 1, perPage: 50 }), null);
});
