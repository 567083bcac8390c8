// A backup run: every selected repository through the pipeline in backup order (many ref checks,
// `concurrency` transfers, the disk and the time budget permitting), state saved as it goes.
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import pLimit from 'p-limit'
import PQueue from 'p-queue'
import type { RestBudget } from '../bitbucket/budget.js'
import type { BitbucketClient } from '../bitbucket/client.js'
import type { BitbucketRepository } from '../bitbucket/types.js'
import type { MetadataService } from '../metadata/service.js'
import { checkConcurrency } from '../shared/constants.js'
import type { BitbucketAuth } from '../credentials/types.js'
import { asError } from '../shared/errors.js'
import type { StepLog } from '../shared/log.js'
import { createGit } from '../git/git.js'
import { progressLine } from '../report/report.js'
import type { RepositoryResult } from '../report/results.js'
import type { Settings } from '../settings/types.js'
import { inShard } from '../shard/plan.js'
import { createActionsCache, useCacheRoot } from '../state/actions-cache.js'
import { createStateBook, type StateBook } from '../state/checkpoints.js'
import type { WorkspaceState } from '../state/state.js'
import { bareUuid, cacheRoot, createStateStore, statePlace } from '../state/store.js'
import { createTargets } from './targets.js'
import type { BackupTarget, MirrorHome, RunProgress } from '../targets/contract/target.js'
import { createDiskGate, diskSpace, type DiskGate } from './disk.js'
import { createMirrorCache } from './mirror-cache.js'
import { estimatedBytes } from './order.js'
import { openMetadata } from './metadata.js'
import { createOriginTools } from './origins.js'
import { noLongerListed, unfinished } from './not-backed-up.js'
import { backUpRepository, type Pipeline, type RepositoryRun } from './pipeline.js'
import type { RunClock } from './stop.js'

export interface BackupRun {
  results: RepositoryResult[]
  /** Set when the listing stopped after its first page: what was listed is backed up, the step fails. */
  listingError?: Error
  /** A target's once-per-run work failed (the artifact index): the step fails. */
  targetError?: Error
  cancelled: boolean
  figures: {
    peakDiskBytes: number
    freeDiskBytes: number
    checkpoints: number
    [name: string]: number
  }
}

/** Before any transfer is measured, a slot is assumed to move this much a second (time budget). */
const ASSUMED_BYTES_PER_SECOND = 10 * 1024 * 1024
/** The state save after a cancel must be done before the runner's SIGTERM (about 7.5 s). */
const CANCEL_SAVE_MS = 5000
const CANCEL_FINISH_MS = 2000

/** Without the directory target, each mirror lives in the work dir for the run only. */
function workDirHome(workDir: string): MirrorHome {
  return {
    path: repository => path.join(workDir, 'mirrors', `${bareUuid(repository.uuid)}.git`),
    adopt: async () => undefined,
    stateDir: workspace => path.join(workDir, 'state', workspace)
  }
}

function createThroughput() {
  let bytes = 0
  let seconds = 0
  return {
    rate: () => (bytes > 1024 * 1024 && seconds > 0 ? bytes / seconds : ASSUMED_BYTES_PER_SECOND),
    add(moreBytes: number, moreSeconds: number) {
      bytes += moreBytes
      seconds += moreSeconds
    }
  }
}

const withTimeout = <T>(work: Promise<T>, ms: number): Promise<T | undefined> =>
  Promise.race([
    work,
    new Promise<undefined>(resolve => setTimeout(() => resolve(undefined), ms).unref())
  ])

async function finishTargets(
  targets: BackupTarget[],
  book: StateBook,
  results: RepositoryResult[],
  cancelled: boolean
): Promise<Error | undefined> {
  let failure: Error | undefined
  for (const target of targets) {
    await target.finish({ states: book.states, results, cancelled }).catch((error: unknown) => {
      failure ??= asError(error)
    })
  }
  return failure
}

/** Everything a run needs before its first repository: cache, targets, state, disk, pipeline. */
async function openRun(
  settings: Settings,
  auth: BitbucketAuth,
  clock: RunClock,
  progress: RunProgress,
  log: StepLog,
  rest?: { client: BitbucketClient; budget: RestBudget }
) {
  const cache = await createActionsCache(log, settings.cache)
  if (settings.cache && !cache.available) {
    log.info(
      'The Actions cache is not available here: state and mirrors stay on this machine only.'
    )
  }
  const origins = createOriginTools(settings, auth, clock.signal)
  // A group artifact uploaded after its members finished changes their kept states.
  let recorded = () => {}
  await fs.mkdir(settings.workDir, { recursive: true })
  const diskDirs = [
    settings.workDir,
    ...(settings.targets.includes('directory') ? [settings.backupDir] : [])
  ]
  const freeAtStart = (await diskSpace(diskDirs)).free
  const targets = createTargets(settings, {
    git: createGit([], [], clock.signal),
    progress,
    recorded: () => recorded(),
    // A group's staged files stay on disk until it is uploaded: at most an eighth of the free space.
    maxGroupBytes: Math.max(1024 * 1024, freeAtStart / 8),
    log
  })
  const home = targets.find(target => target.home)?.home ?? workDirHome(settings.workDir)
  const keepsMirrors = targets.some(target => target.home)
  const selfHostedKeeper = keepsMirrors && process.env.RUNNER_ENVIRONMENT === 'self-hosted'
  const store = createStateStore(
    statePlace(settings, keepsMirrors ? home.stateDir : undefined),
    cache,
    log
  )
  const states: WorkspaceState[] = []
  for (const workspace of settings.workspaces) states.push(await store.load(workspace))
  const book = createStateBook(store, states, { log })
  recorded = () => book.touched()
  for (const target of targets) await target.prepare?.(states)
  const metadata = openMetadata(settings, rest, clock.signal)
  metadata?.prepare(states)

  const disk: DiskGate = await createDiskGate({
    dirs: diskDirs,
    relieve: async () => {
      for (const target of targets) await target.relieve?.()
    }
  })
  // Transfers go by priority, checks as the listing comes: the first checked are not the first due.
  const transfers = new PQueue({ concurrency: settings.concurrency })
  const pipeline: Pipeline = {
    lfs: settings.lfs,
    verify: settings.verify,
    targets,
    home,
    keepsMirrors,
    mirrorCache: createMirrorCache(
      cache,
      cache.available && !selfHostedKeeper,
      settings.cacheSizeLimitBytes,
      bytes => disk.roomFor(bytes)
    ),
    disk,
    clock,
    book,
    auth,
    tools: url => origins.tools(url),
    slots: {
      check: pLimit(checkConcurrency(settings.concurrency)),
      transfer: <T>(priority: number, work: () => Promise<T>) =>
        transfers.add(work, { priority }) as Promise<T>
    },
    throughput: createThroughput(),
    verified: { intact: 0, damaged: 0 },
    metadata
  }
  return { pipeline, targets, book, disk, origins, states }
}

/**
 * Backs up the repositories as the listing streams in. A listing that fails before its first page
 * (a wrong credential, an unknown workspace) throws, having written nothing.
 */
export async function runBackup(input: {
  settings: Settings
  listing: AsyncIterable<BitbucketRepository>
  auth: BitbucketAuth
  isSelected: (slug: string) => boolean
  clock: RunClock
  /** The step's log: progress lines, each repository's details in a group, warnings. */
  log: StepLog
  /** The REST client and its budget, for what a repository holds beyond git. */
  rest?: { client: BitbucketClient; budget: RestBudget }
  /** Workspaces whose snippets the listing was refused (filled while listing). */
  snippetsRefused?: ReadonlySet<string>
}): Promise<BackupRun> {
  const { settings, clock, log } = input
  const listed = input.listing[Symbol.asyncIterator]()
  const first = await listed.next()
  await useCacheRoot(cacheRoot(settings))
  const remaining = { repositories: 0, bytes: 0 }
  let listingDone = () => {}
  const progress: RunProgress = {
    remaining: () => ({ ...remaining }),
    settled: new Promise<void>(resolve => (listingDone = resolve))
  }
  const { pipeline, targets, book, disk, origins, states } = await openRun(
    settings,
    input.auth,
    clock,
    progress,
    log,
    input.rest
  )

  const items: RepositoryRun[] = []
  const results: RepositoryResult[] = []
  const tasks: Promise<void>[] = []
  const seen = new Set<string>()
  const finished = (item: RepositoryRun, result: RepositoryResult, details: string[]) => {
    remaining.repositories--
    remaining.bytes -= item.plannedBytes
    results.push(result)
    log.info(progressLine(results.length, items.length, result))
    if (details.length > 0 && result.status !== 'deferred') {
      log.group(`details of ${result.workspace}/${result.slug}`, details)
    }
  }
  const start = (repository: BitbucketRepository) => {
    seen.add(repository.uuid)
    if (!input.isSelected(repository.slug) || !inShard(repository.uuid, settings.shard)) return
    const prior = book.prior(repository.workspace, repository.uuid)
    const item: RepositoryRun = {
      repository,
      prior,
      plannedBytes: estimatedBytes(repository, prior)
    }
    items.push(item)
    remaining.repositories++
    remaining.bytes += item.plannedBytes
    const details: string[] = []
    tasks.push(
      backUpRepository(pipeline, item, line => details.push(line)).then(result =>
        finished(item, result, details)
      )
    )
  }
  let listingError: Error | undefined
  const listing = (async () => {
    try {
      for (let next = first; !next.done; next = await listed.next()) start(next.value)
    } catch (error) {
      listingError = asError(error)
    }
    listingDone()
  })()
  const all = listing.then(() => Promise.all(tasks))
  const cancelled = await Promise.race([all.then(() => false), clock.cancelled.then(() => true)])
  const close = () => {
    disk.close()
    origins.close()
  }

  if (cancelled) {
    // In-flight work is abandoned (its git was ended): what finished is saved before SIGTERM. The
    // rest ends as deferred meanwhile; whatever has not by then is reported so, never left out.
    await withTimeout(Promise.all([book.save(true), all]), CANCEL_SAVE_MS)
    const reported = [...results, ...unfinished(items, results)]
    const targetError = await withTimeout(
      finishTargets(targets, book, reported, true),
      CANCEL_FINISH_MS
    )
    close()
    return {
      results: reported,
      listingError,
      targetError,
      cancelled,
      figures: figuresOf(disk, book, targets, pipeline.metadata)
    }
  }
  // A partial listing says nothing about what disappeared: only a complete one may.
  if (!listingError) {
    for (const result of noLongerListed(
      settings,
      states,
      seen,
      input.isSelected,
      input.snippetsRefused ?? new Set()
    )) {
      results.push(result)
      log.info(progressLine(results.length, results.length, result))
    }
  }
  if (settings.verify) {
    const { intact, damaged } = pipeline.verified
    log.info(`Verified ${intact + damaged} mirrors: ${intact} intact, ${damaged} damaged.`)
  }
  for (const line of pipeline.metadata?.warnings() ?? []) log.warning(line)
  const targetError = await finishTargets(targets, book, results, false)
  await book.save(true)
  await disk.sample()
  close()
  return {
    results,
    listingError,
    targetError,
    cancelled,
    figures: figuresOf(disk, book, targets, pipeline.metadata)
  }
}

function figuresOf(
  disk: DiskGate,
  book: StateBook,
  targets: BackupTarget[],
  metadata: MetadataService | undefined
) {
  return Object.assign(
    {
      peakDiskBytes: disk.peakUsedBytes,
      freeDiskBytes: disk.freeAtStart,
      checkpoints: book.checkpoints,
      ...(metadata
        ? { metadataRequests: metadata.requests, metadataDeferred: metadata.deferred }
        : {})
    },
    ...targets.map(target => target.figures?.() ?? {})
  ) as BackupRun['figures']
}
