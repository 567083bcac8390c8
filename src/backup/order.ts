// What the run knows of a repository before it starts: its priority and the disk it will take.
import type { BitbucketRepository } from '../bitbucket/types.js'
import type { RepositoryState } from '../state/state.js'

/**
 * The order a run takes repositories in, as a transfer priority (highest first): never backed up,
 * then those compared with Bitbucket longest ago, so a run cut short by its time limit leaves the
 * freshest for later.
 */
export function backupPriority(prior: RepositoryState | undefined): number {
  if (!prior) return Number.MAX_SAFE_INTEGER
  const checked = Date.parse(prior.checkedAt ?? prior.lastBackupAt ?? '')
  return Number.isNaN(checked) ? Number.MAX_SAFE_INTEGER - 1 : -Math.floor(checked / 1000)
}

/** What a repository will take on disk: Bitbucket's size (git only), or what its mirror took last time. */
export function estimatedBytes(
  repository: BitbucketRepository,
  prior: RepositoryState | undefined
): number {
  return Math.max(repository.size || 0, prior?.bytes ?? 0)
}
