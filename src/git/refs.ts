// Which refs a pushed mirror gets, and how a server says no (in GitHub's words and others'): pure
// functions the push planner reads.

/** Never pushed: the backup's own history namespace, and GitHub's read-only pull request refs. */
const NOT_PUSHED = /^refs\/(backup|pull)\//

export function isPushableRef(ref: string): boolean {
  return ref.startsWith('refs/') && !NOT_PUSHED.test(ref) && !ref.endsWith('^{}')
}

/** One ref to set on the mirror (`oid`) or to delete from it (no `oid`). */
export interface RefUpdate {
  ref: string
  oid?: string
}

/** A true mirror: every differing ref is set, every ref upstream no longer has is deleted. */
export function planRefUpdates(
  local: ReadonlyMap<string, string>,
  remote: ReadonlyMap<string, string>,
  /** Refs mirrored too although isPushableRef leaves them out (e.g. the metadata archive). */
  alsoPush: readonly string[] = []
): RefUpdate[] {
  const pushed = (ref: string) => isPushableRef(ref) || alsoPush.includes(ref)
  const updates: RefUpdate[] = []
  for (const [ref, oid] of local) {
    if (pushed(ref) && remote.get(ref) !== oid) updates.push({ ref, oid })
  }
  for (const ref of remote.keys()) {
    if (pushed(ref) && !local.has(ref)) updates.push({ ref })
  }
  return updates
}

/** Parses `<oid> <ref>` lines (ls-remote uses a tab, for-each-ref a space we choose). */
export function parseRefLines(text: string): Map<string, string> {
  const refs = new Map<string, string>()
  for (const line of text.split('\n')) {
    const match = /^([0-9a-f]{40,64})\s+(\S.*)$/.exec(line.trim())
    if (match && match[2].startsWith('refs/') && !match[2].endsWith('^{}')) {
      refs.set(match[2], match[1])
    }
  }
  return refs
}

export function chunk<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = []
  for (let start = 0; start < items.length; start += size) {
    chunks.push(items.slice(start, start + size))
  }
  return chunks
}

/** Why a push was refused, as far as the mirror can do something about it. */
export type PushRefusal =
  | { kind: 'too-large' }
  | { kind: 'ref-limit'; limit: number | undefined }
  | { kind: 'large-files'; files: string[] }

/** Reads git's stderr: git's own pack limit, GH013's ref-count policy, GH001's file limit. */
export function classifyPushRefusal(stderr: string): PushRefusal | undefined {
  // A server may also refuse the body at the HTTP layer: git then reports the 413.
  if (/pack exceeds maximum allowed size|RPC failed; HTTP 413|returned error: 413/i.test(stderr)) {
    return { kind: 'too-large' }
  }
  const limit = /Pushes can ?not update more than (\d+) branch(?:es)? (?:or|and) tags?/i.exec(
    stderr
  )
  if (limit) return { kind: 'ref-limit', limit: Number(limit[1]) }
  // The push policy in other words: GH013 naming a count of branches or tags (halved when no number).
  if (/GH013/.test(stderr) && /\b(?:branches|tags|ref updates)\b/i.test(stderr)) {
    const stated = /(?:more than|at most|up to|limit(?: is|ed to)?:?) (\d+)/i.exec(stderr)
    return { kind: 'ref-limit', limit: stated ? Number(stated[1]) : undefined }
  }
  if (/GH001/.test(stderr)) {
    const files = [...stderr.matchAll(/File (.+?) is ([\d.]+ ?[KMG]?B)/g)].map(
      match => `${match[1]} (${match[2]})`
    )
    return { kind: 'large-files', files }
  }
  return undefined
}
