// The two jobs around a sharded matrix: `plan` lists once and outputs the matrix; `index` writes the
// one artifact index that points at every shard's index, so a restore finds any repository.
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { INDEX_ARTIFACT } from '../targets/artifact/names.js'
import type { ArtifactUploader } from '../targets/artifact/uploader.js'
import type { BitbucketRepository } from '../bitbucket/types.js'
import { formatBytes } from '../shared/format.js'
import type { Log } from '../shared/log.js'
import { resultBase, type RepositoryResult } from '../report/results.js'
import type { Settings } from '../settings/types.js'
import { createActionsCache } from '../state/actions-cache.js'
import { cacheRoot } from '../state/store.js'
import { savePlanListing, shardOf } from './plan.js'
import { coded } from '../shared/codes.js'

/** Under the cache root, at the same relative path for the plan job and every shard. */
export function planDir(settings: Settings): string {
  return path.join(cacheRoot(settings), '.bitbucket-backup-plan')
}

/** Lists every workspace once and saves the listing for the shards (the entry outputs the matrix). */
export async function runPlan(
  settings: Settings,
  listing: AsyncIterable<BitbucketRepository>,
  isSelected: (slug: string) => boolean,
  log: Log,
  snippetsRefused: ReadonlySet<string> = new Set()
): Promise<RepositoryResult[]> {
  const repositories: BitbucketRepository[] = []
  for await (const repository of listing) repositories.push(repository)
  const count = settings.shards
  const perShard = Array.from({ length: count }, () => ({ repositories: 0, bytes: 0 }))
  const results: RepositoryResult[] = []
  for (const repository of repositories) {
    if (!isSelected(repository.slug)) continue
    const shard = shardOf(repository.uuid, count)
    perShard[shard - 1].repositories++
    perShard[shard - 1].bytes += repository.size
    results.push({ ...resultBase(repository), status: 'listed', detail: `shard ${shard}/${count}` })
  }
  // Listed with the cache forced on: the listing is this run's hand-over, not state.
  const saved = await savePlanListing(await createActionsCache(log, true), planDir(settings), {
    workspaces: settings.workspaces,
    repositories,
    snippetsRefused: [...snippetsRefused]
  })
  if (!saved) {
    log.warning(
      coded(
        'SH002',
        'The plan could not be handed to the shard jobs through the Actions cache: each shard will list the workspace itself.'
      )
    )
  }
  for (const [index, shard] of perShard.entries()) {
    log.info(
      `shard ${index + 1}/${count}: ${shard.repositories} repositories, ${formatBytes(shard.bytes)} on Bitbucket`
    )
  }
  return results
}

/**
 * A re-run shard uploads `...-shard-2of4-attempt-2` beside its first attempt's index (names are
 * immutable): only the last attempt of each shard counts, or a restore finds its repositories twice.
 */
function lastAttempts<T extends { name: string }>(artifacts: T[]): T[] {
  const byShard = new Map<string, { artifact: T; attempt: number }>()
  for (const artifact of artifacts) {
    const [, shard, attempt] = /^(.*?)(?:-attempt-(\d+))?$/.exec(artifact.name)!
    const seen = byShard.get(shard)
    if (!seen || Number(attempt ?? 1) > seen.attempt)
      byShard.set(shard, { artifact, attempt: Number(attempt ?? 1) })
  }
  return [...byShard.values()].map(entry => entry.artifact)
}

/** The index job: one `bitbucket-backup-index` naming every shard's index of this run. */
export async function runIndexMerge(
  settings: Settings,
  uploader: ArtifactUploader,
  list: () => Promise<{ name: string; id: number }[]>,
  log: Log
): Promise<void> {
  const shardIndexes = lastAttempts(
    (await list()).filter(artifact => artifact.name.startsWith(`${INDEX_ARTIFACT}-shard-`))
  )
  if (shardIndexes.length === 0) {
    throw new Error(
      coded(
        'SH001',
        `no ${INDEX_ARTIFACT}-shard-* artifact in this run: run the index job after the matrix (needs: backup)`
      )
    )
  }
  const root = path.join(settings.workDir, 'index-merge')
  await fs.rm(root, { recursive: true, force: true })
  await fs.mkdir(root, { recursive: true })
  const file = path.join(root, 'index.json')
  const index = {
    generatedAt: new Date().toISOString(),
    runId: settings.artifact.runId,
    shards: shardIndexes
      .map(artifact => ({ name: artifact.name, id: artifact.id, runId: settings.artifact.runId }))
      .sort((a, b) => a.name.localeCompare(b.name))
  }
  await fs.writeFile(file, `${JSON.stringify(index, null, 2)}\n`)
  const name =
    settings.artifact.runAttempt !== '1'
      ? `${INDEX_ARTIFACT}-attempt-${settings.artifact.runAttempt}`
      : INDEX_ARTIFACT
  await uploader.upload(name, [file], root, settings.artifact.retentionDays)
  log.info(
    `${name}: points at ${shardIndexes.length} shard indexes of run ${settings.artifact.runId}`
  )
}
