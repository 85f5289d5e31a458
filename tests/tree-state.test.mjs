// @ts-check
// npm test ends by comparing the git tree with how it found it (scripts/test.sh, through
// scripts/tree-state.sh): a run that writes into the tree fails. The state must change for every
// kind of write a test could make, and only for those.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, appendFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const script = new URL('../scripts/tree-state.sh', import.meta.url).pathname;
const repo = mkdtempSync(join(tmpdir(), 'cti-tree-state-'));
after(() => rmSync(repo, { recursive: true, force: true }));

/** @param {string[]} args */
const git = (...args) => execFileSync('git', args, { cwd: repo, encoding: 'utf8' });
const state = () => execFileSync('bash', [script], { cwd: repo, encoding: 'utf8' });

test('the tree state changes with every write into the tree, and not with ignored files', () => {
  git('init', '-q');
  git('config', 'user.email', 'test@example.invalid');
  git('config', 'user.name', 'test');
  writeFileSync(join(repo, 'tracked.txt'), 'one\n');
  writeFileSync(join(repo, '.gitignore'), '/scratch/\n');
  git('add', '.');
  git('commit', '-qm', 'first');
  assert.equal(state(), '', 'a clean tree');

  mkdirSync(join(repo, 'scratch'));
  writeFileSync(join(repo, 'scratch', 'tmp.txt'), 'x');
  assert.equal(state(), '', 'ignored files do not count');

  const clean = state();
  appendFileSync(join(repo, 'tracked.txt'), 'two\n');
  const modified = state();
  assert.notEqual(modified, clean, 'a tracked file changed');
  assert.match(modified, /^ M tracked\.txt$/m);

  appendFileSync(join(repo, 'tracked.txt'), 'three\n');
  assert.notEqual(state(), modified, 'an already changed file changed again');

  const before = state();
  mkdirSync(join(repo, 'docs'));
  writeFileSync(join(repo, 'docs', 'shot.png'), 'png');
  const after = state();
  assert.notEqual(after, before, 'a new file in a new folder');
  assert.match(after, /^\?\? docs\/shot\.png$/m, 'untracked files are listed one by one');

  rmSync(join(repo, 'tracked.txt'));
  assert.match(state(), /^ D tracked\.txt$/m, 'a deleted file');
});

test('outside a git work tree it prints nothing (and does not fail)', () => {
  const plain = mkdtempSync(join(tmpdir(), 'cti-no-git-'));
  try {
    assert.equal(
      execFileSync('bash', [script], {
        cwd: plain,
        encoding: 'utf8',
        env: { ...process.env, GIT_CEILING_DIRECTORIES: tmpdir() },
      }),
      '',
    );
  } finally {
    rmSync(plain, { recursive: true, force: true });
  }
});
