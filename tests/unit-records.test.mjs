// @ts-check
// The browser's pure modules, run in Node (issue 24): a call as the pages show it
// (lib/calls.js), the front desk's links (lib/front-desk.js), the customer edit form's values
// (customers/fields.js), and the note and badge classes (lib/notes.js, lib/customer.js).
process.env.TZ = 'Asia/Tokyo';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { phaseLabel, callFromMessage, popupUrl, LIVE_PHASES } from '../public/admin/lib/calls.js';
import { actionsFor, dialHref } from '../public/admin/lib/front-desk.js';
import {
  cardValues,
  diff,
  addedPhones,
  displayValue,
  FIELD_LABELS,
} from '../public/admin/customers/fields.js';
import { noteKey, NOTE_TYPES } from '../public/admin/lib/notes.js';
import { badgeClass } from '../public/admin/lib/customer.js';

test('phase labels: an outbound call still ringing is 発信中; an unknown phase is その他', () => {
  assert.equal(phaseLabel('ringing', 'inbound'), '着信中');
  assert.equal(phaseLabel('ringing', 'outbound'), '発信中');
  assert.equal(phaseLabel('connected', 'outbound'), '通話中');
  assert.equal(phaseLabel('missed'), '不在着信');
  assert.equal(phaseLabel('something new'), 'その他');
  assert.deepEqual([...LIVE_PHASES].sort(), ['connected', 'hold', 'ringing']);
});

test('the popup address carries the call id only, encoded', () => {
  assert.equal(popupUrl({ callId: '6001' }), '/admin/popup/cti?callId=6001');
  assert.equal(popupUrl({ callId: 'a&b=c' }), '/admin/popup/cti?callId=a%26b%3Dc');
});

test('callFromMessage: a socket message as a call row, merged over what the page had', () => {
  const msg = {
    callId: '77',
    direction: 'inbound',
    customerPhone: '09012345678',
    incomingNumber: '05017481234',
    store: { id: 3, name: '西船橋' },
    candidates: [{ name: '山田 太郎' }, { name: '山田 花子' }],
    state: 'calling',
    phase: 'ringing',
    timestamp: '2026-12-07T01:00:00Z',
  };
  const row = callFromMessage(msg, null);
  assert.equal(row.id, '77');
  assert.equal(row.caller, '09012345678');
  assert.equal(row.dialled, '05017481234');
  assert.equal(row.storeId, 3);
  assert.equal(
    row.customerName,
    '山田 太郎 他1名',
    'several candidates: the first and how many more',
  );
  assert.equal(row.startedAt, Date.parse('2026-12-07T01:00:00Z'));
  assert.equal(row.isTest, false);
  // The next message of the call: the start stays, what it does not say is kept.
  const next = callFromMessage(
    {
      ...msg,
      store: null,
      candidates: [],
      state: 'hangup',
      phase: 'ended',
      timestamp: '2026-12-07T01:03:00Z',
      durationMs: 180000,
    },
    { ...row, afterHours: true },
  );
  assert.equal(next.startedAt, row.startedAt);
  assert.equal(next.storeName, '西船橋');
  assert.equal(next.customerName, '山田 太郎 他1名');
  assert.equal(next.phase, 'ended');
  assert.equal(next.durationMs, 180000);
  assert.equal(next.afterHours, true);
  assert.equal(
    callFromMessage({ ...msg, candidates: [], customer: { name: '佐藤' } }, null).customerName,
    '佐藤',
  );
});

test("front desk: the actions for a store are every store's then its own; the dial address", () => {
  const settings = {
    actions: [
      { label: '予約', url: 'https://a.example/{phone}', storeId: null },
      { label: '西船橋の台帳', url: 'https://b.example/', storeId: 3 },
      { label: '錦糸町の台帳', url: 'https://c.example/', storeId: 4 },
    ],
    callerIds: [{ storeId: 3, number: '0501748-1234' }],
  };
  assert.deepEqual(
    actionsFor(settings, 3).map((a) => a.label),
    ['予約', '西船橋の台帳'],
  );
  assert.deepEqual(
    actionsFor(settings, null).map((a) => a.label),
    ['予約'],
  );
  assert.deepEqual(actionsFor(null, 3), []);
  assert.equal(dialHref('090-1234-5678', 3, {}), 'tel:+819012345678');
  assert.equal(
    dialHref('09012345678', 3, { ...settings, dialMode: 'dialpad' }),
    'dialpad://+819012345678?fromNumber=%2B815017481234',
  );
  assert.equal(
    dialHref('09012345678', 4, { ...settings, dialMode: 'dialpad' }),
    'dialpad://+819012345678',
    'no caller id for the store',
  );
  assert.equal(dialHref('', 3, settings), null);
});

test('the customer form: a card as values, what changed (numbers compared as numbers), numbers added', () => {
  const card = {
    name: '山田 太郎',
    kana: '',
    phones: ['09012345678'],
    homeStore: { id: 3 },
    usage: { visits: 2, totalSpend: 5000, lastVisit: '2026-11-02T10:00:00Z' },
    memo: 'x',
  };
  const v = cardValues(card);
  assert.equal(v.customerType, '新規', 'an unset type shows as 新規');
  assert.equal(v.lastVisit, '2026-11-02');
  assert.equal(v.homeStoreId, 3);
  assert.deepEqual(
    diff({ ...v, name: ' 山田 太郎 ', phones: ['090-1234-5678'] }, v),
    {},
    'spacing and hyphens are not changes',
  );
  assert.deepEqual(diff({ ...v, name: '山田 次郎', visits: 3 }, v), {
    name: '山田 次郎',
    visits: 3,
  });
  assert.deepEqual(Object.keys(diff({ ...v, phones: ['09012345678', '0312345678'] }, v)), [
    'phones',
  ]);
  assert.deepEqual(addedPhones(['090-1234-5678', '03-1234-5678'], ['09012345678']), [
    '03-1234-5678',
  ]);
  assert.equal(displayValue([{ id: 3, name: '西船橋' }], 'homeStoreId', 3), '西船橋');
  assert.equal(displayValue([], 'homeStoreId', 9), '店舗 9', 'a deleted store still says which');
  assert.equal(displayValue([], 'homeStoreId', null), '未設定');
  assert.equal(
    displayValue([], 'phones', ['09012345678', '0312345678']),
    '090-1234-5678 / 03-1234-5678',
  );
  assert.equal(displayValue([], 'memo', ''), '（空）');
  assert.equal(displayValue([], 'totalSpend', 1200), '¥1,200');
  assert.ok(
    Object.keys(FIELD_LABELS).every((k) => k in v || k === 'fields'),
    'every labelled field has a form value',
  );
});

test('note types and badges have their classes; anything else falls back', () => {
  assert.deepEqual(NOTE_TYPES.map(noteKey), [
    'general',
    'pref',
    'complaint',
    'caution',
    'important',
  ]);
  assert.equal(noteKey('知らない種類'), 'general');
  assert.equal(badgeClass('VIP'), 'badge badge-vip');
  assert.equal(badgeClass('ブロック'), 'badge badge-block');
  assert.equal(badgeClass(null), 'badge');
});
