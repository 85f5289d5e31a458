// @ts-check
// npm run check: the JavaScript checks `npm test` runs first.
//   1. every JS module under public/, tests/, bench/ and scripts/ starts with `// @ts-check`,
//      except the ones listed in scripts/ts-check-pending.txt (not converted yet; the list only
//      shrinks: an entry that names a missing file or a file already checked is an error too);
//   2. Biome's linter (biome.json) over every checked module;
//   3. the type check, `tsc -p .` (tsconfig.json: checkJs is off, so `// @ts-check` decides).
// All three run, so one run shows every finding; the exit status is 1 when any failed.
//   node scripts/check-js.mjs            all three
//   node scripts/check-js.mjs --coverage the first only (fast, no dependencies)
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const PENDING = 'scripts/ts-check-pending.txt';
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

/** The allow-list: one path per line; blank lines and `#` comments ignored. */
export function pendingList(text = readFileSync(join(root, PENDING), 'utf8')) {
  return text
    .split('\n')
    .map((l) => l.replace(/#.*/, '').trim())
    .filter(Boolean);
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
 * The coverage rule, pure: given each module's source and the allow-list, the problems found
 * (empty when fine) and the modules to lint.
 * @param {Map<string, string>} sources path → source, for every module
 * @param {string[]} pending
 * @returns {{ problems: string[], checked: string[] }}
 */
export function coverage(sources, pending) {
  const problems = [];
  const pendingSet = new Set(pending);
  for (const p of pending) {
    if (!sources.has(p)) problems.push(`${PENDING}: ${p} is not a JS module here: remove the line`);
  }
  const seen = new Set();
  for (const p of pending) {
    if (seen.has(p)) problems.push(`${PENDING}: ${p} is listed twice`);
    seen.add(p);
  }
  const checked = [];
  for (const [path, source] of sources) {
    const has = hasTsCheck(source);
    if (pendingSet.has(path)) {
      if (has) problems.push(`${path} has // @ts-check: remove it from ${PENDING}`);
    } else if (!has) {
      problems.push(
        `${path} lacks // @ts-check on its first line (type-check it, or list it in ${PENDING})`,
      );
    } else {
      checked.push(path);
    }
  }
  return { problems, checked };
}

function run(label, cmd, args) {
  console.log(`\n== ${label}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.error) console.error(`${label}: ${r.error.message}`);
  return r.status === 0;
}

function main() {
  const sources = new Map(jsModules().map((f) => [f, readFileSync(join(root, f), 'utf8')]));
  const { problems, checked } = coverage(sources, pendingList());
  console.log(
    `== // @ts-check: ${checked.length} modules checked, ${sources.size - checked.length} pending`,
  );
  for (const p of problems) console.error(`  ${p}`);
  let ok = problems.length === 0;
  if (process.argv.includes('--coverage')) process.exit(ok ? 0 : 1);

  const bin = (name) => join(root, 'node_modules', '.bin', name);
  // Biome lints only the checked modules: a pending one is converted (typed and linted) by the
  // same change that takes it off the list. Warnings fail the run as errors do.
  ok =
    run('biome lint', bin('biome'), [
      'lint',
      '--error-on-warnings',
      // Infos (style hints such as useTemplate) are left to `npm run lint`; warnings fail.
      '--diagnostic-level=warn',
      '--max-diagnostics=200',
      '--no-errors-on-unmatched',
      ...checked,
    ]) && ok;
  ok = run('tsc -p .', bin('tsc'), ['-p', '.']) && ok;
  if (!ok) {
    console.error('\nnpm run check: failed (see above)');
    process.exit(1);
  }
  console.log('\nnpm run check: ok');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
