// Where state lives between runs: a file (in backup-dir with the directory target), and the Actions
// cache, where every save is a new entry under one prefix and the newest is restored.
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { firstLineOf } from '../shared/errors.js'
import { pathExists } from '../shared/fs.js'
import type { Log } from '../shared/log.js'
import { shardLabel } from '../settings/shard.js'
import type { Settings } from '../settings/types.js'
import type { CacheStore } from './actions-cache.js'
import { emptyState, readStateFile, writeStateFile, type WorkspaceState } from './state.js'
import { coded } from '../shared/codes.js'

export const STATE_FILE_NAME = '.bitbucket-backup-state.json'

export interface StateStore {
  load(workspace: string): Promise<WorkspaceState>
  /** Writes the state file atomically and, with `toCache`, a new cache entry of it. */
  save(state: WorkspaceState, options: { toCache: boolean }): Promise<void>
}

export interface StatePlace {
  /** The file a run reads first and writes at every checkpoint (under the cache root). */
  file(workspace: string): string
  /** Colons end each part: workspace `acme` never matches `acme-corp`, nor a shard the whole. */
  cachePrefix(workspace: string): string
}

/** A uuid such as {57bf2984-...} without braces: safe in paths and cache keys. */
export function bareUuid(uuid: string): string {
  return uuid.replace(/[{}]/g, '')
}

export function stateCacheKeyPrefix(workspace: string, shard?: string): string {
  return `bitbucket-backup-state:${workspace}:${shard ?? 'all'}:`
}

/** Everything cached lives under one root (see useCacheRoot): backup-dir's, or the work dir. */
export function cacheRoot(settings: Settings): string {
  return settings.targets.includes('directory') && settings.backupDir
    ? settings.backupDir
    : settings.workDir
}

/**
 * The state of each workspace: in `keptDir` (backup-dir, the directory target) when given, else in
 * the work dir; shards of a matrix keep theirs apart.
 */
export function statePlace(
  settings: Settings,
  keptDir?: (workspace: string) => string
): StatePlace {
  const shard = settings.shard ? `shard-${shardLabel(settings.shard)}` : undefined
  const suffix = shard ? `.${shard}` : ''
  return {
    file: workspace =>
      keptDir
        ? path.join(keptDir(workspace), STATE_FILE_NAME.replace(/\.json$/, `${suffix}.json`))
        : path.join(settings.workDir, 'state', `${workspace}${suffix}.json`),
    cachePrefix: workspace => stateCacheKeyPrefix(workspace, shard)
  }
}

export function createStateStore(
  place: StatePlace,
  cache: CacheStore,
  log: Pick<Log, 'warning'>,
  env: NodeJS.ProcessEnv = process.env
): StateStore {
  // Cache entries are immutable: every save is a new key, restored by prefix (newest first).
  const runKey = `${env.GITHUB_RUN_ID ?? 'local'}-${env.GITHUB_RUN_ATTEMPT ?? '1'}`
  let saves = 0

  return {
    async load(workspace) {
      const file = place.file(workspace)
      const present = await pathExists(file)
      if (!present && cache.available) {
        const prefix = place.cachePrefix(workspace)
        await cache.restore([file], `${prefix}${runKey}`, [prefix])
      }
      try {
        return await readStateFile(file, workspace)
      } catch (error) {
        // A state the user keeps on disk is theirs to look at; one from the cache (another
        // version of the action, a damaged entry) only costs a full run.
        if (present) throw error
        log.warning(
          coded(
            'ST001',
            `${workspace}: the state restored from the Actions cache could not be read (${firstLineOf(error)}); this run starts afresh and saves a new one`
          )
        )
        await fs.rm(file, { force: true })
        return emptyState(workspace)
      }
    },
    async save(state, options) {
      const file = place.file(state.workspace)
      await writeStateFile(file, state)
      if (!options.toCache || !cache.available) return
      // The one entry worth a try even when the service failed earlier: the next run starts from it.
      await cache.save(
        [file],
        `${place.cachePrefix(state.workspace)}${runKey}-${Date.now()}-${++saves}`,
        { evenIfFailing: true }
      )
    }
  }
}
