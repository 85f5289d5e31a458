// @ts-check
// Applies migrations/*.sql to a D1 binding, in order, recording them like wrangler does
// (table d1_migrations), so `wrangler d1 migrations apply` and this agree on what is applied.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Splits a migration into statements: `--` comments dropped, `;` at a line end terminates. */
export function splitSql(text) {
  const out = [];
  let cur = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/--.*$/, '').trimEnd();
    if (!line.trim()) continue;
    cur.push(line);
    if (line.endsWith(';')) {
      out.push(cur.join('\n'));
      cur = [];
    }
  }
  if (cur.length) out.push(cur.join('\n'));
  return out;
}

export async function applyMigrations(db, dir = 'migrations') {
  await db
    .prepare(
      'CREATE TABLE IF NOT EXISTS d1_migrations (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE, applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL)',
    )
    .run();
  const done = new Set(
    (await db.prepare('SELECT name FROM d1_migrations').all()).results.map((r) => r.name),
  );
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort();
  for (const f of files) {
    if (done.has(f)) continue;
    const stmts = splitSql(readFileSync(join(dir, f), 'utf8')).map((s) => db.prepare(s));
    stmts.push(db.prepare('INSERT INTO d1_migrations (name) VALUES (?1)').bind(f));
    await db.batch(stmts);
  }
  return files;
}
