#!/usr/bin/env bash
# Raw git's floor for a restore (scripts/bench/restore.ts runs it): every mirror `<slug>.git` in
# FROM_DIR (a workspace folder of a backup directory) into a fresh bare repository OUT_DIR/<slug>.git:
# `git init --bare`, `git push --mirror` into it, and a copy of the mirror's LFS objects
# (lfs/objects/...), CONCURRENCY at a time (xargs -P). Nothing is checked: the least a restore can cost.
# KEEP_PACK=1 keeps each pushed pack whole (receive.unpackLimit=1), as the action does for a local path.
set -euo pipefail

export GIT_TERMINAL_PROMPT=0
: "${FROM_DIR:?}" "${OUT_DIR:?}"
export OUT_DIR
mkdir -p "$OUT_DIR"

restore_one() {
  local mirror=$1
  local dest
  dest="$OUT_DIR/$(basename "$mirror")"
  git init -q --bare "$dest"
  if [ -n "${KEEP_PACK:-}" ]; then
    git -C "$mirror" push -q --receive-pack='git -c receive.unpackLimit=1 receive-pack' --mirror "$dest"
  else
    git -C "$mirror" push -q --mirror "$dest"
  fi
  if [ -d "$mirror/lfs/objects" ]; then
    mkdir -p "$dest/lfs"
    cp -R "$mirror/lfs/objects" "$dest/lfs/"
  fi
}
export -f restore_one

find "$FROM_DIR" -mindepth 1 -maxdepth 1 -type d -name '*.git' -print0 |
  xargs -0 -P "${CONCURRENCY:-8}" -I{} bash -c 'restore_one "$1"' _ {}
