// The repositories a run works on: every workspace's listing, or, in a shard, the plan job's.
import type { BitbucketClient } from '../bitbucket/client.js'
import type { BitbucketRepository } from '../bitbucket/types.js'
import type { Settings } from '../settings/types.js'
import type { Log } from '../shared/log.js'
import { planDir } from '../shard/modes.js'
import { loadPlanListing } from '../shard/plan.js'
import { createActionsCache } from '../state/actions-cache.js'

/** Streams the repositories of every workspace, page by page. */
export async function* listedRepositories(
  settings: Settings,
  client: BitbucketClient
): AsyncGenerator<BitbucketRepository> {
  for (const workspace of settings.workspaces) {
    yield* client.listRepositories(workspace, { projects: settings.projects })
  }
}

/** A shard reads the plan job's listing: the whole matrix lists the workspace once. */
export async function* listForBackup(
  settings: Settings,
  client: BitbucketClient,
  log: Log
): AsyncGenerator<BitbucketRepository> {
  const planned = settings.shard
    ? await loadPlanListing(
        await createActionsCache(log, true),
        planDir(settings),
        settings.workspaces
      )
    : undefined
  if (planned) {
    log.info(`Read the plan's listing: ${planned.length} repositories, no REST listing needed.`)
    yield* planned
    return
  }
  if (settings.shard) {
    log.info('No plan listing in this run (mode: plan): this shard lists the workspace itself.')
  }
  yield* listedRepositories(settings, client)
}
