// The repositories a run works on: every workspace's listing, or, in a shard, the plan job's.
import type { BitbucketClient } from '../bitbucket/client.js'
import { BitbucketError } from '../bitbucket/errors.js'
import { listSnippets } from '../bitbucket/snippets.js'
import type { BitbucketRepository } from '../bitbucket/types.js'
import type { Settings } from '../settings/types.js'
import type { Log } from '../shared/log.js'
import { planDir } from '../shard/modes.js'
import { loadPlanListing } from '../shard/plan.js'
import { createActionsCache } from '../state/actions-cache.js'
import { coded } from '../shared/codes.js'

/** What a credential without the snippet scope is told, once per workspace. */
export const SNIPPET_SCOPES =
  'read:snippet:bitbucket (API tokens) or snippet (access tokens, OAuth)'

/**
 * A workspace's snippets after its repositories, when `metadata` asks for them. Snippets belong to
 * no project: a run narrowed to `projects` leaves them out, as it leaves out other projects.
 */
async function* workspaceSnippets(
  settings: Settings,
  client: BitbucketClient,
  workspace: string,
  log: Log,
  refused: Set<string>
): AsyncGenerator<BitbucketRepository> {
  if (!settings.metadata.kinds.includes('snippets')) return
  if (settings.projects.length > 0) {
    log.info(
      `${workspace}: snippets belong to no project, so a run narrowed to projects skips them.`
    )
    return
  }
  try {
    yield* listSnippets(client, settings.apiUrl, workspace)
  } catch (error) {
    // A missing scope costs the snippets, never the run: the repositories are backed up.
    if (!(error instanceof BitbucketError) || error.status !== 403) throw error
    refused.add(workspace)
    log.warning(
      coded(
        'MD403',
        `Snippets of ${workspace} were not backed up: Bitbucket refused to list them (HTTP 403); give the credential ${SNIPPET_SCOPES}, or leave snippets out of the metadata input.`
      )
    )
  }
}

/**
 * Streams the repositories of every workspace, page by page, and its snippets when asked.
 * @param snippetsRefused gets the workspaces whose snippets Bitbucket refused to list (HTTP 403)
 */
export async function* listedRepositories(
  settings: Settings,
  client: BitbucketClient,
  log: Log,
  snippetsRefused = new Set<string>()
): AsyncGenerator<BitbucketRepository> {
  for (const workspace of settings.workspaces) {
    yield* client.listRepositories(workspace, { projects: settings.projects })
    yield* workspaceSnippets(settings, client, workspace, log, snippetsRefused)
  }
}

/** A shard reads the plan job's listing: the whole matrix lists the workspace once. */
export async function* listForBackup(
  settings: Settings,
  client: BitbucketClient,
  log: Log,
  snippetsRefused = new Set<string>()
): AsyncGenerator<BitbucketRepository> {
  const planned = settings.shard
    ? await loadPlanListing(
        await createActionsCache(log, true),
        planDir(settings),
        settings.workspaces
      )
    : undefined
  if (planned) {
    log.info(
      `Read the plan's listing: ${planned.repositories.length} repositories, no REST listing needed.`
    )
    for (const workspace of planned.snippetsRefused ?? []) snippetsRefused.add(workspace)
    yield* planned.repositories
    return
  }
  if (settings.shard) {
    log.info('No plan listing in this run (mode: plan): this shard lists the workspace itself.')
  }
  yield* listedRepositories(settings, client, log, snippetsRefused)
}
