// Backs up every selected repository as the listing streams in: many ref checks, `concurrency` transfers.
import * as core from '@actions/core'
import pLimit from 'p-limit'
import type { BitbucketRepository } from '../bitbucket/types.js'
import type { BitbucketAuth } from '../credentials-types.js'
import { originBoundGitAuthorization } from '../credentials.js'
import { createGit, type Git } from '../git/git.js'
import { createMirrorOps } from '../git/mirror.js'
import {
  createRefAdvertisementClient,
  proxyConfigured,
  type RefAdvertisementClient
} from '../git/ref-advertisement.js'
import { progressLine } from '../report.js'
import { resultBase, type RepositoryResult } from '../results.js'
import type { Settings } from '../settings-types.js'
import { createActionsCache } from '../state/actions-cache.js'
import type { RepositoryState, WorkspaceState } from '../state/state.js'
import { createStateStore } from '../state/store.js'
import { inShard } from '../shard/plan.js'
import { checkConcurrency } from '../constants.js'
import { describeRepositoryFailure } from './failure.js'
import { checkRepository, transferRepository, type RepositoryJob } from './repository.js'

export interface BackupRun {
  results: RepositoryResult[]
  /** Set when the listing itself failed (bad credential, unknown workspace): the run must fail. */
  listingError?: Error
  /** Repositories whose complete mirror is on disk now, for the targets that read mirrors. */
  ready: ReadyMirror[]
  states: WorkspaceState[]
  /** Writes the state (after the targets recorded what they did). */
  saveState(): Promise<void>
  git: (url: string) => Git
  /** With the directory target: every repository's mirror, listed or not (for full verification). */
  storedMirrors: { uuid: string; mirror: string }[] | undefined
}

export interface ReadyMirror {
  repository: BitbucketRepository
  mirror: string
  state: RepositoryState
  result: RepositoryResult
}

export interface BackupOptions {
  /** Whether a repository's mirror must be on disk this run even when it did not change. */
  wantsMirror(prior: RepositoryState | undefined): boolean
}

/** Repositories in the state that the listing no longer returns: their backup is kept, never deleted. */
function noLongerListed(
  settings: Settings,
  states: Map<string, WorkspaceState>,
  seen: Set<string>,
  isSelected: (slug: string) => boolean,
  inScope: (uuid: string) => boolean
): RepositoryResult[] {
  const results: RepositoryResult[] = []
  for (const state of states.values()) {
    for (const prior of Object.values(state.repositories)) {
      if (seen.has(prior.uuid) || !isSelected(prior.slug) || !inScope(prior.uuid)) continue
      if (settings.projects.length > 0 && !settings.projects.includes(prior.projectKey ?? '')) {
        continue
      }
      results.push({
        workspace: prior.workspace,
        slug: prior.slug,
        uuid: prior.uuid,
        status: 'no-longer-listed',
        detail: `not in the listing any more; the backup of ${prior.lastBackupAt} is kept`,
        refs: prior.refs,
        lfsObjects: prior.lfsObjects,
        bytes: prior.bytes
      })
    }
  }
  return results
}

export async function runBackup(
  settings: Settings,
  listing: AsyncIterable<BitbucketRepository>,
  auth: BitbucketAuth,
  isSelected: (slug: string) => boolean,
  options: BackupOptions
): Promise<BackupRun> {
  const cache = createActionsCache(core, settings.cache)
  const store = createStateStore(settings, cache)
  if (settings.cache && !cache.available) {
    core.info(
      'The Actions cache is not available here: state and mirrors stay on this machine only.'
    )
  }
  const states = new Map<string, WorkspaceState>()
  for (const workspace of settings.workspaces) states.set(workspace, await store.load(workspace))

  // The credential goes only to the origin of each clone URL, never to LFS storage hosts.
  const checks = checkConcurrency(settings.concurrency)
  const byOrigin = new Map<string, { git: Git; refs?: RefAdvertisementClient }>()
  const originOf = (url: string) => {
    const origin = new URL(url).origin
    let tools = byOrigin.get(origin)
    if (!tools) {
      tools = {
        git: createGit([{ origin, authorization: () => auth.gitAuthorization() }]),
        // Behind a proxy only git knows the way (Node's http ignores the proxy variables).
        refs: proxyConfigured()
          ? undefined
          : createRefAdvertisementClient({
              authorization: originBoundGitAuthorization(auth, origin),
              maxSockets: checks
            })
      }
      byOrigin.set(origin, tools)
    }
    return tools
  }
  const gitFor = (url: string): Git => originOf(url).git

  let cacheBytesLeft = settings.cacheSizeLimitBytes
  const reserveCacheBytes = (bytes: number) => {
    if (bytes > cacheBytesLeft) return false
    cacheBytesLeft -= bytes
    return true
  }

  const results: RepositoryResult[] = []
  const ready: ReadyMirror[] = []
  const seen = new Set<string>()
  const checkLimit = pLimit(checks)
  const transferLimit = pLimit(settings.concurrency)
  const pending: Promise<void>[] = []
  let selected = 0

  const finish = (result: RepositoryResult, details: string[]) => {
    results.push(result)
    core.info(progressLine(results.length, selected, result))
    if (details.length > 0) {
      core.startGroup(`details of ${result.workspace}/${result.slug}`)
      for (const line of details) core.info(line)
      core.endGroup()
    }
  }

  const backUp = async (repository: BitbucketRepository) => {
    const state = states.get(repository.workspace)
    const details: string[] = []
    const started = Date.now()
    const log = (line: string) => details.push(line)
    const prior = state?.repositories[repository.uuid]
    try {
      const tools = originOf(repository.httpsCloneUrl)
      const job: RepositoryJob = {
        repository,
        prior,
        mirrorWanted: store.mirrorsOnDisk || options.wantsMirror(prior),
        lfs: settings.lfs,
        ops: createMirrorOps(tools.git, {
          lfs: settings.lfs,
          log,
          advertisedRefs: tools.refs?.advertisedRefs
        }),
        store,
        cache,
        reserveCacheBytes,
        log
      }
      const check = await checkLimit(() => checkRepository(job))
      const checkMs = 'pending' in check ? Date.now() - check.pending.started : 0
      const outcome =
        'outcome' in check
          ? check.outcome
          : await transferLimit(() =>
              // Time spent waiting for a transfer slot is not this repository's.
              transferRepository(job, { ...check.pending, started: Date.now() - checkMs })
            )
      if (outcome.state && state) state.repositories[repository.uuid] = outcome.state
      if (outcome.mirrorReady && outcome.state) {
        const mirror = store.mirrorPath(repository.workspace, repository.slug, repository.uuid)
        ready.push({ repository, mirror, state: outcome.state, result: outcome.result })
      }
      finish(outcome.result, details)
    } catch (error) {
      details.push(error instanceof Error && error.stack ? error.stack : String(error))
      finish(
        {
          ...resultBase(repository),
          status: 'failed',
          detail: describeRepositoryFailure(error, auth),
          seconds: (Date.now() - started) / 1000
        },
        details
      )
    }
  }

  let listingError: Error | undefined
  try {
    for await (const repository of listing) {
      seen.add(repository.uuid)
      if (!isSelected(repository.slug) || !inShard(repository.uuid, settings.shard)) continue
      selected++
      pending.push(backUp(repository))
    }
  } catch (error) {
    listingError = error instanceof Error ? error : new Error(String(error))
  }
  await Promise.all(pending)
  for (const tools of byOrigin.values()) tools.refs?.close()

  // A partial listing says nothing about what disappeared: only a complete one may.
  if (!listingError) {
    const inScope = (uuid: string) => inShard(uuid, settings.shard)
    for (const result of noLongerListed(settings, states, seen, isSelected, inScope)) {
      results.push(result)
      core.info(progressLine(results.length, results.length, result))
    }
  }
  return {
    results,
    listingError,
    ready,
    states: [...states.values()],
    saveState: async () => {
      for (const state of states.values()) await store.save(state)
    },
    git: gitFor,
    storedMirrors: store.mirrorsOnDisk
      ? [...states.values()].flatMap(state =>
          Object.values(state.repositories).map(repository => ({
            uuid: repository.uuid,
            mirror: store.mirrorPath(repository.workspace, repository.slug, repository.uuid)
          }))
        )
      : undefined
  }
}
