// @ts-check
// The console's pages share their head and header (issue 24): one list of pages
// (public/admin/lib/pages.js) drives the nav, lib/header.js renders the header on every page,
// and each page's HTML keeps only what is its own: its title, its entry module, its own
// stylesheet. Static checks on the files; the browser tests drive the rendered header.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { PAGES, visibleTo } from '../public/admin/lib/pages.js';

const ADMIN = 'public/admin';
const fileOf = (/** @type {string} */ href) =>
  `${ADMIN}/${href.replace(/^\/admin\//, '') || 'index.html'}`;
const html = (/** @type {string} */ href) => readFileSync(fileOf(href), 'utf8');
/** The page's `<head>` lines, trimmed. */
const headLines = (/** @type {string} */ href) =>
  html(href)
    .split('</head>')[0]
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);

test('every console page is in the one list of pages, and every listed page exists', () => {
  const files = readdirSync(ADMIN)
    .filter((f) => f.endsWith('.html'))
    .map((f) => `${ADMIN}/${f}`)
    .sort();
  assert.deepEqual(PAGES.map((p) => fileOf(p.href)).sort(), files);
  const labels = PAGES.map((p) => p.label);
  assert.equal(new Set(labels).size, labels.length, 'nav labels are unique');
  assert.deepEqual(labels, [
    '着信',
    '顧客',
    '店舗',
    '着信履歴',
    '折り返し',
    '着信分析',
    '設定',
    'アカウント',
    '操作履歴',
  ]);
});

test('who sees a page in the nav: アカウント and 操作履歴 are for admins, the rest for everyone', () => {
  for (const page of PAGES) {
    assert.equal(visibleTo(page, 'admin'), true, page.label);
    assert.equal(
      visibleTo(page, 'staff'),
      !['アカウント', '操作履歴'].includes(page.label),
      page.label,
    );
    assert.equal(visibleTo(page, 'nobody'), false, page.label);
  }
});

test('a page holds no header markup and no copied stylesheet list: only its title, one stylesheet and one module', () => {
  for (const { href, label } of PAGES) {
    const source = html(href);
    assert.doesNotMatch(source, /<header\b/, `${href}: the header is rendered by lib/header.js`);
    const head = headLines(href);
    assert.deepEqual(head.slice(0, 5), [
      '<!doctype html>',
      '<html lang="ja">',
      '<head>',
      '<meta charset="utf-8">',
      '<meta name="viewport" content="width=device-width, initial-scale=1">',
    ]);
    const title = head.find((l) => l.startsWith('<title>'));
    assert.ok(
      title?.includes(href === '/admin/' ? 'CTI コンソール' : `${label} - CTI コンソール`),
      `${href}: ${title}`,
    );
    assert.ok(
      !head.some((l) => l.startsWith('<link rel="icon"')),
      `${href}: the favicon is linked by lib/header.js`,
    );
    const sheets = head.filter((l) => l.startsWith('<link rel="stylesheet"'));
    const modules = head.filter((l) => l.startsWith('<script'));
    assert.equal(modules.length, 1, `${href}: one entry module (it imports the rest)`);
    if (href === '/admin/') continue; // the console: no record styles (records.css restyles every select)
    assert.deepEqual(
      sheets,
      ['<link rel="stylesheet" href="/admin/pages.css">'],
      `${href}: the shared styles alone`,
    );
  }
});

test('every page starts with the shared header module and carries no inline script, style or handler', () => {
  for (const { href } of PAGES) {
    const source = html(href);
    const entries = [
      ...source.matchAll(/<script type="module" src="\/admin\/([^"]+)"><\/script>/g),
    ].map((m) => m[1]);
    assert.ok(entries.length >= 1, `${href} has an entry module`);
    const first = readFileSync(`${ADMIN}/${entries[0]}`, 'utf8');
    const imports = [...first.matchAll(/^import\s+(?:[^'"]*from\s+)?'([^']+)'/gm)].map((m) => m[1]);
    assert.equal(imports[0], './lib/header.js', `${entries[0]} imports the header first`);
    assert.doesNotMatch(source, /<script(?![^>]*\bsrc=)[^>]*>/, `${href}: no inline script`);
    assert.doesNotMatch(
      source,
      /<style\b|\sstyle="|\son[a-z]+="/,
      `${href}: no inline style or handler`,
    );
  }
});

test("pages.css is the one list of the record pages' stylesheets", () => {
  const css = readFileSync(`${ADMIN}/pages.css`, 'utf8');
  const imported = [...css.matchAll(/@import url\("([^"]+)"\);/g)].map((m) => m[1]);
  assert.deepEqual(imported, ['style.css', 'records.css', 'front-desk.css', 'reports.css']);
  for (const f of imported) readFileSync(`${ADMIN}/${f}`); // each exists
});

test('the customer name fields are defined once (lib/name-fields.js): the forms hold only where they go', () => {
  const forms = {
    [`${ADMIN}/customers.html`]: ['edit', 'create'],
    [`${ADMIN}/popup/cti.html`]: ['reg'],
  };
  for (const [file, prefixes] of Object.entries(forms)) {
    const source = readFileSync(file, 'utf8');
    for (const p of prefixes)
      assert.match(
        source,
        new RegExp(`<div data-name-fields="${p}" hidden></div>`),
        `${file}: ${p}`,
      );
    assert.doesNotMatch(source, /name="(name|kana)"/, `${file}: no copy of the fields`);
  }
  const module = readFileSync(`${ADMIN}/lib/name-fields.js`, 'utf8');
  assert.match(module, /field\('氏名'/);
  assert.match(module, /field\('フリガナ'/);
  for (const [file, prefixes] of Object.entries(forms)) {
    const source = readFileSync(file, 'utf8');
    for (const p of prefixes) {
      assert.match(
        source,
        new RegExp(`<div data-memo-field="${p}"[^>]*hidden></div>`),
        `${file}: ${p} メモ`,
      );
      assert.doesNotMatch(
        source,
        new RegExp(`id="${p}-memo"`),
        `${file}: no copy of the ${p} メモ field`,
      );
    }
  }
});

test("the repeated form parts are defined once (lib/form-parts.js): 開始日・終了日, a form's error, status and submit, a dialog's buttons", () => {
  const dateRange = ['audit.html', 'calls.html'];
  const saveLines = { 'accounts.html': ['add', 'dialpad-link'], 'stores.html': ['add', 'hours'] };
  for (const f of dateRange) {
    const source = readFileSync(`${ADMIN}/${f}`, 'utf8');
    assert.match(source, /<div data-date-range hidden><\/div>/, f);
    assert.doesNotMatch(source, /type="date"/, `${f}: no copy of the date fields`);
  }
  for (const [f, prefixes] of Object.entries(saveLines)) {
    const source = readFileSync(`${ADMIN}/${f}`, 'utf8');
    for (const p of prefixes)
      assert.match(
        source,
        new RegExp(
          `<div data-save-line="${p}" data-submit="[^"]+"( data-admin-only)? hidden></div>`,
        ),
        `${f}: ${p}`,
      );
  }
  const customers = readFileSync(`${ADMIN}/customers.html`, 'utf8');
  for (const p of ['create', 'delete', 'merge'])
    assert.match(
      customers,
      new RegExp(`<div data-actions="${p}" [^>]*hidden></div>`),
      `customers.html: ${p}`,
    );
  assert.doesNotMatch(
    customers,
    /id="(create|delete|merge)-cancel"/,
    'customers.html: no copy of the dialog buttons',
  );
  for (const f of [...dateRange, ...Object.keys(saveLines), 'customers.html']) {
    const entry = readFileSync(`${ADMIN}/${f.replace('.html', '.js')}`, 'utf8');
    const imports = [...entry.matchAll(/^import\s+(?:[^'"]*from\s+)?'([^']+)'/gm)].map((m) => m[1]);
    const at = imports.indexOf('./lib/form-parts.js');
    assert.ok(at > 0, `${f} imports lib/form-parts.js`);
    assert.ok(
      imports.slice(0, at).every((m) => m.startsWith('./lib/')),
      `${f}: the parts are in place before the page's own modules look them up`,
    );
  }
});

test('the record tables are built from their columns (lib/record-table.js): the pages hold only where they go', () => {
  const pages = {
    'customers.html': 'customers.js',
    'calls.html': 'calls.js',
    'callbacks.html': 'callbacks.js',
    'audit.html': 'audit.js',
    'stores.html': 'stores.js',
    'accounts.html': 'accounts.js',
    'index.html': 'console/call-list.js',
  };
  for (const [page, module] of Object.entries(pages)) {
    const source = readFileSync(`${ADMIN}/${page}`, 'utf8');
    assert.match(source, /<div data-record-table hidden><\/div>/, page);
    assert.doesNotMatch(
      source,
      /class="table-wrap"|<table class="(records|calls)/,
      `${page}: no copy of the table markup`,
    );
    assert.match(
      readFileSync(`${ADMIN}/${module}`, 'utf8'),
      /recordTable\(\$\('\[data-record-table\]'\)/,
      `${module} builds it`,
    );
  }
});
