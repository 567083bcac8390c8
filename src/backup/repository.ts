// Backs up one repository's git data: decide from its refs whether anything changed, then clone or
// fetch (or bring back LFS objects Bitbucket lacked before) and inspect what is on disk.
import type { BitbucketRepository } from '../bitbucket/types.js'
import type { LfsPointer } from '../git/lfs-scan.js'
import type { MirrorOps, MirrorTransfer, RemoteRefs } from '../git/mirror.js'
import { firstLineOf, isDiskFull } from '../shared/errors.js'
import { pathExists } from '../shared/fs.js'
import { resultBase, type RepositoryResult } from '../report/results.js'
import type { RepositoryState } from '../state/state.js'
import { NoRoomError } from './disk.js'
import { coded } from '../shared/codes.js'

export interface RepositoryJob {
  repository: BitbucketRepository
  prior: RepositoryState | undefined
  lfs: boolean
  ops: MirrorOps
  /** Where the working mirror lives: kept between runs (directory target) or for this run only. */
  mirror: string
  /** The mirror must be on disk after this run even when nothing changed (a target wants it). */
  mirrorWanted: boolean
  /** Brings back the repository's last cached mirror; false on a miss. */
  restoreMirror(): Promise<boolean>
  /**
   * Of these LFS objects, those Bitbucket does not have (one request, no mirror needed), or
   * undefined when that cannot be told without git-lfs.
   */
  missingUpstream(objects: LfsPointer[]): Promise<Set<string> | undefined>
  log(line: string): void
}

export interface RepositoryOutcome {
  result: RepositoryResult
  /** True when the mirror is on disk with everything Bitbucket has (targets may read it). */
  mirrorReady?: boolean
  /** The new state, or undefined to keep the prior one (failures never overwrite good state). */
  state: RepositoryState | undefined
  /** True when something was transferred (worth a checkpoint). */
  fetched: boolean
}

/** What the check found for a repository that needs a transfer (or a cache restore first). */
export interface PendingTransfer {
  started: number
  mirrorPresent: boolean
  /** Upstream's refs, when the check listed them (a repository with state or a mirror). */
  remote?: RemoteRefs
  /** Refs unchanged since the recorded state but the mirror is not on disk: restore it, then compare. */
  restoreThenCompare: boolean
  /** Refs unchanged, but LFS objects Bitbucket lacked last time are there now: fetch only those. */
  lfsOnly: boolean
}

export type RepositoryCheck = { outcome: RepositoryOutcome } | { pending: PendingTransfer }

const plural = (count: number, noun: string) => `${count} ${noun}${count === 1 ? '' : 's'}`

type Missing = NonNullable<RepositoryState['lfsMissing']>

function missingDetail(missing: Missing, still: boolean): string {
  return `${plural(missing.length, 'LFS object')} ${still ? 'still ' : ''}missing on Bitbucket (first ${missing[0].oid}); everything else is backed up`
}

const oidsOf = (missing: Missing) => missing.map(object => object.oid)

function unchangedOutcome(job: RepositoryJob, prior: RepositoryState, started: number) {
  const { repository } = job
  const missing = prior.lfsMissing ?? []
  job.log(`Refs unchanged (fingerprint ${prior.fingerprint.slice(0, 12)}); nothing fetched.`)
  const status = missing.length > 0 ? 'incomplete' : prior.empty ? 'empty' : 'unchanged'
  return {
    result: {
      ...resultBase(repository),
      status,
      detail:
        status === 'incomplete'
          ? missingDetail(missing, true)
          : prior.empty
            ? 'no commits'
            : 'refs unchanged since the last backup',
      refs: prior.refs,
      lfsObjects: prior.lfsObjects,
      bytes: prior.bytes,
      bytesFetched: 0,
      seconds: (Date.now() - started) / 1000,
      ...(missing.length > 0 ? { lfsMissing: oidsOf(missing) } : {})
    },
    mirrorReady: job.mirrorWanted,
    state: {
      ...prior,
      fullName: repository.fullName,
      slug: repository.slug,
      updatedOn: repository.updatedOn,
      checkedAt: new Date().toISOString()
    },
    fetched: false
  } satisfies RepositoryOutcome
}

/** An incomplete backup whose missing LFS objects Bitbucket still lacks: nothing to fetch. */
async function stillMissing(job: RepositoryJob, prior: RepositoryState): Promise<boolean> {
  const missing = prior.lfsMissing ?? []
  if (missing.length === 0) return false
  const upstream = await job.missingUpstream(missing)
  return upstream !== undefined && missing.every(object => upstream.has(object.oid))
}

/**
 * The cheap half of a backup: one ref advertisement (none for a repository never seen) and the
 * mirror's refs on disk. An unchanged repository is finished here; anything else is handed to
 * `transferRepository`. A caller may run checks at a higher concurrency than transfers: a check
 * waits on one round trip, a transfer on bandwidth and CPU.
 */
export async function checkRepository(job: RepositoryJob): Promise<RepositoryCheck> {
  const { repository, prior, ops, lfs, mirror } = job
  const started = Date.now()
  const mirrorPresent = await pathExists(mirror)
  // A repository seen before costs one ref advertisement; a new one is cloned straight away.
  const remote = prior || mirrorPresent ? await ops.remoteRefs(repository.httpsCloneUrl) : undefined
  const refsUnchanged =
    prior !== undefined && remote !== undefined && remote.fingerprint === prior.fingerprint
  const lfsDone = !lfs || prior?.lfsComplete === true
  const unchanged = refsUnchanged && (lfsDone || (await stillMissing(job, prior)))
  if (unchanged && (mirrorPresent || !job.mirrorWanted)) {
    const local = mirrorPresent ? await ops.localSnapshot(mirror) : undefined
    if (!local || local.fingerprint === prior.fingerprint) {
      return { outcome: unchangedOutcome(job, prior, started) }
    }
    job.log('The mirror on disk differs from the recorded state: fetching to repair it.')
  }
  return {
    pending: {
      started,
      mirrorPresent,
      remote,
      restoreThenCompare: unchanged && !mirrorPresent && job.mirrorWanted,
      lfsOnly: refsUnchanged && !unchanged && (prior?.lfsMissing?.length ?? 0) > 0
    }
  }
}

/** Points HEAD at Bitbucket's main branch so a clone of the backup checks out what users expect. */
async function followMainBranch(job: RepositoryJob, remote?: RemoteRefs): Promise<boolean> {
  const branch = job.repository.mainBranch
  if (!branch || (remote && !remote.refMap.has(`refs/heads/${branch}`))) return false
  return job.ops.setHead(job.mirror, `refs/heads/${branch}`)
}

/** Brings the mirror up to date: LFS objects alone, a fetch onto the mirror, or a clone. */
async function transfer(
  job: RepositoryJob,
  pending: PendingTransfer,
  mirrorPresent: boolean
): Promise<MirrorTransfer> {
  const { ops, mirror, prior } = job
  const url = job.repository.httpsCloneUrl
  if (pending.lfsOnly && mirrorPresent && prior) {
    const local = await ops.localSnapshot(mirror)
    if (local.fingerprint === prior.fingerprint) return ops.fetchLfsOnly(mirror)
  }
  return mirrorPresent
    ? ops.update(url, mirror, pending.remote ?? (await ops.remoteRefs(url)))
    : ops.clone(url, mirror)
}

/**
 * Which LFS objects the mirror lacks because Bitbucket lacks them: undefined when some are missing
 * for another reason (a failed download, a damaged file), which fails the repository.
 */
async function missingOnlyUpstream(
  job: RepositoryJob,
  missing: LfsPointer[],
  lfsError: Error | undefined
): Promise<Missing | undefined> {
  if (missing.length === 0) return []
  const upstream = await job.missingUpstream(missing)
  const confirmed = upstream
    ? missing.every(pointer => upstream.has(pointer.oid))
    : /does not exist|\[404\]|not found/i.test(
        `${lfsError?.message ?? ''}\n${(lfsError as { stderr?: string } | undefined)?.stderr ?? ''}`
      )
  const sorted = missing
    .map(pointer => ({ oid: pointer.oid, size: pointer.size }))
    .sort((a, b) => a.oid.localeCompare(b.oid))
  return confirmed ? sorted : undefined
}

/** The heavy half: restore the cached mirror if any, then fetch or clone, and inspect the result. */
export async function transferRepository(
  job: RepositoryJob,
  pending: PendingTransfer
): Promise<RepositoryOutcome> {
  const { repository, prior, ops, lfs, mirror } = job
  const { started, remote } = pending
  let mirrorPresent = pending.mirrorPresent
  if (!mirrorPresent && (pending.restoreThenCompare || prior))
    mirrorPresent = await job.restoreMirror()
  if (pending.restoreThenCompare && prior && mirrorPresent) {
    const local = await ops.localSnapshot(mirror)
    if (local.fingerprint === prior.fingerprint) return unchangedOutcome(job, prior, started)
    job.log('The mirror on disk differs from the recorded state: fetching to repair it.')
  }

  const transferred = await transfer(job, pending, mirrorPresent)
  // No room for the LFS objects (refused, or the disk filled) is a disk failure, not missing objects.
  const { lfsError } = transferred
  if (lfsError && (lfsError instanceof NoRoomError || isDiskFull(lfsError))) throw lfsError
  const headMoved = await followMainBranch(job, remote)
  // What the transfer saw still holds (refs, LFS pointers), its size too unless HEAD was rewritten.
  const known = transferred.known
  const inspection = await ops.inspect(mirror, headMoved ? { ...known, bytes: undefined } : known)
  for (const ref of transferred.protectedRefs)
    job.log(`Kept deleted or rewritten history as ${ref}`)
  if (remote && inspection.fingerprint !== remote.fingerprint) {
    job.log('Upstream refs moved during the backup; the next run picks up the difference.')
  }

  const lfsMissing = lfs
    ? await missingOnlyUpstream(job, inspection.lfsMissing, transferred.lfsError)
    : []
  const failedLfs = lfsMissing === undefined
  const now = new Date().toISOString()
  const state: RepositoryState = {
    uuid: repository.uuid,
    workspace: repository.workspace,
    slug: repository.slug,
    fullName: repository.fullName,
    projectKey: repository.projectKey,
    fingerprint: inspection.fingerprint,
    refs: inspection.refs,
    updatedOn: repository.updatedOn,
    lastBackupAt: now,
    checkedAt: now,
    lfsComplete: lfs && inspection.lfsMissing.length === 0,
    ...(lfsMissing?.length ? { lfsMissing } : {}),
    lfsObjects: inspection.lfsObjects,
    bytes: inspection.bytes,
    empty: inspection.empty,
    // Kept until the mirror is saved again; where older copies live stays known until a target
    // records a newer one.
    ...(prior?.mirrorCacheKey ? { mirrorCacheKey: prior.mirrorCacheKey } : {}),
    ...(prior?.artifact ? { artifact: prior.artifact } : {}),
    ...(prior?.github ? { github: prior.github } : {}),
    ...(prior?.metadata ? { metadata: prior.metadata } : {})
  }
  const arrived = (prior?.lfsMissing?.length ?? 0) - (lfsMissing?.length ?? 0)
  const what = pending.lfsOnly
    ? `fetched ${plural(arrived, 'LFS object')} that had been missing on Bitbucket`
    : mirrorPresent
      ? `fetched ${plural(transferred.refsChanged, 'changed ref')}${transferred.protectedRefs.length ? `, kept ${transferred.protectedRefs.length} rewritten` : ''}`
      : 'cloned'
  const status = failedLfs
    ? 'failed'
    : lfsMissing.length > 0
      ? 'incomplete'
      : inspection.empty
        ? 'empty'
        : 'backed-up'
  const detail = failedLfs
    ? coded(
        'LFS001',
        `${plural(inspection.lfsMissing.length, 'LFS object')} missing or damaged after fetch (first ${inspection.lfsMissing[0].oid})${transferred.lfsError ? `: ${firstLineOf(transferred.lfsError)}` : ''}`
      )
    : lfsMissing.length > 0
      ? `${what}; ${missingDetail(lfsMissing, false)}`
      : inspection.empty
        ? 'no commits'
        : what
  return {
    result: {
      ...resultBase(repository),
      status,
      detail,
      refs: inspection.refs,
      lfsObjects: inspection.lfsObjects,
      bytes: inspection.bytes,
      bytesFetched: transferred.bytesFetched,
      seconds: (Date.now() - started) / 1000,
      ...(lfsMissing?.length ? { lfsMissing: oidsOf(lfsMissing) } : {})
    },
    mirrorReady: !failedLfs,
    state,
    fetched: true
  }
}
