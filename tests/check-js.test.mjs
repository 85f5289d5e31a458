// @ts-check
// npm run check's coverage rule (scripts/check-js.mjs): every JS module under public/, tests/,
// bench/ and scripts/ is type-checked (`// @ts-check`) unless scripts/ts-check-pending.txt
// lists it, and that list only shrinks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { coverage, hasTsCheck, jsModules, pendingList } from '../scripts/check-js.mjs';

test('// @ts-check counts in the leading comments only (after a shebang)', () => {
  assert.equal(hasTsCheck('// @ts-check\nimport x from "y";\n'), true);
  assert.equal(hasTsCheck('#!/usr/bin/env node\n// @ts-check\n'), true);
  assert.equal(hasTsCheck('// What this does.\n//   usage\n// @ts-check\nexport {};\n'), true);
  assert.equal(hasTsCheck('export const a = 1;\n// @ts-check\n'), false);
  assert.equal(hasTsCheck('// @ts-nocheck\n'), false);
  assert.equal(hasTsCheck('// @ts-checked\n'), false);
  assert.equal(hasTsCheck(''), false);
});

test('the coverage rule: unchecked modules must be listed, listed ones must be unchecked and exist', () => {
  const sources = new Map([
    ['tests/a.test.mjs', '// @ts-check\n'],
    ['tests/b.test.mjs', 'export {};\n'],
    ['public/c.js', 'export {};\n'],
    ['public/d.js', '// @ts-check\n'],
  ]);
  const ok = coverage(sources, ['tests/b.test.mjs', 'public/c.js']);
  assert.deepEqual(ok.problems, []);
  assert.deepEqual(
    ok.checked,
    ['tests/a.test.mjs', 'public/d.js'],
    'only checked modules are linted',
  );

  const bad = coverage(sources, ['public/c.js', 'public/d.js', 'public/gone.js', 'public/c.js']);
  assert.equal(bad.problems.length, 4, bad.problems.join('\n'));
  assert.match(bad.problems.join('\n'), /public\/gone\.js is not a JS module here/);
  assert.match(bad.problems.join('\n'), /public\/c\.js is listed twice/);
  assert.match(bad.problems.join('\n'), /tests\/b\.test\.mjs lacks \/\/ @ts-check/);
  assert.match(bad.problems.join('\n'), /public\/d\.js has \/\/ @ts-check: remove it/);
});

test('the allow-list ignores comments and blank lines', () => {
  assert.deepEqual(pendingList('# header\n\npublic/a.js\n  public/b.js  # why\n'), [
    'public/a.js',
    'public/b.js',
  ]);
});

test('this tree passes the coverage rule', () => {
  const files = jsModules();
  assert.ok(files.includes('tests/check-js.test.mjs'), 'the module list holds the tests');
  const read = (f) => readFileSync(new URL(`../${f}`, import.meta.url), 'utf8');
  const { problems } = coverage(new Map(files.map((f) => [f, read(f)])), pendingList());
  assert.deepEqual(problems, []);
});

test('every module in tests/, bench/ and scripts/ is checked: only public/ may still be pending', () => {
  const pending = pendingList();
  assert.deepEqual(
    pending.filter((f) => !f.startsWith('public/')),
    [],
    'a module outside public/ is listed in scripts/ts-check-pending.txt',
  );
});
