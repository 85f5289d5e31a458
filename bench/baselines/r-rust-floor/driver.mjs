// @ts-check
// Baseline R: A's Worker and object written in Rust with the product's stack (src/lib.rs here,
// built by build.sh into build/, git-ignored), in the same workerd through Miniflare, sent
// exactly A's requests by A's driver. Its distance from A is what the stack costs before any
// pipeline work. Not in the default `npm run bench`: `node bench/run.mjs --only=a,r` (builds R
// first when build/ is missing here, ~1 min).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { baselineOptions, baselineLatency, baselineThroughput } from '../a-thinnest/driver.mjs';

const DIR = 'bench/baselines/r-rust-floor';

/** Miniflare options: A's, with R's module in place of A's script. */
export function rustFloorOptions() {
  return {
    ...baselineOptions(),
    scriptPath: `${DIR}/build/index.js`,
    modulesRules: [{ type: 'CompiledWasm', include: ['**/*.wasm'], fallthrough: true }],
  };
}

export const rustFloorBuilt = () => existsSync(`${DIR}/build/index.js`);

/** Builds R (release, the product's pinned toolchain) unless its build/ is there; output to stderr. */
export function ensureRustFloorBuilt(log) {
  if (rustFloorBuilt()) return;
  log(`  building baseline R (bash ${DIR}/build.sh, release; about a minute)`);
  execFileSync('bash', [`${DIR}/build.sh`], { stdio: ['ignore', 2, 2] });
  if (!rustFloorBuilt())
    throw new Error(`${DIR}/build.sh finished but ${DIR}/build/index.js is missing`);
}

export const rustFloorLatency = (o) =>
  baselineLatency({ ...o, options: rustFloorOptions, name: 'baseline R' });
export const rustFloorThroughput = (o) =>
  baselineThroughput({ ...o, options: rustFloorOptions, name: 'baseline R' });
