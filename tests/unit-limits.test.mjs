// @ts-check
// Field limits (issue 24): the browser's `maxlength`s are the server's limits, read from the one
// corpus the Rust tests read too (tests/corpus/field-limits.json, tests/limits.rs). Controls
// built in JavaScript take theirs from public/admin/lib/limits.js; the pages' static ones are
// listed in the corpus by page and id, and a `maxlength` nobody listed fails.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { LIMITS } from '../public/admin/lib/limits.js';

const corpus = JSON.parse(readFileSync('tests/corpus/field-limits.json', 'utf8'));
const known = { ...corpus.limits, ...corpus.browser_only };

/** @param {string} dir @returns {string[]} */
function files(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)],
  );
}

test('lib/limits.js holds the corpus figures', () => {
  for (const [key, max] of Object.entries(LIMITS)) {
    assert.equal(max, corpus.limits[key], `${key}: limits.js ${max}, corpus ${corpus.limits[key]}`);
  }
});

test("every static maxlength is listed in the corpus with the field's limit", () => {
  const found = new Map();
  for (const file of files('public').filter((f) => f.endsWith('.html'))) {
    const html = readFileSync(file, 'utf8');
    for (const [tag] of html.matchAll(/<(?:input|textarea)\b[^>]*\bmaxlength="\d+"[^>]*>/g)) {
      const id = tag.match(/\bid="([^"]+)"/)?.[1];
      const max = Number(tag.match(/\bmaxlength="(\d+)"/)?.[1]);
      found.set(`${file}#${id}`, max);
    }
  }
  assert.ok(found.size > 0);
  for (const [where, max] of found) {
    const key = corpus.html[where];
    assert.ok(key, `${where}: maxlength ${max} is not in tests/corpus/field-limits.json`);
    assert.equal(max, known[key], `${where} (${key})`);
  }
  for (const where of Object.keys(corpus.html))
    assert.ok(found.has(where), `${where}: listed, not found`);
});

test('controls built in JavaScript take their maxlength from lib/limits.js', () => {
  const literal = [];
  for (const file of files('public').filter((f) => f.endsWith('.js'))) {
    const src = readFileSync(file, 'utf8');
    for (const [line] of src.matchAll(/^.*maxlength\s*[:=][^\n]*\d[^\n]*$/gim))
      literal.push(`${file}: ${line.trim()}`);
  }
  assert.deepEqual(literal, []);
});
