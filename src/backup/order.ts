// The order a run takes repositories in: those never backed up first, then those compared with
// Bitbucket longest ago, so a run cut short by its time limit leaves the freshest for later.
import type { BitbucketRepository } from '../bitbucket/types.js'
import type { RepositoryState } from '../state/state.js'

/** When the backup was last compared with Bitbucket ('' for never). */
function lastChecked(prior: RepositoryState | undefined): string {
  return prior ? (prior.checkedAt ?? prior.lastBackupAt ?? '') : ''
}

export function inBackupOrder<
  T extends { repository: BitbucketRepository; prior?: RepositoryState }
>(items: T[]): T[] {
  return items
    .map((item, index) => ({ item, index, checked: lastChecked(item.prior) }))
    .sort(
      (a, b) =>
        Number(a.item.prior !== undefined) - Number(b.item.prior !== undefined) ||
        (a.checked < b.checked ? -1 : a.checked > b.checked ? 1 : 0) ||
        a.index - b.index
    )
    .map(entry => entry.item)
}

/** What a repository will take on disk: Bitbucket's size (git only), or what its mirror took last time. */
export function estimatedBytes(
  repository: BitbucketRepository,
  prior: RepositoryState | undefined
): number {
  return Math.max(repository.size || 0, prior?.bytes ?? 0)
}
