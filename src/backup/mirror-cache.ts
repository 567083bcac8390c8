// Mirrors kept between runs in the Actions cache: one entry per repository and content, so an
// unchanged repository is never saved again and a changed one is fetched onto its last mirror.
import { createHash } from 'node:crypto'
import * as fs from 'node:fs/promises'
import { pathExists } from '../shared/fs.js'
import type { CacheStore } from '../state/actions-cache.js'
import type { RepositoryState } from '../state/state.js'
import { bareUuid } from '../state/store.js'

function keyPrefix(uuid: string): string {
  return `bitbucket-backup-mirror-${bareUuid(uuid)}-`
}

/**
 * The content of a mirror in a key: its refs and whether LFS objects are complete, or which ones
 * Bitbucket lacked (an object that arrives later makes another entry).
 */
export function mirrorCacheKey(
  uuid: string,
  fingerprint: string,
  lfs: boolean,
  lfsMissing: readonly { oid: string }[] = [],
  /** The metadata archive's commit: a mirror with a newer archive is another entry. */
  metadataCommit?: string
): string {
  const oids = lfsMissing.map(object => object.oid).join('\n')
  const missing =
    lfsMissing.length > 0 ? `-m${createHash('sha256').update(oids).digest('hex').slice(0, 12)}` : ''
  const metadata = metadataCommit ? `-md${metadataCommit.slice(0, 12)}` : ''
  return `${keyPrefix(uuid)}${fingerprint.slice(0, 20)}-${lfs ? 'lfs' : 'nolfs'}${missing}${metadata}`
}

export interface MirrorCache {
  readonly enabled: boolean
  /** Brings back the newest cached mirror of this repository; false on a miss (then: a clone). */
  restore(
    prior: RepositoryState | undefined,
    mirror: string,
    log: (line: string) => void
  ): Promise<boolean>
  /**
   * Saves the mirror unless its entry exists; the key kept in the state, or the prior one when it
   * was not saved (over the run's budget, short of disk, the service refused).
   */
  save(
    state: RepositoryState,
    prior: RepositoryState | undefined,
    mirror: string,
    lfs: boolean,
    log: (line: string) => void,
    /** The disk check of the repository's own reservation, which may hold room for the archive. */
    room?: (bytes: number) => Promise<boolean>
  ): Promise<string | undefined>
}

export function createMirrorCache(
  cache: CacheStore,
  enabled: boolean,
  budgetBytes: number,
  /** Whether `bytes` more fit on the disk now (the archive is written beside the mirror). */
  roomFor: (bytes: number) => Promise<boolean>
): MirrorCache {
  let budgetLeft = budgetBytes
  return {
    enabled,
    async restore(prior, mirror, log) {
      if (!enabled || !prior?.mirrorCacheKey) return false
      const restoreKeys = [keyPrefix(prior.uuid)]
      const restored = await cache.restore([mirror], prior.mirrorCacheKey, restoreKeys)
      if (restored && (await pathExists(mirror))) {
        log(`Restored the mirror from cache entry ${restored}.`)
        return true
      }
      // A restore that failed halfway (a full disk) must not leave half a mirror to fetch into.
      await fs.rm(mirror, { recursive: true, force: true })
      log('No cached mirror: cloning.')
      return false
    },
    async save(state, prior, mirror, lfs, log, room = roomFor) {
      const known = prior?.mirrorCacheKey
      if (!enabled || (lfs && !state.lfsComplete && !state.lfsMissing?.length)) return known
      const key = mirrorCacheKey(
        state.uuid,
        state.fingerprint,
        lfs,
        state.lfsMissing,
        state.metadata?.commit
      )
      if (key === known) return known
      // An entry can never be overwritten: a run whose state was lost (or another shard) may have
      // saved this one already. Asked only then, so a run that knows the repository pays nothing.
      if (known === undefined && (await cache.has([mirror], key))) return key
      if (state.bytes > budgetLeft) {
        log('Over the cache size budget: the next change clones this repository afresh.')
        return known
      }
      if (!(await room(state.bytes))) {
        log('Not saved to the cache: the disk has no room for its archive now.')
        return known
      }
      budgetLeft -= state.bytes
      return (await cache.save([mirror], key)) ? key : known
    }
  }
}
