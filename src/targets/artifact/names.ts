// Artifact names: unique within a run (names are immutable), readable, and never mistaken for the index.
import type { ArtifactSettings } from '../../settings/types.js'
import { bareUuid } from '../../state/store.js'

export const INDEX_ARTIFACT = 'bitbucket-backup-index'

const GROUP_NAME = /^bitbucket-(shard-.+-)?group-\d{3}$/

/** Re-run attempts get their own suffix: an attempt cannot reuse the names of the one before. */
export function artifactName(base: string, settings: ArtifactSettings): string {
  return settings.runAttempt !== '1' ? `${base}-attempt-${settings.runAttempt}` : base
}

/**
 * `bitbucket-<workspace>-<slug>`, unless that is taken in this run (workspace `a-b` with `c` and `a`
 * with `b-c`) or reads as the index or a group: then the uuid's first characters tell them apart.
 */
export function singleName(
  repository: { workspace: string; slug: string; uuid: string },
  taken: Set<string>
) {
  let name = `bitbucket-${repository.workspace}-${repository.slug}`
  if (taken.has(name) || name.startsWith(INDEX_ARTIFACT) || GROUP_NAME.test(name)) {
    name = `${name}-${bareUuid(repository.uuid).slice(0, 8)}`
  }
  taken.add(name)
  return name
}

/** `bitbucket-group-007`, or `bitbucket-shard-2of4-group-007` in a matrix. */
export function groupName(number: number, settings: ArtifactSettings): string {
  const shard = settings.shard ? `shard-${settings.shard}-` : ''
  return `bitbucket-${shard}group-${String(number).padStart(3, '0')}`
}
