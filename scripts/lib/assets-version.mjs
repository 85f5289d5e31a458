// @ts-check
// The version of the console's static files (src/domain/assets.rs): a hash of every file
// under public/, its path and its bytes. The console serves its pages with their styles and
// scripts under /v/<this version>/, cached by the browser for good; any change in public/
// gives a new version, so a page never mixes an old file with a new one. Whatever starts or
// deploys the Workers passes it as the `ASSETS_VERSION` variable: scripts/start.sh,
// `npm run deploy`, the tests and the bench (tests/helpers/worker.mjs).
//
//   node scripts/lib/assets-version.mjs        prints it
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(fileURLToPath(import.meta.url), '../../..');

/** Every file under `dir`, sorted by path. */
function files(dir) {
  /** @type {string[]} */
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    // Followed as the upload follows them: a symbolic link counts as what it points to.
    const st = statSync(p);
    if (st.isDirectory()) out.push(...files(p));
    else if (st.isFile()) out.push(p);
  }
  return out.sort();
}

/** 16 hex digits of SHA-256 over `public/`'s paths and contents. */
export function assetsVersion(dir = join(ROOT, 'public')) {
  const h = createHash('sha256');
  for (const f of files(dir)) {
    h.update(relative(dir, f).split('\\').join('/'));
    h.update('\0');
    h.update(readFileSync(f));
    h.update('\0');
  }
  return h.digest('hex').slice(0, 16);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  console.log(assetsVersion());
}
