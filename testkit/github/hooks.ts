// The pre-receive hook each repository of the local GitHub runs: GitHub's push policy ("limit how
// many branches and tags can be updated in a single push", GH013), its file size limit (GH001) and
// its check that every pushed LFS pointer's object was uploaded first (GH008), reported in the words
// GitHub's own hooks use. Real git runs it, inside the push's quarantine.
import * as fs from 'node:fs'
import * as path from 'node:path'

export interface HookLimits {
  maxFileBytes?: number
  maxRefUpdatesPerPush?: number
}

export interface HookSettings {
  limits: HookLimits
  /** `.../{owner}/{name}/rules`, named by GH013. */
  rulesUrl: string
  /** Where the repository's LFS objects are kept; unset skips the GH008 check. */
  lfsDir?: string
}

const shellQuote = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`

/** The hook script; a limit of 0 (or none) is not enforced. */
export function preReceiveHook({ limits, rulesUrl, lfsDir }: HookSettings): string {
  const maxRefs = Math.max(0, Math.floor(limits.maxRefUpdatesPerPush ?? 0))
  const maxFile = Math.max(0, Math.floor(limits.maxFileBytes ?? 0))
  return `#!/bin/sh
# Written by the local GitHub: push policy (GH013), file size limit (GH001), LFS objects (GH008).
max_refs=${maxRefs}
max_file=${maxFile}
rules_url=${shellQuote(rulesUrl)}
lfs_dir=${shellQuote(lfsDir ?? '')}
updates=$(cat)
count=$(printf '%s\\n' "$updates" | grep -c .)

if [ "$max_refs" -gt 0 ] && [ "$count" -gt "$max_refs" ]; then
  printf '%s\\n' "$updates" | while read -r old new ref; do
    encoded=$(printf '%s' "$ref" | sed 's|/|%2F|g')
    echo "error: GH013: Repository rule violations found for $ref."
    echo "Review all repository rules at $rules_url?ref=$encoded"
    echo ""
    echo "- Pushes can not update more than $max_refs branches or tags."
    echo ""
  done >&2
  exit 1
fi

# New tips only (a deletion's new id is all zeros); objects already reachable are not checked again.
tips=$(printf '%s\\n' "$updates" | while read -r old new ref; do
  case "$new" in *[!0]*) echo "$new" ;; esac
done)

if [ "$max_file" -gt 0 ] && [ -n "$tips" ]; then
  large=$(git rev-list --objects $tips --not --all |
    git cat-file --batch-check='%(objecttype) %(objectsize) %(rest)' |
    awk -v max="$max_file" -v who="GitHub's" '$1 == "blob" && $2 + 0 > max + 0 {
      file = $0
      sub(/^[^ ]+ [^ ]+ /, "", file)
      printf "error: File %s is %.2f MB; this exceeds %s file size limit of %.2f MB\\n", file, $2 / 1048576, who, max / 1048576
    }')
  if [ -n "$large" ]; then
    trace=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \\n')
    {
      echo "error: Trace: $trace"
      echo "error: See https://gh.io/lfs for more information."
      printf '%s\\n' "$large"
      echo "error: GH001: Large files detected. You may want to try Git Large File Storage - https://git-lfs.github.com."
    } >&2
    exit 1
  fi
fi

if [ -n "$lfs_dir" ] && [ -n "$tips" ]; then
  # Blobs small enough to be LFS pointers, read whole; the oid of each pointer whose object is missing.
  missing=$(git rev-list --objects $tips --not --all |
    git cat-file --batch-check='%(objecttype) %(objectname) %(objectsize) %(rest)' |
    awk '$1 == "blob" && $3 + 0 < 1024 { print $2 }' |
    git cat-file --batch |
    awk '$0 == "version https://git-lfs.github.com/spec/v1" { pointer = 1; next }
      pointer && /^oid sha256:[0-9a-f]+$/ && length($0) == 75 { print substr($0, 12) }
      { pointer = 0 }' |
    sort -u | while read -r oid; do
      [ -f "$lfs_dir/$oid" ] || echo "$oid"
    done)
  if [ -n "$missing" ]; then
    count=$(printf '%s\\n' "$missing" | grep -c .)
    noun=objects
    [ "$count" -eq 1 ] && noun=object
    {
      echo "error: GH008: Your push referenced at least $count unknown Git LFS $noun:"
      printf '%s\\n' "$missing" | head -n 3 | sed 's/^/    /'
      [ "$count" -gt 3 ] && echo "    ..."
      echo "Try to push them with 'git lfs push --all'."
    } >&2
    exit 1
  fi
fi
exit 0
`
}

export function installPreReceiveHook(gitDir: string, settings: HookSettings): void {
  const hooks = path.join(gitDir, 'hooks')
  fs.mkdirSync(hooks, { recursive: true })
  const file = path.join(hooks, 'pre-receive')
  fs.writeFileSync(file, preReceiveHook(settings))
  fs.chmodSync(file, 0o755)
}
