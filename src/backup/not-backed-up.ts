// Results for the repositories a run did not back up: those the listing no longer returns (their
// backup kept) and those a cancelled run had not finished (deferred to the next run).
import { isSnippetSlug } from '../bitbucket/snippets.js'
import { resultBase, type RepositoryResult } from '../report/results.js'
import type { Settings } from '../settings/types.js'
import { inShard } from '../shard/plan.js'
import type { WorkspaceState } from '../state/state.js'
import { INTERRUPTED, type RepositoryRun } from './pipeline.js'

/** Repositories in the state that the listing no longer returns: their backup is kept, never deleted. */
export function noLongerListed(
  settings: Settings,
  states: WorkspaceState[],
  seen: Set<string>,
  isSelected: (slug: string) => boolean,
  snippetsRefused: ReadonlySet<string>
): RepositoryResult[] {
  return states.flatMap(state =>
    Object.values(state.repositories)
      .filter(prior => !seen.has(prior.uuid) && isSelected(prior.slug))
      // Snippets not asked for, or refused, were not listed: that says nothing about them.
      .filter(
        prior =>
          !isSnippetSlug(prior.slug) ||
          (settings.metadata.kinds.includes('snippets') && !snippetsRefused.has(prior.workspace))
      )
      .filter(prior => inShard(prior.uuid, settings.shard))
      .filter(
        prior => !settings.projects.length || settings.projects.includes(prior.projectKey ?? '')
      )
      .map(prior => ({
        workspace: prior.workspace,
        slug: prior.slug,
        uuid: prior.uuid,
        status: 'no-longer-listed' as const,
        detail: `not in the listing any more; the backup of ${prior.lastBackupAt} is kept`,
        refs: prior.refs,
        lfsObjects: prior.lfsObjects,
        bytes: prior.bytes
      }))
  )
}

/** Repositories without a result yet when a cancelled run reports. */
export function unfinished(
  items: RepositoryRun[],
  results: RepositoryResult[]
): RepositoryResult[] {
  const reported = new Set(results.map(result => result.uuid))
  return items
    .filter(item => !reported.has(item.repository.uuid))
    .map(item => ({
      ...resultBase(item.repository),
      status: 'deferred' as const,
      detail: INTERRUPTED
    }))
}
