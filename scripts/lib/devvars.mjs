// @ts-check
// Reads KEY=value lines from .dev.vars (the git-ignored local secrets file).
import { readFileSync, existsSync } from 'node:fs';

export function devVars(path = '.dev.vars') {
  if (!existsSync(path)) return {};
  const out = {};
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const m = line.match(/^\s*([A-Z0-9_]+)\s*=\s*(.*?)\s*$/);
    if (m) out[m[1]] = m[2].replace(/^"(.*)"$/, '$1');
  }
  return out;
}
