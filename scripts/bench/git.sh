#!/usr/bin/env bash
# The raw-git baselines `npm run bench` compares the action with (scripts/bench/measure.ts runs this):
#   floor: list with pagelen=100, then `git clone --mirror` + `git lfs fetch --all` for each
#          repository, CONCURRENCY at a time (xargs -P): the least a full backup can cost.
#   seed:  list with Bitbucket's default paging (10 a page), then `git clone --bare` +
#          `git lfs fetch --all`, one repository after another: the seed's first approach.
#   ls-remote: list with pagelen=100, then `git ls-remote` for each repository, CONCURRENCY at a
#          time: the least an incremental run that checks every repository's refs can cost.
# TRANSFER=action runs git with the action's transfer settings (protocol.version=0 and
# fetch.unpackLimit=1, see src/git/mirror.ts); unset, git's defaults (protocol v2).
# Environment: API_URL, WORKSPACE, REST_HEADER_FILE (a file holding the REST `Authorization: ...`
# header), GIT_ORIGIN, GIT_AUTHORIZATION (the git `Authorization` value, scoped to GIT_ORIGIN only,
# as the action scopes it), OUT_DIR, CONCURRENCY. Credentials stay out of process arguments.
set -euo pipefail

mode=${1:?usage: git.sh floor|seed|ls-remote}
export GIT_TERMINAL_PROMPT=0
export GIT_CONFIG_COUNT=2
export GIT_CONFIG_KEY_0=credential.helper GIT_CONFIG_VALUE_0=
export GIT_CONFIG_KEY_1="http.${GIT_ORIGIN}/.extraheader"
export GIT_CONFIG_VALUE_1="Authorization: ${GIT_AUTHORIZATION}"
if [ "${TRANSFER:-}" = action ]; then
  export GIT_CONFIG_COUNT=4
  export GIT_CONFIG_KEY_2=protocol.version GIT_CONFIG_VALUE_2=0
  export GIT_CONFIG_KEY_3=fetch.unpackLimit GIT_CONFIG_VALUE_3=1
fi
mkdir -p "$OUT_DIR"

# Prints each repository's full name, following `next` as an opaque URL until it is absent.
list() {
  local url=$1 page
  while [ -n "$url" ]; do
    page=$(curl -sSf -H @"$REST_HEADER_FILE" "$url")
    grep -o '"full_name": *"[^"]*"' <<<"$page" | sed 's/.*"\([^"]*\)"$/\1/'
    url=$(grep -o '"next": *"[^"]*"' <<<"$page" | sed 's/.*"\([^"]*\)"$/\1/' || true)
  done
}

backup_one() {
  local kind=$1 name=$2
  local dir="$OUT_DIR/$name.git"
  git clone "--$kind" -q "$GIT_ORIGIN/$name.git" "$dir"
  git -C "$dir" lfs fetch --all origin >/dev/null 2>&1
}
export -f backup_one

case "$mode" in
  floor)
    list "$API_URL/repositories/$WORKSPACE?pagelen=100&fields=values.full_name,next" |
      xargs -P "${CONCURRENCY:-8}" -I{} bash -c 'backup_one mirror "$1"' _ {}
    ;;
  seed)
    list "$API_URL/repositories/$WORKSPACE" | while read -r name; do
      backup_one bare "$name"
    done
    ;;
  ls-remote)
    list "$API_URL/repositories/$WORKSPACE?pagelen=100&fields=values.full_name,next" |
      xargs -P "${CONCURRENCY:-8}" -I{} git ls-remote -q "$GIT_ORIGIN/{}.git" >/dev/null
    ;;
  *)
    echo "scripts/bench/git.sh: unknown mode $mode" >&2
    exit 2
    ;;
esac
