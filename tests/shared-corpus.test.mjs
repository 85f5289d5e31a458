// @ts-check
// Rules that run in the browser and on the server, tested against one corpus each: phone
// numbers (public/admin/lib/phone.js vs src/domain/phone.rs) and action-button URLs
// (public/admin/lib/front-desk.js vs src/domain/front_desk.rs), so the copies cannot drift.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { normalizePhone, phoneKey, e164 } from '../public/admin/lib/phone.js';

const { cases } = JSON.parse(readFileSync('tests/corpus/phone.json', 'utf8'));

test('every corpus case normalises in the browser as on the server', () => {
  assert.ok(cases.length >= 30);
  for (const { input, expected } of cases) {
    const got = normalizePhone(input);
    const as = 'number' in got ? got.number : 'withheld' in got ? 'withheld' : got.error;
    assert.equal(as, expected, `input ${JSON.stringify(input).slice(0, 40)}`);
  }
});

test('keys and dialling: typed forms of one number compare equal; E.164 for the dialler', () => {
  assert.equal(phoneKey('090-1234-5678'), phoneKey('+81 90 1234 5678'));
  assert.equal(phoneKey('０９０ー１２３４ー５６７８'), '09012345678');
  assert.equal(e164('090-1234-5678'), '+819012345678');
  assert.equal(e164('+1 415 555 0100'), '+14155550100');
});

test('action-button URLs fill in the browser as on the server (one corpus)', async () => {
  const { expandTemplate } = await import('../public/admin/lib/front-desk.js');
  const doc = JSON.parse(readFileSync('tests/corpus/action-templates.json', 'utf8'));
  assert.ok(doc.cases.length >= 8);
  for (const { template, values, expected } of doc.cases)
    assert.equal(expandTemplate(template, values), expected, template);
});
