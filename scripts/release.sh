#!/usr/bin/env bash
# Cuts a release from a version tag, in the repository it runs in (.github/workflows/release.yml
# runs it on every tag vMAJOR.MINOR.PATCH; CONTRIBUTING.md says how to cut one):
#   1. refuses unless the tag points at HEAD, package.json has the tag's version, CHANGELOG.md has a
#      section for it, and the committed dist/ is exactly what a clean build produces (it builds and
#      compares; a stale dist/ is refused with one line, and the fresh build is left in dist/);
#   2. publishes the GitHub release of the tag with that CHANGELOG.md section as its notes (gh);
#   3. moves the major tag (v0 for v0.x.y) to the tagged commit and force-pushes it, unless a newer
#      release of that major exists.
#
# Usage: scripts/release.sh [--dry-run] [TAG]      (TAG defaults to GITHUB_REF_NAME)
#   --dry-run  print the release notes and the gh command instead of calling GitHub; the checks and
#              the git steps (moving and pushing the major tag) still run.
# Environment:
#   RELEASE_BUILD_COMMAND  the clean build to compare dist/ with (default: npm ci && npm run build)
#   RELEASE_REMOTE         where the major tag is pushed (default: origin)
#   GH_TOKEN               token gh creates the release with (not needed with --dry-run)
set -euo pipefail

usage() { sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; }
refuse() {
  echo "release: refused: $*" >&2
  exit 1
}

dry_run=false
tag=''
for arg in "$@"; do
  case $arg in
    --dry-run) dry_run=true ;;
    -h | --help) usage && exit 0 ;;
    -*) refuse "unknown option $arg (scripts/release.sh --help)" ;;
    *)
      [ -z "$tag" ] || refuse "one tag at a time, not $tag and $arg"
      tag=$arg
      ;;
  esac
done
tag=${tag:-${GITHUB_REF_NAME:-}}
[ -n "$tag" ] || refuse "no tag given: scripts/release.sh v1.2.3 (or GITHUB_REF_NAME)"
[[ $tag =~ ^v([0-9]+)\.([0-9]+)\.([0-9]+)$ ]] || refuse "$tag is not a release tag vMAJOR.MINOR.PATCH"
version=${tag#v}
major=v${BASH_REMATCH[1]}
build_command=${RELEASE_BUILD_COMMAND:-npm ci && npm run build}
remote=${RELEASE_REMOTE:-origin}

cd "$(git rev-parse --show-toplevel)"

# --- 1. Checks, cheapest first --------------------------------------------------------------------
commit=$(git rev-parse --verify --quiet "refs/tags/$tag^{commit}") ||
  refuse "tag $tag does not exist in this repository"
[ "$(git rev-parse HEAD)" = "$commit" ] ||
  refuse "HEAD is not $tag ($commit); check out the tag first"

package_version=$(node -p 'require("./package.json").version')
[ "$package_version" = "$version" ] ||
  refuse "package.json has version $package_version, the tag $tag says $version"

# The section under "## [X.Y.Z]" up to the next "## [" heading or the link definitions at the end,
# without its leading and trailing blank lines.
notes=$(awk -v heading="## [$version]" '
  /^## \[/ { if (inside) exit; if (index($0, heading) == 1) { inside = 1; next } }
  /^\[[^]]+\]: / { if (inside) exit }
  inside { lines[++n] = $0 }
  END {
    first = 1; while (first <= n && lines[first] ~ /^[[:space:]]*$/) first++
    last = n; while (last >= first && lines[last] ~ /^[[:space:]]*$/) last--
    for (i = first; i <= last; i++) print lines[i]
  }' CHANGELOG.md)
[ -n "$notes" ] || refuse "CHANGELOG.md has no section \"## [$version]\" with notes in it"
# GitHub shows every line break of release notes as one, so the hard-wrapped lines of a paragraph or
# a list item are joined (headings, list items, tables, quotes and code blocks keep their lines).
notes=$(awk '
  function flush() { if (held != "") print held; held = "" }
  /^[[:space:]]*```/ { flush(); print; code = !code; next }
  code { print; next }
  /^[[:space:]]*$/ { flush(); print; next }
  {
    text = $0; sub(/^[[:space:]]+/, "", text)
    if (held != "" && held !~ /^#/ && text !~ /^([-*+] |[0-9]+[.)] |#|\||>)/) held = held " " text
    else { flush(); held = $0 }
  }
  END { flush() }' <<<"$notes")

[ -z "$(git status --porcelain --untracked-files=all -- dist/)" ] ||
  refuse "dist/ has uncommitted changes; commit or discard them, the check compares a fresh build with the committed dist/"
build_log=$(mktemp)
trap 'rm -f "$build_log"' EXIT
echo "release: building ($build_command) to compare with the committed dist/"
# The build writes over dist/ but never removes a file: start empty, so a file the build no longer
# makes shows as deleted.
rm -rf dist
if ! bash -c "$build_command" >"$build_log" 2>&1; then
  tail -n 30 "$build_log" >&2
  refuse "the build ($build_command) failed; its last lines are above"
fi
stale=$(git status --porcelain --untracked-files=all -- dist/ | cut -c4-)
if [ -n "$stale" ]; then
  count=$(wc -l <<<"$stale" | tr -d ' ')
  refuse "dist/ is not what a clean build ($build_command) produces: $count file(s) differ ($(head -n 5 <<<"$stale" | paste -sd ' ')); the fresh build is in dist/: commit it and tag again"
fi
echo "release: dist/ is exactly what a clean build produces"

# --- 2. The GitHub release ------------------------------------------------------------------------
gh_create=(gh release create "$tag" --verify-tag --title "$tag" --notes-file)
if $dry_run; then
  echo "release: dry run: would run: ${gh_create[*]} <the notes below>"
  echo "----- release notes of $tag -----"
  printf '%s\n' "$notes"
  echo "----- end of release notes -----"
else
  [ -n "${GH_TOKEN:-}" ] || refuse "GH_TOKEN is not set (the release workflow passes github.token)"
  command -v gh >/dev/null || refuse "the GitHub CLI (gh) is not installed"
  if gh release view "$tag" >/dev/null 2>&1; then
    echo "release: the GitHub release $tag exists already (a re-run); it is left as it is"
  else
    notes_file=$(mktemp)
    trap 'rm -f "$build_log" "$notes_file"' EXIT
    printf '%s\n' "$notes" >"$notes_file"
    "${gh_create[@]}" "$notes_file"
    echo "release: published the GitHub release $tag"
  fi
fi

# --- 3. The major tag -----------------------------------------------------------------------------
newest=$(git tag --list "$major.*.*" --sort=-v:refname | grep -E "^$major\.[0-9]+\.[0-9]+$" | sed -n 1p)
if [ "$newest" != "$tag" ]; then
  echo "release: $major stays where it is: $newest is a newer release of $major than $tag"
  exit 0
fi
git tag --force "$major" "$commit" >/dev/null
git push --quiet --force "$remote" "refs/tags/$major:refs/tags/$major"
echo "release: $major now points at $tag ($commit) here and on $remote"
