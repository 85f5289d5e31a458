#!/usr/bin/env bash
# Prints the state of the git work tree in the current directory: what `git status` shows
# (untracked files one by one, ignored files left out), then a hash of each listed file's
# content, so that a file already changed before a run that changes again differs too.
# scripts/test.sh compares it before and after `npm test`: a run must leave the tree as it
# found it. Prints nothing outside a git work tree (e.g. an unpacked release archive).
set -euo pipefail
git rev-parse --is-inside-work-tree >/dev/null 2>&1 || exit 0
git status --porcelain=v1 --untracked-files=all --no-renames
git status --porcelain=v1 --untracked-files=all --no-renames -z | tr '\0' '\n' | cut -c4- |
  while IFS= read -r f; do
    if [ -f "$f" ]; then echo "$(git hash-object -- "$f") $f"; fi
  done
