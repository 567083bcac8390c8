// Where state and mirrors live between runs: beside the mirrors in backup-dir, and in the Actions cache.
import * as core from '@actions/core'
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import type { Settings } from '../settings-types.js'
import { shardLabel } from '../shard/plan.js'
import type { CacheLog, CacheStore } from './actions-cache.js'
import { emptyState, readStateFile, writeStateFile, type WorkspaceState } from './state.js'

export const STATE_FILE_NAME = '.bitbucket-backup-state.json'

export interface StateStore {
  /** True when mirrors are saved to and restored from the Actions cache (ephemeral runners). */
  readonly mirrorsViaCache: boolean
  /** True when the directory target wants every mirror on disk, changed or not. */
  readonly mirrorsOnDisk: boolean
  load(workspace: string): Promise<WorkspaceState>
  save(state: WorkspaceState): Promise<void>
  /** Where the working mirror of a repository lives during (and, for backup-dir, between) runs. */
  mirrorPath(workspace: string, slug: string, uuid: string): string
  /** The metadata file beside a mirror (directory target only). */
  metadataPath(workspace: string, slug: string): string | undefined
}

/** A uuid such as {57bf2984-...} without braces: safe in paths and cache keys. */
export function bareUuid(uuid: string): string {
  return uuid.replace(/[{}]/g, '')
}

/** Colons end each part: workspace `acme` never matches `acme-corp`, nor a shard the whole. */
export function stateCacheKeyPrefix(workspace: string, shard?: string): string {
  return `bitbucket-backup-state:${workspace}:${shard ?? 'all'}:`
}

export function createStateStore(
  settings: Settings,
  cache: CacheStore,
  env: NodeJS.ProcessEnv = process.env,
  log: Pick<CacheLog, 'warning'> = core
): StateStore {
  const inBackupDir = settings.targets.includes('directory')
  // Shards of a matrix keep state apart: each job reads and writes only its own.
  const shard = settings.shard ? `.shard-${shardLabel(settings.shard)}` : ''
  const stateFile = (workspace: string) =>
    inBackupDir
      ? path.join(
          settings.backupDir,
          workspace,
          STATE_FILE_NAME.replace(/\.json$/, `${shard}.json`)
        )
      : path.join(settings.workDir, 'state', `${workspace}${shard}.json`)
  const statePrefix = (workspace: string) =>
    stateCacheKeyPrefix(workspace, settings.shard && `shard-${shardLabel(settings.shard)}`)
  // Cache entries are immutable: every run writes its state under a new key, restored by prefix.
  const runKey = `${env.GITHUB_RUN_ID ?? 'local'}-${env.GITHUB_RUN_ATTEMPT ?? '1'}-${Date.now()}`
  const selfHostedWithDirectory = inBackupDir && env.RUNNER_ENVIRONMENT === 'self-hosted'

  return {
    mirrorsViaCache: cache.available && !selfHostedWithDirectory,
    mirrorsOnDisk: inBackupDir,
    async load(workspace) {
      const file = stateFile(workspace)
      const present = await fs.access(file).then(
        () => true,
        () => false
      )
      if (!present && cache.available) {
        const prefix = statePrefix(workspace)
        await cache.restore([file], `${prefix}${runKey}`, [prefix])
      }
      try {
        return await readStateFile(file, workspace)
      } catch (error) {
        // A state the user keeps on disk is theirs to look at; one from the cache (another
        // version of the action, a damaged entry) only costs a full run.
        if (present) throw error
        log.warning(
          `${workspace}: the state restored from the Actions cache could not be read (${error instanceof Error ? error.message : String(error)}); this run starts afresh and saves a new one`
        )
        await fs.rm(file, { force: true })
        return emptyState(workspace)
      }
    },
    async save(state) {
      const file = stateFile(state.workspace)
      await writeStateFile(file, state)
      // The one entry worth a try even when the service failed earlier: the next run starts from it.
      if (cache.available) {
        await cache.save([file], `${statePrefix(state.workspace)}${runKey}`, {
          evenIfFailing: true
        })
      }
    },
    mirrorPath(workspace, slug, uuid) {
      return inBackupDir
        ? path.join(settings.backupDir, workspace, `${slug}.git`)
        : path.join(settings.workDir, 'mirrors', `${bareUuid(uuid)}.git`)
    },
    metadataPath(workspace, slug) {
      return inBackupDir ? path.join(settings.backupDir, workspace, `${slug}.json`) : undefined
    }
  }
}
