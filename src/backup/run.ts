// A backup run: every selected repository through the pipeline in backup order (many ref checks,
// `concurrency` transfers, the disk and the time budget permitting), state saved as it goes.
import * as core from '@actions/core'
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import pLimit from 'p-limit'
import type { BitbucketRepository } from '../bitbucket/types.js'
import { checkConcurrency } from '../constants.js'
import { originBoundGitAuthorization } from '../credentials.js'
import type { BitbucketAuth } from '../credentials-types.js'
import { asError } from '../errors.js'
import { createGit } from '../git/git.js'
import { lfsObjectsMissingUpstream } from '../git/lfs-probe.js'
import { createMirrorOps } from '../git/mirror.js'
import { createRefAdvertisementClient, proxyConfigured } from '../git/ref-advertisement.js'
import { progressLine } from '../report.js'
import { resultBase, type RepositoryResult } from '../results.js'
import type { Settings } from '../settings-types.js'
import { inShard } from '../shard/plan.js'
import { createActionsCache } from '../state/actions-cache.js'
import { createStateBook, type StateBook } from '../state/checkpoints.js'
import type { WorkspaceState } from '../state/state.js'
import { bareUuid, createStateStore, statePlace } from '../state/store.js'
import { createTargets } from '../targets/index.js'
import type { BackupTarget, MirrorHome } from '../targets/target.js'
import { createDiskGate, diskSpace, type DiskGate } from './disk.js'
import { createMirrorCache } from './mirror-cache.js'
import { estimatedBytes, inBackupOrder } from './order.js'
import {
  backUpRepository,
  INTERRUPTED,
  type OriginTools,
  type Pipeline,
  type RepositoryRun
} from './pipeline.js'
import type { RunClock } from './stop.js'

export interface BackupRun {
  results: RepositoryResult[]
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

/** Repositories in the state that the listing no longer returns: their backup is kept, never deleted. */
function noLongerListed(
  settings: Settings,
  states: WorkspaceState[],
  seen: Set<string>,
  isSelected: (slug: string) => boolean
): RepositoryResult[] {
  return states.flatMap(state =>
    Object.values(state.repositories)
      .filter(prior => !seen.has(prior.uuid) && isSelected(prior.slug))
      .filter(prior => inShard(prior.uuid, settings.shard))
      .filter(
        prior => !settings.projects.length || settings.projects.includes(prior.projectKey ?? '')
      )
      .map(prior => ({
        workspace: prior.workspace,
        slug: prior.slug,
        uuid: prior.uuid,
        status: 'no-longer-listed' as const,
        detail: `not in the listing any more; the backup of ${prior.lastBackupAt} is kept`,
        refs: prior.refs,
        lfsObjects: prior.lfsObjects,
        bytes: prior.bytes
      }))
  )
}

/** Repositories without a result yet when a cancelled run reports. */
function unfinished(items: RepositoryRun[], results: RepositoryResult[]): RepositoryResult[] {
  const reported = new Set(results.map(result => result.uuid))
  return items
    .filter(item => !reported.has(item.repository.uuid))
    .map(item => ({
      ...resultBase(item.repository),
      status: 'deferred' as const,
      detail: INTERRUPTED
    }))
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

/** Per clone origin: git with the credential bound to it, and Node's own reads of refs and LFS. */
function createOriginTools(settings: Settings, auth: BitbucketAuth, clock: RunClock) {
  const byOrigin = new Map<string, OriginTools & { close(): void }>()
  const checks = checkConcurrency(settings.concurrency)
  return {
    tools(url: string): OriginTools {
      const origin = new URL(url).origin
      let tools = byOrigin.get(origin)
      if (!tools) {
        const authorization = originBoundGitAuthorization(auth, origin)
        const git = createGit(
          [{ origin, authorization: () => auth.gitAuthorization() }],
          [],
          clock.signal
        )
        // Behind a proxy only git knows the way (Node's http ignores the proxy variables).
        const direct = !proxyConfigured()
        const refs = direct
          ? createRefAdvertisementClient({ authorization, maxSockets: checks })
          : undefined
        tools = {
          git,
          ops: (log, beforeLfsFetch) =>
            createMirrorOps(git, {
              lfs: settings.lfs,
              log,
              advertisedRefs: refs?.advertisedRefs,
              beforeLfsFetch
            }),
          missingUpstream: async (cloneUrl, objects) =>
            direct ? lfsObjectsMissingUpstream(cloneUrl, objects, { authorization }) : undefined,
          close: () => refs?.close()
        }
        byOrigin.set(origin, tools)
      }
      return tools
    },
    close() {
      for (const tools of byOrigin.values()) tools.close()
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

export async function runBackup(input: {
  settings: Settings
  repositories: BitbucketRepository[]
  /** False when the listing stopped early: nothing may then be called no longer listed. */
  listingComplete: boolean
  auth: BitbucketAuth
  isSelected: (slug: string) => boolean
  clock: RunClock
}): Promise<BackupRun> {
  const { settings, clock } = input
  const cache = createActionsCache(core, settings.cache)
  if (settings.cache && !cache.available) {
    core.info(
      'The Actions cache is not available here: state and mirrors stay on this machine only.'
    )
  }
  const selected = input.repositories.filter(
    repository => input.isSelected(repository.slug) && inShard(repository.uuid, settings.shard)
  )
  const remaining = { repositories: selected.length, bytes: 0 }
  const origins = createOriginTools(settings, input.auth, clock)
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
    progress: { remaining: () => ({ ...remaining }) },
    recorded: () => recorded(),
    // A group's staged files stay on disk until it is uploaded: at most an eighth of the free space.
    maxGroupBytes: Math.max(1024 * 1024, freeAtStart / 8)
  })
  const home = targets.find(target => target.home)?.home ?? workDirHome(settings.workDir)
  const keepsMirrors = targets.some(target => target.home)
  const selfHostedKeeper = keepsMirrors && process.env.RUNNER_ENVIRONMENT === 'self-hosted'
  const store = createStateStore(
    statePlace(settings, keepsMirrors ? home.stateDir : undefined),
    cache
  )
  const states: WorkspaceState[] = []
  for (const workspace of settings.workspaces) states.push(await store.load(workspace))
  const book = createStateBook(store, states, { warning: message => core.warning(message) })
  recorded = () => book.touched()
  for (const target of targets) await target.prepare?.(states)

  const disk: DiskGate = await createDiskGate({
    dirs: diskDirs,
    relieve: async () => {
      for (const target of targets) await target.relieve?.()
    }
  })
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
    auth: input.auth,
    tools: url => origins.tools(url),
    slots: {
      check: pLimit(checkConcurrency(settings.concurrency)),
      transfer: pLimit(settings.concurrency)
    },
    throughput: createThroughput(),
    verified: { intact: 0, damaged: 0 }
  }

  const items: RepositoryRun[] = inBackupOrder(
    selected.map(repository => {
      const prior = book.prior(repository.workspace, repository.uuid)
      const plannedBytes = estimatedBytes(repository, prior)
      remaining.bytes += plannedBytes
      return { repository, prior, plannedBytes }
    })
  )
  const results: RepositoryResult[] = []
  const finished = (item: RepositoryRun, result: RepositoryResult, details: string[]) => {
    remaining.repositories--
    remaining.bytes -= item.plannedBytes
    results.push(result)
    core.info(progressLine(results.length, selected.length, result))
    if (details.length > 0 && result.status !== 'deferred') {
      core.startGroup(`details of ${result.workspace}/${result.slug}`)
      for (const line of details) core.info(line)
      core.endGroup()
    }
  }
  const all = Promise.all(
    items.map(async item => {
      const details: string[] = []
      const result = await backUpRepository(pipeline, item, line => details.push(line))
      finished(item, result, details)
    })
  )
  const cancelled = await Promise.race([all.then(() => false), clock.cancelled.then(() => true)])

  if (cancelled) {
    // In-flight work is abandoned (its git was ended): what finished is saved before SIGTERM. The
    // rest ends as deferred meanwhile; whatever has not by then is reported so, never left out.
    await withTimeout(Promise.all([book.save(true), all]), CANCEL_SAVE_MS)
    const reported = [...results, ...unfinished(items, results)]
    const targetError = await withTimeout(
      finishTargets(targets, book, reported, true),
      CANCEL_FINISH_MS
    )
    disk.close()
    origins.close()
    return { results: reported, targetError, cancelled, figures: figuresOf(disk, book, targets) }
  }
  if (input.listingComplete) {
    const seen = new Set(input.repositories.map(repository => repository.uuid))
    for (const result of noLongerListed(settings, states, seen, input.isSelected)) {
      results.push(result)
      core.info(progressLine(results.length, results.length, result))
    }
  }
  if (settings.verify) {
    const { intact, damaged } = pipeline.verified
    core.info(`Verified ${intact + damaged} mirrors: ${intact} intact, ${damaged} damaged.`)
  }
  const targetError = await finishTargets(targets, book, results, false)
  await book.save(true)
  await disk.sample()
  disk.close()
  origins.close()
  return { results, targetError, cancelled, figures: figuresOf(disk, book, targets) }
}

function figuresOf(disk: DiskGate, book: StateBook, targets: BackupTarget[]) {
  return Object.assign(
    {
      peakDiskBytes: disk.peakUsedBytes,
      freeDiskBytes: disk.freeAtStart,
      checkpoints: book.checkpoints
    },
    ...targets.map(target => target.figures?.() ?? {})
  ) as BackupRun['figures']
}
