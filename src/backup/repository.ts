// Backs up one repository: decide from its refs whether anything changed, then clone or fetch and verify.
import * as fs from 'node:fs/promises'
import type { BitbucketRepository } from '../bitbucket/types.js'
import { pathExists, type MirrorOps, type RemoteRefs } from '../git/mirror.js'
import { resultBase, type RepositoryResult } from '../results.js'
import type { CacheStore } from '../state/actions-cache.js'
import type { RepositoryState } from '../state/state.js'
import { bareUuid, type StateStore } from '../state/store.js'

export interface RepositoryJob {
  repository: BitbucketRepository
  prior: RepositoryState | undefined
  lfs: boolean
  ops: MirrorOps
  store: StateStore
  cache: CacheStore
  /** The mirror must be on disk after this run even when nothing changed (directory, artifact due). */
  mirrorWanted: boolean
  /** Decides whether a mirror of this size may still be saved to the cache in this run. */
  reserveCacheBytes(bytes: number): boolean
  log(line: string): void
}

export interface RepositoryOutcome {
  result: RepositoryResult
  /** True when the mirror is on disk and complete after this run (targets may read it). */
  mirrorReady?: boolean
  /** The new state, or undefined to keep the prior one (failures never overwrite good state). */
  state: RepositoryState | undefined
}

function mirrorCacheKeyPrefix(uuid: string): string {
  return `bitbucket-backup-mirror-${bareUuid(uuid)}-`
}

/** One entry per repository and ref set: an unchanged repository is never saved again. */
export function mirrorCacheKey(uuid: string, fingerprint: string, lfs: boolean): string {
  return `${mirrorCacheKeyPrefix(uuid)}${fingerprint.slice(0, 20)}-${lfs ? 'lfs' : 'nolfs'}`
}

/** The API object as metadata, without the calling user's name that Bitbucket embeds in clone links. */
export function repositoryMetadata(repository: BitbucketRepository): string {
  const text = JSON.stringify(repository.raw, null, 2)
  return `${text.replace(/(https?:\/\/)[^/@"\s]+@/g, '$1')}\n`
}

/** A renamed repository keeps its uuid: move its mirror and metadata to the new slug. */
async function followRename(job: RepositoryJob): Promise<void> {
  const { prior, repository, store } = job
  if (!prior || !store.mirrorsOnDisk) return
  if (prior.slug === repository.slug && prior.workspace === repository.workspace) return
  const from = store.mirrorPath(prior.workspace, prior.slug, prior.uuid)
  const to = store.mirrorPath(repository.workspace, repository.slug, repository.uuid)
  if ((await pathExists(from)) && !(await pathExists(to))) {
    await fs.rename(from, to)
    job.log(`Renamed upstream from ${prior.slug}: moved the mirror to ${to}`)
    const oldMetadata = store.metadataPath(prior.workspace, prior.slug)
    if (oldMetadata) await fs.rm(oldMetadata, { force: true })
  }
}

/** Brings back the cached mirror of the last run; any miss or error means a fresh clone. */
async function restoreMirror(job: RepositoryJob, mirror: string): Promise<boolean> {
  const { prior, repository, store, cache } = job
  if (!prior?.mirrorCacheKey || !store.mirrorsViaCache) return false
  const restored = await cache.restore([mirror], prior.mirrorCacheKey, [
    mirrorCacheKeyPrefix(repository.uuid)
  ])
  job.log(
    restored ? `Restored the mirror from cache entry ${restored}.` : 'No cached mirror: cloning.'
  )
  return restored !== undefined && (await pathExists(mirror))
}

function unchangedOutcome(
  job: RepositoryJob,
  prior: RepositoryState,
  mirror: string,
  started: number
) {
  const { repository, store } = job
  job.log(`Refs unchanged (fingerprint ${prior.fingerprint.slice(0, 12)}); nothing fetched.`)
  return {
    result: {
      ...resultBase(repository),
      status: prior.empty ? 'empty' : 'unchanged',
      detail: prior.empty ? 'no commits' : 'refs unchanged since the last backup',
      refs: prior.refs,
      lfsObjects: prior.lfsObjects,
      bytes: prior.bytes,
      bytesFetched: 0,
      seconds: (Date.now() - started) / 1000,
      location: store.mirrorsOnDisk ? mirror : undefined
    },
    mirrorReady: job.mirrorWanted,
    state: {
      ...prior,
      fullName: repository.fullName,
      slug: repository.slug,
      updatedOn: repository.updatedOn
    }
  } satisfies RepositoryOutcome
}

/** The API's view of the repository beside its mirror, refreshed every run (descriptions change). */
async function writeMetadata(job: RepositoryJob): Promise<void> {
  const file = job.store.metadataPath(job.repository.workspace, job.repository.slug)
  if (file) await fs.writeFile(file, repositoryMetadata(job.repository))
}

/**
 * Points HEAD at Bitbucket's main branch so a clone of the backup checks out what users expect.
 * True when HEAD was rewritten.
 */
async function followMainBranch(
  job: RepositoryJob,
  mirror: string,
  remote?: RemoteRefs
): Promise<boolean> {
  const branch = job.repository.mainBranch
  if (!branch || (remote && !remote.refMap.has(`refs/heads/${branch}`))) return false
  return job.ops.setHead(mirror, `refs/heads/${branch}`)
}

/** What the check found for a repository that needs a transfer (or a cache restore first). */
export interface PendingTransfer {
  started: number
  mirrorPresent: boolean
  /** Upstream's refs, when the check listed them (a repository with state or a mirror). */
  remote?: RemoteRefs
  /** Refs unchanged since the recorded state but the mirror is not on disk: restore it, then compare. */
  restoreThenCompare: boolean
}

export type RepositoryCheck = { outcome: RepositoryOutcome } | { pending: PendingTransfer }

/**
 * The cheap half of a backup: one ref advertisement (none for a repository never seen) and the
 * mirror's refs on disk. An unchanged repository is finished here; anything else is handed to
 * `transferRepository`. A caller may run checks at a higher concurrency than transfers: a check
 * waits on one round trip, a transfer on bandwidth and CPU.
 */
export async function checkRepository(job: RepositoryJob): Promise<RepositoryCheck> {
  const { repository, prior, ops, store, lfs } = job
  const started = Date.now()
  const mirror = store.mirrorPath(repository.workspace, repository.slug, repository.uuid)
  await followRename(job)

  const mirrorPresent = await pathExists(mirror)
  // A repository seen before costs one ref advertisement; a new one is cloned straight away.
  const remote = prior || mirrorPresent ? await ops.remoteRefs(repository.httpsCloneUrl) : undefined
  const refsUnchanged = remote !== undefined && remote.fingerprint === prior?.fingerprint
  const lfsDone = !lfs || prior?.lfsComplete === true
  const unchanged = refsUnchanged && lfsDone && prior !== undefined
  if (unchanged && (mirrorPresent || !job.mirrorWanted)) {
    const local = mirrorPresent ? await ops.localSnapshot(mirror) : undefined
    if (!local || local.fingerprint === prior.fingerprint) {
      await writeMetadata(job)
      return { outcome: unchangedOutcome(job, prior, mirror, started) }
    }
    job.log('The mirror on disk differs from the recorded state: fetching to repair it.')
  }
  return {
    pending: {
      started,
      mirrorPresent,
      remote,
      restoreThenCompare: unchanged && !mirrorPresent && job.mirrorWanted
    }
  }
}

/** Checks, then transfers when the check did not finish the repository. */
export async function backUpRepository(job: RepositoryJob): Promise<RepositoryOutcome> {
  const check = await checkRepository(job)
  return 'outcome' in check ? check.outcome : transferRepository(job, check.pending)
}

/** The heavy half: restore the cached mirror if any, then fetch or clone, and inspect the result. */
export async function transferRepository(
  job: RepositoryJob,
  pending: PendingTransfer
): Promise<RepositoryOutcome> {
  const { repository, prior, ops, store, cache, lfs } = job
  const { started, remote } = pending
  const mirror = store.mirrorPath(repository.workspace, repository.slug, repository.uuid)
  const url = repository.httpsCloneUrl
  let mirrorPresent = pending.mirrorPresent
  if (pending.restoreThenCompare && prior) {
    mirrorPresent = await restoreMirror(job, mirror)
    const local = mirrorPresent ? await ops.localSnapshot(mirror) : undefined
    if (local?.fingerprint === prior.fingerprint) {
      await writeMetadata(job)
      return unchangedOutcome(job, prior, mirror, started)
    }
    job.log('The mirror on disk differs from the recorded state: fetching to repair it.')
  } else if (!mirrorPresent) {
    mirrorPresent = await restoreMirror(job, mirror)
  }

  const transfer = mirrorPresent
    ? await ops.update(url, mirror, remote ?? (await ops.remoteRefs(url)))
    : await ops.clone(url, mirror)
  const headMoved = await followMainBranch(job, mirror, remote)
  await writeMetadata(job)
  // What the transfer saw still holds (refs, LFS pointers), its size too unless HEAD was rewritten.
  const inspection = await ops.inspect(
    mirror,
    headMoved ? { ...transfer.known, bytes: undefined } : transfer.known
  )
  for (const ref of transfer.protectedRefs) job.log(`Kept deleted or rewritten history as ${ref}`)
  if (remote && inspection.fingerprint !== remote.fingerprint) {
    job.log('Upstream refs moved during the backup; the next run picks up the difference.')
  }

  const lfsComplete = lfs && inspection.lfsMissing.length === 0
  let cacheKey = prior?.mirrorCacheKey
  if (store.mirrorsViaCache && (lfsComplete || !lfs)) {
    const key = mirrorCacheKey(repository.uuid, inspection.fingerprint, lfs)
    // An entry can never be overwritten: a run whose state was lost (or another shard) may have
    // saved this one already. Asked only then, so a run that knows the repository pays nothing.
    if (key !== cacheKey && cacheKey === undefined && (await cache.has([mirror], key)))
      cacheKey = key
    else if (key !== cacheKey && job.reserveCacheBytes(inspection.bytes)) {
      if (await cache.save([mirror], key)) cacheKey = key
    } else if (key !== cacheKey) {
      job.log('Over the cache size budget: the next change clones this repository afresh.')
    }
  }

  const state: RepositoryState = {
    uuid: repository.uuid,
    workspace: repository.workspace,
    slug: repository.slug,
    fullName: repository.fullName,
    projectKey: repository.projectKey,
    fingerprint: inspection.fingerprint,
    refs: inspection.refs,
    updatedOn: repository.updatedOn,
    lastBackupAt: new Date().toISOString(),
    lfsComplete,
    lfsObjects: inspection.lfsObjects,
    bytes: inspection.bytes,
    empty: inspection.empty,
    ...(cacheKey ? { mirrorCacheKey: cacheKey } : {}),
    // Where older copies live stays known until a target records a newer one.
    ...(prior?.artifact ? { artifact: prior.artifact } : {}),
    ...(prior?.github ? { github: prior.github } : {})
  }
  const missing = lfs ? inspection.lfsMissing : []
  const what = mirrorPresent
    ? `fetched ${transfer.refsChanged} changed ref${transfer.refsChanged === 1 ? '' : 's'}${transfer.protectedRefs.length ? `, kept ${transfer.protectedRefs.length} rewritten` : ''}`
    : 'cloned'
  return {
    result: {
      ...resultBase(repository),
      status: missing.length > 0 ? 'failed' : inspection.empty ? 'empty' : 'backed-up',
      detail:
        missing.length > 0
          ? `${missing.length} LFS objects missing or damaged after fetch (first ${missing[0].oid})`
          : inspection.empty
            ? 'no commits'
            : what,
      refs: inspection.refs,
      lfsObjects: inspection.lfsObjects,
      bytes: inspection.bytes,
      bytesFetched: transfer.bytesFetched,
      seconds: (Date.now() - started) / 1000,
      location: store.mirrorsOnDisk ? mirror : undefined
    },
    mirrorReady: missing.length === 0,
    state
  }
}
