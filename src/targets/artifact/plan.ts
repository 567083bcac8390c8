// Which repositories go into artifacts this run, and whether each goes alone or into a group, decided
// one repository at a time so the job's artifact limit holds however many turn out to be due.
import { metadataCommitOf, type RepositoryState } from '../../state/state.js'
import { recordedProtection } from './protection.js'

const DAY_MS = 24 * 3600_000

/**
 * Upload again well before the newest artifact expires: a quarter of the retention, at least a week
 * (a weekly schedule must still catch it), so a dormant repository never loses its only copy.
 */
function refreshAfterDays(retentionDays: number): number {
  return Math.max(0, retentionDays - Math.max(7, Math.ceil(retentionDays / 4)))
}

/**
 * True when the repository's newest artifact is missing, stale in content (refs, LFS objects that
 * arrived since), protected otherwise than the settings now ask, or close to expiry.
 */
export function uploadDue(
  state: RepositoryState | undefined,
  retentionDays: number,
  now: Date,
  protection: string
): boolean {
  const artifact = state?.artifact
  if (!state || !artifact) return true
  if (artifact.fingerprint !== state.fingerprint || artifact.lfs !== state.lfsComplete) return true
  if (artifact.metadataCommit !== metadataCommitOf(state)) return true
  if ((artifact.lfsMissing ?? 0) !== (state.lfsMissing?.length ?? 0)) return true
  if (recordedProtection(artifact, protection) !== protection) return true
  const age = (now.getTime() - Date.parse(artifact.uploadedAt)) / DAY_MS
  return !(age < refreshAfterDays(Math.min(retentionDays, artifact.retentionDays)))
}

/** What is still to come in this run: repositories not finished yet and their estimated bytes. */
export interface Remaining {
  repositories: number
  bytes: number
}

export type Placement =
  { alone: true } | { alone: false; opensGroup: boolean; closesGroup: boolean }

/**
 * Places each due repository, as it comes, under a budget of `slots` artifacts. While every
 * repository still to come could have an artifact of its own, each does. Otherwise one group is
 * open at a time, its capacity the bytes still to come spread over the slots left (a repository of
 * at least that size goes alone), so the groups never outnumber the slots: each closed group or lone
 * repository takes at least its share of the bytes. `maxGroupBytes` keeps a group's staged files
 * within the disk while more than two slots are left.
 */
export function createSlotPlanner(slots: number, maxGroupBytes: number) {
  let used = 0
  let group: { capacity: number; bytes: number } | undefined
  return {
    place(estimate: number, remaining: Remaining): Placement {
      const free = slots - used
      if (
        remaining.repositories + 1 <= free ||
        (free >= 1 && group && estimate >= group.capacity)
      ) {
        used++
        return { alone: true }
      }
      let opensGroup = false
      if (!group) {
        const share = free >= 2 ? (remaining.bytes + estimate) / (free - 1) : Infinity
        if (estimate >= share) {
          used++
          return { alone: true }
        }
        group = { capacity: free > 2 ? Math.min(share, maxGroupBytes) : share, bytes: 0 }
        used++
        opensGroup = true
      }
      group.bytes += Math.max(1, estimate)
      const closesGroup = group.bytes >= group.capacity
      if (closesGroup) group = undefined
      return { alone: false, opensGroup, closesGroup }
    },
    /** The open group was uploaded early (the disk ran short): the next grouped one opens another. */
    closeGroup() {
      group = undefined
    },
    /** Artifacts used so far, the open group included. */
    get used() {
      return used
    }
  }
}

export type SlotPlanner = ReturnType<typeof createSlotPlanner>
