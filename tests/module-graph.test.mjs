// @ts-check
// The crate's module graph: domain/ holds the pure rules, so it imports nothing outside itself
// (no worker types, no platform, no SQL) and its modules have no import cycle (a cycle means
// two rules own each other; RowError and StoreRef were moved to break the last ones).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';

const DOMAIN = 'src/domain';
const modules = readdirSync(DOMAIN)
  .filter((f) => f.endsWith('.rs') && f !== 'mod.rs')
  .map((f) => f.slice(0, -3));

/** domain module -> the domain modules it uses (`crate::domain::x`, `super::x`). */
function graph() {
  const g = new Map();
  for (const m of modules) {
    const src = readFileSync(`${DOMAIN}/${m}.rs`, 'utf8');
    const uses = new Set();
    for (const [, x] of src.matchAll(/(?:crate::domain::|super::)([a-z_]+)/g))
      if (x !== m && modules.includes(x)) uses.add(x);
    g.set(m, uses);
  }
  return g;
}

test('domain/ imports nothing outside itself (pure rules, testable natively)', () => {
  const outside = [];
  for (const m of modules) {
    const src = readFileSync(`${DOMAIN}/${m}.rs`, 'utf8');
    for (const [line] of src.matchAll(
      /^\s*use (?:crate::(?:platform|pipeline|resources)|worker)\b.*$/gm,
    ))
      outside.push(`${m}: ${line.trim()}`);
  }
  assert.deepEqual(outside, []);
});

test('domain/ has no import cycle', () => {
  const g = graph();
  const cycles = [];
  const state = new Map();
  const stack = [];
  const visit = (m) => {
    state.set(m, 'open');
    stack.push(m);
    for (const n of g.get(m) ?? []) {
      if (state.get(n) === 'open') cycles.push([...stack.slice(stack.indexOf(n)), n].join(' → '));
      else if (!state.has(n)) visit(n);
    }
    stack.pop();
    state.set(m, 'done');
  };
  for (const m of modules) if (!state.has(m)) visit(m);
  assert.deepEqual(cycles, []);
});

/** Every module a page's entry scripts import, directly or not (relative imports only). */
function moduleGraph(entries) {
  const seen = new Set();
  const walk = (file) => {
    if (seen.has(file)) return;
    seen.add(file);
    const src = readFileSync(file, 'utf8');
    for (const [, a, b] of src.matchAll(
      /^(?:import|export)[^'"]*?from\s+['"](\.[^'"]+)['"]|^import\s+['"](\.[^'"]+)['"]/gm,
    )) {
      walk(
        new URL(a ?? b, `file://${process.cwd()}/${file}`).pathname.slice(process.cwd().length + 1),
      );
    }
  };
  for (const e of entries) walk(e);
  return seen;
}

test('the popup preloads every module it loads (no import-by-import waterfall before the name shows)', () => {
  const html = readFileSync('public/admin/popup/cti.html', 'utf8');
  const entries = [...html.matchAll(/<script type="module" src="\/([^"]+)"/g)].map(
    (m) => `public/${m[1]}`,
  );
  const preloaded = new Set(
    [...html.matchAll(/<link rel="modulepreload" href="\/([^"]+)"/g)].map((m) => `public/${m[1]}`),
  );
  const needed = [...moduleGraph(entries)].filter((f) => !entries.includes(f));
  assert.deepEqual(
    needed.filter((f) => !preloaded.has(f)),
    [],
    'modules loaded but not preloaded',
  );
  assert.deepEqual(
    [...preloaded].filter((f) => !needed.includes(f)),
    [],
    'preloaded but never loaded',
  );
});

test("the popup's first module shows the name with two small modules, asked for before the rest", () => {
  const html = readFileSync('public/admin/popup/cti.html', 'utf8');
  const scripts = [...html.matchAll(/<script type="module" src="\/([^"]+)"/g)].map(
    (m) => `public/${m[1]}`,
  );
  assert.equal(scripts[0], 'public/admin/popup/pop-card.js', 'pop-card.js is the first script');
  const first = [...moduleGraph([scripts[0]])].filter((f) => f !== scripts[0]).sort();
  assert.deepEqual(first, ['public/admin/lib/format.js', 'public/admin/lib/live-channel.js']);
  // Its modules are the first preloaded, and it is asked for before every other module.
  const preloads = [...html.matchAll(/<link rel="modulepreload" href="\/([^"]+)"/g)].map(
    (m) => `public/${m[1]}`,
  );
  assert.deepEqual(preloads.slice(0, first.length).sort(), first);
  assert.ok(html.indexOf('src="/admin/popup/pop-card.js"') < html.indexOf('rel="modulepreload"'));
});
