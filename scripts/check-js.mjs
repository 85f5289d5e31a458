// @ts-check
// npm run check: the JavaScript checks `npm test` runs first.
//   1. every JS module under public/, tests/, bench/ and scripts/ (tracked, or new and not
//      ignored) starts with `// @ts-check`: tsc checks exactly those files;
//   2. Biome's linter (biome.jsonc) over those modules;
//   3. Biome's formatter, checking only: a module `npm run format` would change fails;
//   4. the type check, `tsc -p .` (tsconfig.json: checkJs is off, so `// @ts-check` decides).
// All four run, so one run shows every finding; the exit status is 1 when any failed.
//   node scripts/check-js.mjs            all four
//   node scripts/check-js.mjs --coverage the first only (fast, no dependencies)
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const DIRS = ['public', 'tests', 'bench', 'scripts'];

/** The JS modules the checks cover: tracked or new (not ignored) .js/.mjs files in DIRS. */
export function jsModules() {
  const r = spawnSync(
    'git',
    ['ls-files', '--cached', '--others', '--exclude-standard', '-z', '--', ...DIRS],
    { cwd: root, encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`git ls-files failed: ${r.stderr}`);
  return r.stdout
    .split('\0')
    .filter((f) => /\.m?js$/.test(f) && existsSync(join(root, f)))
    .sort();
}

/** True when the module's first comment lines (after a shebang) hold `// @ts-check`. */
export function hasTsCheck(source) {
  for (const line of source.split('\n')) {
    const t = line.trim();
    if (t.startsWith('#!') || t === '') continue;
    if (/^\/\/\s*@ts-check\b/.test(t)) return true;
    if (!t.startsWith('//')) return false;
  }
  return false;
}

/**
 * The coverage rule, pure: the modules (of `sources`, path → source) without `// @ts-check`.
 * @param {Map<string, string>} sources
 * @returns {string[]}
 */
export function unchecked(sources) {
  return [...sources].filter(([, source]) => !hasTsCheck(source)).map(([path]) => path);
}

function run(label, cmd, args) {
  console.log(`\n== ${label}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.error) console.error(`${label}: ${r.error.message}`);
  return r.status === 0;
}

function main() {
  const sources = new Map(jsModules().map((f) => [f, readFileSync(join(root, f), 'utf8')]));
  const missing = unchecked(sources);
  console.log(`== // @ts-check: ${sources.size - missing.length} of ${sources.size} modules`);
  for (const path of missing) {
    console.error(`  ${path} lacks // @ts-check on its first line: add it and make tsc pass`);
  }
  let ok = missing.length === 0;
  if (process.argv.includes('--coverage')) process.exit(ok ? 0 : 1);

  const bin = (name) => join(root, 'node_modules', '.bin', name);
  // The files biome.jsonc names (the same modules). Warnings fail the run as errors do; infos
  // (style hints such as useTemplate) are left to `npm run lint`.
  ok =
    run('biome lint', bin('biome'), [
      'lint',
      '--error-on-warnings',
      '--diagnostic-level=warn',
      '--max-diagnostics=200',
    ]) && ok;
  // Writes nothing: prints what it would change (fix with `npm run format`).
  ok =
    run('biome format (npm run format fixes it)', bin('biome'), [
      'format',
      '--max-diagnostics=20',
    ]) && ok;
  ok = run('tsc -p .', bin('tsc'), ['-p', '.']) && ok;
  if (!ok) {
    console.error('\nnpm run check: failed (see above)');
    process.exit(1);
  }
  console.log('\nnpm run check: ok');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
