// @ts-check
// The crate's layers and their one-way dependencies (issue 24): domain ← platform ← db ←
// {pipeline, resources} ← the entry points (lib.rs, console.rs). A module may use its own layer
// and those below it, never one above; the two middle siblings never use each other (the hub
// takes its SQL from db/, not from the console's handlers); and no module of src/ is part of an
// import cycle. Read from the source text: every `crate::…`, `super::…` and `self::…` path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const LEVEL = { domain: 0, platform: 1, db: 2, pipeline: 3, resources: 3, '': 4, console: 4 };

/** Every .rs file under src/ with its module path (`resources::customers::api`). */
function modules(dir = 'src', prefix = []) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...modules(path, [...prefix, name]));
    else if (name.endsWith('.rs')) {
      const own =
        name === 'mod.rs' || (prefix.length === 0 && name === 'lib.rs')
          ? prefix
          : [...prefix, name.slice(0, -3)];
      out.push({ path, mod: own.join('::'), isDirModule: name === 'mod.rs' || name === 'lib.rs' });
    }
  }
  return out;
}

const all = modules();
const known = new Set(all.map((m) => m.mod));

/** Source text without comments and string literals (SQL and docs name paths too). */
function code(path) {
  return readFileSync(path, 'utf8')
    .replace(/\/\/[^\n]*/g, '')
    .replace(/r#"[\s\S]*?"#/g, '""')
    .replace(/"(?:[^"\\]|\\[\s\S])*"/g, '""');
}

/** `a::{b, c::{d, e}}` → ['a::b', 'a::c::d', 'a::c::e'] (one path per leaf). */
function expand(path) {
  const open = path.indexOf('{');
  if (open < 0) return [path];
  let depth = 0;
  let close = open;
  for (; close < path.length; close++) {
    if (path[close] === '{') depth++;
    if (path[close] === '}' && --depth === 0) break;
  }
  const head = path.slice(0, open);
  const parts = [];
  let start = open + 1;
  depth = 0;
  for (let i = open + 1; i < close; i++) {
    if (path[i] === '{') depth++;
    if (path[i] === '}') depth--;
    if (path[i] === ',' && depth === 0) {
      parts.push(path.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(path.slice(start, close));
  return parts
    .map((p) => p.trim())
    .filter(Boolean)
    .flatMap((p) => expand(head + p));
}

/** The modules of src/ a module's code names, resolved to the longest known module path. */
function uses(m) {
  const src = code(m.path);
  const base = m.mod ? m.mod.split('::') : [];
  // In a file module (`a/b.rs`), `super` is `a`; in a folder module (`a/mod.rs`), its parent.
  const parentOf = (segs) => segs.slice(0, -1);
  const found = new Set();
  const paths =
    src.match(/\b(?:crate|super|self)(?:::(?:\{[^;]*?\}|[A-Za-z_][A-Za-z0-9_]*))+/g) ?? [];
  for (const raw of paths.flatMap((p) => expand(p.replace(/\s+/g, '')))) {
    let segs = raw.split('::');
    let at;
    if (segs[0] === 'crate') at = [];
    else if (segs[0] === 'self') at = base;
    else {
      at = base;
      while (segs[0] === 'super') {
        at = parentOf(at);
        segs = segs.slice(1);
      }
      segs = ['super', ...segs];
    }
    const rest = segs.slice(1).filter((s) => s !== 'self');
    let target = null;
    for (let n = rest.length; n >= 0; n--) {
      const candidate = [...at, ...rest.slice(0, n)].join('::');
      if (known.has(candidate)) {
        target = candidate;
        break;
      }
    }
    if (target !== null && target !== m.mod) found.add(target);
  }
  return found;
}

const layer = (mod) => mod.split('::')[0];
const graph = new Map(all.map((m) => [m.mod, uses(m)]));
const isAncestor = (a, b) => a === '' || b.startsWith(`${a}::`);

test('layers: nothing uses a layer above its own, and pipeline/ and resources/ never use each other', () => {
  const wrong = [];
  for (const [from, targets] of graph) {
    for (const to of targets) {
      if (isAncestor(from, to)) continue; // a folder module declaring or re-exporting its own
      const [a, b] = [layer(from), layer(to)];
      if (!(a in LEVEL) || !(b in LEVEL)) wrong.push(`${from} → ${to}: unknown layer`);
      else if (LEVEL[b] > LEVEL[a] || (LEVEL[a] === 3 && LEVEL[b] === 3 && a !== b))
        wrong.push(`${from} → ${to}`);
    }
  }
  assert.deepEqual(wrong, []);
});

test('no import cycle anywhere in src/', () => {
  const cycles = [];
  const state = new Map();
  const stack = [];
  const visit = (m) => {
    state.set(m, 'open');
    stack.push(m);
    for (const n of graph.get(m) ?? []) {
      if (isAncestor(m, n)) continue; // a folder module's own children are not imports
      if (state.get(n) === 'open') cycles.push([...stack.slice(stack.indexOf(n)), n].join(' → '));
      else if (!state.has(n)) visit(n);
    }
    stack.pop();
    state.set(m, 'done');
  };
  for (const m of graph.keys()) if (!state.has(m)) visit(m);
  assert.deepEqual(cycles, []);
});

test('the checks see what they check: a known edge of each kind is in the graph', () => {
  assert.ok(graph.get('pipeline::hub::pop').has('db::cards'), 'the hub reads cards from db/');
  assert.ok(
    graph.get('resources::customers::lookup').has('db::stores'),
    'the lookup reads the store table from db/',
  );
  assert.ok(graph.get('console').has('platform::hub_client'));
  assert.ok(graph.get('resources::accounts::auth').has('db::users'), '`use crate::db::users;`');
  assert.ok(
    graph.get('resources::customers::merge').has('resources::customers::api'),
    '`use super::api;`',
  );
});

/** The string literals of Rust source (comments, char literals and lifetimes skipped). */
function literals(src) {
  const out = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (c === '/' && src[i + 1] === '/') {
      const end = src.indexOf('\n', i);
      i = end < 0 ? src.length : end;
    } else if (c === '/' && src[i + 1] === '*') {
      const end = src.indexOf('*/', i + 2);
      i = end < 0 ? src.length : end + 2;
    } else if (
      (c === 'r' || (c === 'b' && src[i + 1] === 'r')) &&
      /^b?r#*"/.test(src.slice(i, i + 12)) &&
      !/[A-Za-z0-9_]/.test(src[i - 1] ?? '')
    ) {
      const open = /^b?r(#*)"/.exec(src.slice(i, i + 12));
      const hashes = open?.[1] ?? '';
      const start = i + (open?.[0].length ?? 0);
      const end = src.indexOf(`"${hashes}`, start);
      out.push(src.slice(start, end < 0 ? src.length : end));
      i = end < 0 ? src.length : end + 1 + hashes.length;
    } else if (c === '"') {
      let j = i + 1;
      while (j < src.length && src[j] !== '"') j += src[j] === '\\' ? 2 : 1;
      out.push(src.slice(i + 1, j));
      i = j + 1;
    } else if (c === "'") {
      const char = /^'(?:\\(?:u\{[0-9a-fA-F]+\}|x[0-9a-fA-F]{2}|.)|[^\\'])'/u.exec(
        src.slice(i, i + 12),
      );
      i += char ? char[0].length : 1;
    } else i++;
  }
  return out;
}

/** SQL text in a literal: a statement's verb, or a clause that binds a parameter. */
const SQL =
  /\b(?:SELECT\s|INSERT\s+(?:OR\s+\w+\s+)?INTO\b|REPLACE\s+INTO\b|UPDATE\s+\w+(?:\s+AS\s+\w+)?\s+SET\b|DELETE\s+FROM\b|CREATE\s+(?:UNIQUE\s+)?(?:TABLE|INDEX)\b|WHERE\b[^"]*\?\d|ORDER\s+BY\b|ON\s+CONFLICT\b)/;

test('SQL lives in src/db/: no handler under src/resources/ writes any', () => {
  // A handler validates, asks domain/access.rs, calls db/'s statement builders and answers;
  // the statements themselves (and a Durable Object's own tables) are db/'s (issue 24).
  const withSql = all
    .filter((m) => m.path.startsWith(join('src', 'resources')))
    .filter((m) => literals(readFileSync(m.path, 'utf8')).some((l) => SQL.test(l)))
    .map((m) => m.path.split('\\').join('/'));
  assert.deepEqual(withSql, []);
});

test('the SQL check sees what it checks', () => {
  const sql = (src) => literals(src).some((l) => SQL.test(l));
  assert.ok(sql('let q = "SELECT id FROM customers WHERE id = ?1";'));
  assert.ok(sql('db.prepare("DELETE FROM calls WHERE started_at < ?1")'));
  assert.ok(sql('format!("UPDATE customers AS c SET version = version + 1")'));
  assert.ok(sql('format!("{} WHERE k.id = ?1 AND {}", a, b)'));
  assert.ok(sql('let q = r#"INSERT OR IGNORE INTO notes (id) VALUES (?1)"#;'));
  assert.ok(!sql('// SELECT * FROM customers\nlet x = "select a store";'));
  assert.ok(!sql('let q = \'"\'; let s = "保存しました"; // DELETE FROM x'));
  assert.ok(!sql('/// `UPDATE customers SET …` in db/\nfn f() {}'));
  assert.ok(sql(readFileSync('src/db/cards.rs', 'utf8')), 'db/ holds the SQL');
});
