// One repository through the whole pipeline: check → transfer → verify → every target that wants it
// → mirror cache → state → its working copy removed, so what is on disk is what is in flight.
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import type { BitbucketRepository } from '../bitbucket/types.js'
import type { BitbucketAuth } from '../credentials/types.js'
import { firstLineOf, isDiskFull, stackOf } from '../shared/errors.js'
import type { MirrorOps } from '../git/mirror.js'
import type { LfsObjectRef } from '../git/lfs-probe.js'
import type { Git } from '../git/git.js'
import { verifyMirror } from '../git/verify.js'
import { formatBytes } from '../shared/format.js'
import { pathExists } from '../shared/fs.js'
import { PUBLISHED_STATUSES, resultBase, type RepositoryResult } from '../report/results.js'
import type { StateBook } from '../state/checkpoints.js'
import type { RepositoryState } from '../state/state.js'
import type { BackupTarget, MirrorHome } from '../targets/contract/target.js'
import { NoRoomError, type DiskGate, type Reservation } from './disk.js'
import { describeRepositoryFailure } from './failure.js'
import type { MirrorCache } from './mirror-cache.js'
import { transferRepository, type RepositoryJob, type RepositoryOutcome } from './repository.js'
import { backupPriority } from './order.js'
import type { MetadataPlan, MetadataService } from '../metadata/service.js'
import { checkWithMetadata, collectBeforeTargets } from './metadata.js'
import type { RunClock } from './stop.js'
import { coded, ensureCoded } from '../shared/codes.js'

/** Per-origin tools: git with the credential bound to the origin, and the Node-side probes. */
export interface OriginTools {
  git: Git
  ops(
    log: (line: string) => void,
    beforeLfsFetch: (bytes: number, onDisk: number) => Promise<void>
  ): MirrorOps
  missingUpstream(url: string, objects: LfsObjectRef[]): Promise<Set<string> | undefined>
}

export interface Pipeline {
  lfs: boolean
  verify: boolean
  targets: BackupTarget[]
  home: MirrorHome
  /** True when mirrors stay in `home` after the run (directory target). */
  keepsMirrors: boolean
  mirrorCache: MirrorCache
  disk: DiskGate
  clock: RunClock
  book: StateBook
  auth: BitbucketAuth
  tools(url: string): OriginTools
  slots: {
    check: <T>(work: () => Promise<T>) => Promise<T>
    /** A transfer slot, the highest `priority` first (see backupPriority). */
    transfer: <T>(priority: number, work: () => Promise<T>) => Promise<T>
  }
  /** Mirrors read back in full this run (verify). */
  verified: { intact: number; damaged: number }
  /** Bytes of whole mirrors one transfer slot has moved per second so far (for the time budget). */
  throughput: { rate(): number; add(bytes: number, seconds: number): void }
  /** Pull requests and Downloads beside git; absent with metadata: none. */
  metadata?: MetadataService
}

export interface RepositoryRun {
  repository: BitbucketRepository
  prior: RepositoryState | undefined
  plannedBytes: number
}

function deferred(item: RepositoryRun, why: string): RepositoryResult {
  return { ...resultBase(item.repository), status: 'deferred', detail: why }
}

const DEFERRED = {
  'time-limit': 'not reached before time-limit; the next run starts with it',
  cancelled: 'not reached before the run was cancelled; the next run starts with it'
}
/** What a repository the cancellation caught in flight is: deferred, its state not recorded. */
export const INTERRUPTED = 'interrupted by the cancellation; the next run starts with it'

/**
 * Disk per byte of mirror for the heaviest step: the mirror itself, plus a bundle or encrypted copy
 * (targets), or a cache archive; `minimum` leaves the archive out (the mirror is then not cached).
 */
function diskFactors(pipeline: Pipeline, due: BackupTarget[]) {
  const publishing = Math.max(0, ...due.map(target => target.diskPerMirrorByte))
  const caching = pipeline.mirrorCache.enabled ? 1 : 0
  return { full: 1 + Math.max(publishing, caching), minimum: 1 + publishing }
}

/** What git, git-lfs and a tar need beyond the estimate: a little room for their own files. */
const DISK_SLACK = 1024 * 1024

/** Hands the mirror to every target that wants it; a target that fails fails the repository only. */
async function publish(
  pipeline: Pipeline,
  item: RepositoryRun,
  outcome: RepositoryOutcome & { state: RepositoryState },
  mirror: string,
  log: (line: string) => void
): Promise<boolean> {
  const { result, state } = outcome
  if (pipeline.verify) {
    const missing = new Set((state.lfsMissing ?? []).map(object => object.oid))
    const problems = await verifyMirror(
      pipeline.tools(item.repository.httpsCloneUrl).git,
      mirror,
      missing
    )
    if (problems.length > 0) {
      pipeline.verified.damaged++
      result.status = 'failed'
      result.detail = coded('GIT002', `verification found damage: ${problems.join('; ')}`)
      return false
    }
    pipeline.verified.intact++
    log('Verified: every object and LFS file reads back intact.')
  }
  let published = false
  for (const target of pipeline.targets) {
    if (!target.due(state)) continue
    try {
      await target.publish({
        repository: item.repository,
        mirror,
        state,
        result,
        log,
        plannedBytes: item.plannedBytes
      })
      published = true
    } catch (error) {
      log(stackOf(error))
      // Another target may have failed it already: both reasons stay in its one line.
      const reason = ensureCoded('RUN001', firstLineOf(error))
      result.detail = result.status === 'failed' ? `${result.detail}; ${reason}` : reason
      result.status = 'failed'
    }
  }
  return published
}

/** What a failure left behind goes: a half-made mirror, git-lfs's partial downloads. */
async function removePartialFiles(mirror: string, createdNow: boolean, kept: boolean) {
  if (createdNow || !kept) await fs.rm(mirror, { recursive: true, force: true })
  else await fs.rm(path.join(mirror, 'lfs', 'tmp'), { recursive: true, force: true })
  await fs.rm(`${mirror}.partial`, { recursive: true, force: true })
}

async function failureDetail(pipeline: Pipeline, error: unknown): Promise<string> {
  if (error instanceof NoRoomError) return coded('DISK002', error.message)
  if (isDiskFull(error)) {
    await pipeline.disk.sample()
    return coded(
      'DISK001',
      `the runner's disk filled up (${firstLineOf(error)}); its partial files were removed and the other repositories go on; give the runner more disk, or leave this repository out with exclude`
    )
  }
  return describeRepositoryFailure(error, pipeline.auth)
}

/** Each refusal waits for others to finish, so this is not reached in practice: a bound, not a rule. */
const MAX_ATTEMPTS = 10

/** Backs up one repository; never throws: every problem is its result. */
export async function backUpRepository(
  pipeline: Pipeline,
  item: RepositoryRun,
  log: (line: string) => void
): Promise<RepositoryResult> {
  for (let attempt = 1; ; attempt++) {
    const result = await attemptBackup(pipeline, item, log, attempt === MAX_ATTEMPTS)
    if (!('othersDone' in result)) return result
    log('Not enough disk beside the repositories in flight: it goes again once they are done.')
    await result.othersDone
  }
}

async function attemptBackup(
  pipeline: Pipeline,
  item: RepositoryRun,
  log: (line: string) => void,
  lastAttempt: boolean
): Promise<RepositoryResult | { othersDone: Promise<void> }> {
  const { repository, prior } = item
  const { clock } = pipeline
  const started = Date.now()
  if (clock.stopped) return deferred(item, DEFERRED[clock.stopped])
  const mirror = pipeline.home.path(repository)
  let reservation: (Reservation & { full: boolean }) | undefined
  let mirrorExisted = true
  try {
    await pipeline.home.adopt(repository, prior, log)
    const tools = pipeline.tools(repository.httpsCloneUrl)
    const what = `${repository.workspace}/${repository.slug}`
    let perByte = 1
    // LFS objects are known only once the history is: the reservation grows before git-lfs runs.
    const beforeLfsFetch = async (bytes: number, onDisk: number) => {
      if (!reservation) return
      // What git wrote already shows in statfs: reserving it again would count it twice.
      reservation.written(onDisk)
      await reservation.grow(bytes * perByte, `${what}'s LFS objects`)
    }
    const job: RepositoryJob = {
      repository,
      prior,
      lfs: pipeline.lfs,
      ops: tools.ops(log, beforeLfsFetch),
      mirror,
      mirrorWanted: !prior || pipeline.keepsMirrors || pipeline.targets.some(t => t.due(prior)),
      restoreMirror: () => pipeline.mirrorCache.restore(prior, mirror, log),
      missingUpstream: objects => tools.missingUpstream(repository.httpsCloneUrl, objects),
      log
    }
    const checkedWithPlan = await pipeline.slots.check(async () =>
      clock.stopped ? undefined : checkWithMetadata(job, pipeline.metadata)
    )
    if (!checkedWithPlan) return deferred(item, DEFERRED[clock.stopped ?? 'cancelled'])
    const { check, plan } = checkedWithPlan
    const checked = 'outcome' in check ? check.outcome : undefined
    const checkEnded = Date.now()
    const dueAfterCheck = checked?.state ? pipeline.targets.filter(t => t.due(checked.state!)) : []
    // An unchanged mirror on disk whose targets only write files needs no slot and no disk.
    const light = !pipeline.verify && dueAfterCheck.every(target => !target.costly)
    if (checked && (!checked.mirrorReady || light)) {
      return await conclude(pipeline, item, checked, mirror, log, undefined, plan)
    }
    return await pipeline.slots.transfer(backupPriority(prior, item.plannedBytes), async () => {
      if (clock.stopped) return deferred(item, DEFERRED[clock.stopped])
      // Time spent waiting for a transfer slot is not this repository's.
      if ('pending' in check) check.pending.started += Date.now() - checkEnded
      // A changed repository will be due wherever it goes; an unchanged one where the check said.
      const due = checked ? dueAfterCheck : pipeline.targets
      mirrorExisted = await pathExists(mirror)
      // A clone, a cache restore or an upload moves the whole mirror; a fetch only what changed.
      const whole = !mirrorExisted || due.some(target => target.costly)
      const seconds = whole ? item.plannedBytes / pipeline.throughput.rate() : 0
      if (!clock.mayStart(seconds)) return deferred(item, DEFERRED['time-limit'])
      const factors = diskFactors(pipeline, due)
      perByte = factors.full
      const bytes = item.plannedBytes + DISK_SLACK
      reservation = await pipeline.disk.admit(
        bytes * factors.full,
        `${what} (${formatBytes(item.plannedBytes)} on Bitbucket)`,
        bytes * factors.minimum
      )
      if (!reservation.full) perByte = factors.minimum
      const heavyStarted = Date.now()
      const outcome =
        'outcome' in check ? check.outcome : await transferRepository(job, check.pending)
      reservation.written(outcome.state?.bytes ?? 0)
      const result = await conclude(pipeline, item, outcome, mirror, log, reservation, plan)
      if (whole && outcome.state) {
        pipeline.throughput.add(outcome.state.bytes, (Date.now() - heavyStarted) / 1000)
      }
      return result
    })
  } catch (error) {
    // Refused while others held the disk: alone, it may fit.
    const othersDone = error instanceof NoRoomError && !lastAttempt ? error.othersDone : undefined
    if (!othersDone) log(stackOf(error))
    await removePartialFiles(mirror, !mirrorExisted, pipeline.keepsMirrors).catch(() => undefined)
    if (clock.stopped === 'cancelled') return deferred(item, INTERRUPTED)
    if (othersDone) return { othersDone }
    return {
      ...resultBase(repository),
      status: 'failed',
      detail: await failureDetail(pipeline, error),
      seconds: (Date.now() - started) / 1000
    }
  } finally {
    if (!pipeline.keepsMirrors)
      await fs.rm(mirror, { recursive: true, force: true }).catch(() => undefined)
    reservation?.release()
  }
}

/** Targets, then the mirror cache, then the state: a repository is done once its state is kept. */
async function conclude(
  pipeline: Pipeline,
  item: RepositoryRun,
  outcome: RepositoryOutcome,
  mirror: string,
  log: (line: string) => void,
  reservation?: Reservation,
  plan?: MetadataPlan
): Promise<RepositoryResult> {
  const { state, result } = outcome
  if (!state) return result
  let published = false
  const ready = outcome.mirrorReady && PUBLISHED_STATUSES.has(result.status)
  if (pipeline.metadata && plan) {
    const where = ready ? mirror : undefined
    await collectBeforeTargets(pipeline.metadata, plan, {
      ...item,
      mirror: where,
      state,
      result,
      log
    })
  }
  if (ready) {
    published = await publish(pipeline, item, { ...outcome, state }, mirror, log)
    state.mirrorCacheKey = await pipeline.mirrorCache.save(
      state,
      item.prior,
      mirror,
      pipeline.lfs,
      log,
      // The archive's room may be in the repository's own reservation: never counted against it.
      reservation && (bytes => reservation.roomFor(bytes))
    )
    if (!state.mirrorCacheKey) delete state.mirrorCacheKey
  }
  // Once cancelled, the state saved may already be written: only what it holds is reported done.
  if (pipeline.clock.stopped === 'cancelled') return deferred(item, INTERRUPTED)
  pipeline.book.record(state, outcome.fetched || published)
  return result
}
