// What the run knows of a repository before it starts: its priority and the disk it will take.
import type { BitbucketRepository } from '../bitbucket/types.js'
import type { RepositoryState } from '../state/state.js'

/** Above every backed-up repository's priority (a negated time in seconds). */
const NEVER_BACKED_UP = 1e15

/**
 * The order a run takes repositories in, as a transfer priority (highest first): never backed up
 * first, largest first among them (a large one started last would finish alone, long after the
 * rest), then those compared with Bitbucket longest ago, so a run cut short by its time limit
 * leaves the freshest for later.
 */
export function backupPriority(prior: RepositoryState | undefined, plannedBytes = 0): number {
  if (!prior) return NEVER_BACKED_UP + Math.min(Math.max(0, plannedBytes), 1e14)
  const checked = Date.parse(prior.checkedAt ?? prior.lastBackupAt ?? '')
  return Number.isNaN(checked) ? NEVER_BACKED_UP - 1 : -Math.floor(checked / 1000)
}

/** What a repository will take on disk: Bitbucket's size (git only), or what its mirror took last time. */
export function estimatedBytes(
  repository: BitbucketRepository,
  prior: RepositoryState | undefined
): number {
  return Math.max(repository.size || 0, prior?.bytes ?? 0)
}
