// @ts-check
// npm run check's coverage rule (scripts/check-js.mjs): every JS module under public/, tests/,
// bench/ and scripts/ is type-checked: it starts with `// @ts-check` (tsconfig.json leaves
// checkJs off, so a module without it would be skipped silently).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { hasTsCheck, jsModules, unchecked } from '../scripts/check-js.mjs';

test('// @ts-check counts in the leading comments only (after a shebang)', () => {
  assert.equal(hasTsCheck('// @ts-check\nimport x from "y";\n'), true);
  assert.equal(hasTsCheck('#!/usr/bin/env node\n// @ts-check\n'), true);
  assert.equal(hasTsCheck('// What this does.\n//   usage\n// @ts-check\nexport {};\n'), true);
  assert.equal(hasTsCheck('export const a = 1;\n// @ts-check\n'), false);
  assert.equal(hasTsCheck('/* @ts-check */\n'), false);
  assert.equal(hasTsCheck('// @ts-nocheck\n'), false);
  assert.equal(hasTsCheck('// @ts-checked\n'), false);
  assert.equal(hasTsCheck(''), false);
});

test('the coverage rule names every module without // @ts-check', () => {
  const sources = new Map([
    ['tests/a.test.mjs', '// @ts-check\n'],
    ['tests/b.test.mjs', 'export {};\n'],
    ['public/c.js', '// A page.\nexport {};\n'],
    ['public/d.js', '// A page.\n// @ts-check\n'],
  ]);
  assert.deepEqual(unchecked(sources), ['tests/b.test.mjs', 'public/c.js']);
  assert.deepEqual(unchecked(new Map()), []);
});

test('this tree: every module of public/, tests/, bench/ and scripts/ is checked', () => {
  const files = jsModules();
  for (const f of ['tests/check-js.test.mjs', 'scripts/check-js.mjs', 'public/admin/lib/dom.js']) {
    assert.ok(files.includes(f), `the module list holds ${f}`);
  }
  assert.ok(!files.some((f) => f.includes('node_modules/')), 'no installed package');
  const read = (f) => readFileSync(new URL(`../${f}`, import.meta.url), 'utf8');
  assert.deepEqual(unchecked(new Map(files.map((f) => [f, read(f)]))), []);
});
