// Which repositories go into artifacts this run, and how they are grouped to stay under the job limit.
import type { RepositoryState } from '../state/state.js'

const DAY_MS = 24 * 3600_000

/**
 * Upload again well before the newest artifact expires: a quarter of the retention, at least a week
 * (a weekly schedule must still catch it), so a dormant repository never loses its only copy.
 */
export function refreshAfterDays(retentionDays: number): number {
  return Math.max(0, retentionDays - Math.max(7, Math.ceil(retentionDays / 4)))
}

/** True when the repository's newest artifact is missing, stale in content, or close to expiry. */
export function uploadDue(state: RepositoryState | undefined, retentionDays: number, now: Date) {
  const artifact = state?.artifact
  if (!state || !artifact) return true
  if (artifact.fingerprint !== state.fingerprint || artifact.lfs !== state.lfsComplete) return true
  const age = (now.getTime() - Date.parse(artifact.uploadedAt)) / DAY_MS
  return !(age < refreshAfterDays(Math.min(retentionDays, artifact.retentionDays)))
}

export interface Sized {
  key: string
  bytes: number
}

/** First-fit decreasing into bins of `capacity` (a repository larger than it gets a bin alone). */
function firstFitDecreasing(items: Sized[], capacity: number): Sized[][] {
  const bins: { items: Sized[]; bytes: number }[] = []
  for (const item of [...items].sort((a, b) => b.bytes - a.bytes || a.key.localeCompare(b.key))) {
    const bin = bins.find(candidate => candidate.bytes + item.bytes <= capacity)
    if (bin) {
      bin.items.push(item)
      bin.bytes += item.bytes
    } else bins.push({ items: [item], bytes: item.bytes })
  }
  return bins.map(bin => bin.items)
}

/** Repositories of at least `capacity` bytes go alone; smaller ones share bins of `capacity`. */
function packWithCapacity(items: Sized[], capacity: number): Sized[][] {
  const alone = items.filter(item => item.bytes >= capacity).map(item => [item])
  return [
    ...alone,
    ...firstFitDecreasing(
      items.filter(item => item.bytes < capacity),
      capacity
    )
  ]
}

/**
 * One artifact per repository while that fits; otherwise the smallest capacity whose packing fits
 * in `maxGroups`: large repositories stay alone and small ones share, so every repository comes
 * back by downloading one artifact not much larger than itself.
 */
export function groupForLimit(items: Sized[], maxGroups: number): Sized[][] {
  if (items.length <= maxGroups) return items.map(item => [item])
  const sized = items.map(item => ({ ...item, bytes: Math.max(1, item.bytes) }))
  const fits = (capacity: number) => packWithCapacity(sized, capacity).length <= maxGroups
  let low = 1
  // With a capacity above the total everything fits in one artifact, so the search always ends.
  let high = sized.reduce((sum, item) => sum + item.bytes, 0) + 1
  while (low < high) {
    const middle = Math.floor((low + high) / 2)
    if (fits(middle)) high = middle
    else low = middle + 1
  }
  while (!fits(low)) low *= 2
  const originals = new Map(items.map(item => [item.key, item]))
  return packWithCapacity(sized, low).map(group => group.map(item => originals.get(item.key)!))
}
