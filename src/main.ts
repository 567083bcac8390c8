// run(): settings → listing → report. Every failure ends in one core.setFailed line.
import * as core from '@actions/core'
import { createBitbucketClient, type BitbucketClient } from './bitbucket/client.js'
import type { BitbucketRepository } from './bitbucket/types.js'
import { publishArtifacts } from './artifact/publish.js'
import { uploadDue } from './artifact/plan.js'
import { createArtifactUploader, listRunArtifacts } from './artifact/uploader.js'
import { mirrorsToVerify, verifyAllMirrors } from './backup/full-verify.js'
import { runBackup } from './backup/run.js'
import type { BitbucketAuth } from './credentials-types.js'
import { createGit } from './git/git.js'
import { githubPushDue, mirrorToGitHub } from './github/target.js'
import { peakRssBytes } from './memory.js'
import { resultBase, SUCCESS_STATUSES, type RepositoryResult } from './results.js'
import type { RepositoryState } from './state/state.js'
import { createBitbucketAuth } from './credentials.js'
import { computeTotals, progressLine, publishReport, totalsLine } from './report.js'
import { createSlugFilter } from './selection.js'
import { runIndexMerge, runPlan, planDir } from './shard/modes.js'
import { loadPlanListing } from './shard/plan.js'
import { createActionsCache } from './state/actions-cache.js'
import { parseSettings } from './settings.js'
import type { Settings } from './settings-types.js'

export function readSettingsFromInputs(): Settings {
  return parseSettings({ get: name => core.getInput(name), mask: core.setSecret, env: process.env })
}

/** Streams the repositories of every workspace, so work can start while later pages load. */
async function* listedRepositories(
  settings: Settings,
  client: BitbucketClient
): AsyncGenerator<BitbucketRepository> {
  for (const workspace of settings.workspaces) {
    yield* client.listRepositories(workspace, { projects: settings.projects })
  }
}

/** A shard reads the plan job's listing: the whole matrix lists the workspace once. */
async function* shardListing(
  settings: Settings,
  client: BitbucketClient
): AsyncGenerator<BitbucketRepository> {
  const planned = settings.shard
    ? await loadPlanListing(createActionsCache(core, true), planDir(settings), settings.workspaces)
    : undefined
  if (planned) {
    core.info(`Read the plan's listing: ${planned.length} repositories, no REST listing needed.`)
    yield* planned
    return
  }
  if (settings.shard) {
    core.info('No plan listing in this run (mode: plan): this shard lists the workspace itself.')
  }
  yield* listedRepositories(settings, client)
}

async function listOnly(
  settings: Settings,
  client: BitbucketClient,
  isSelected: (slug: string) => boolean
) {
  const results: RepositoryResult[] = []
  for await (const repository of listedRepositories(settings, client)) {
    if (!isSelected(repository.slug)) continue
    results.push(listedResult(repository))
    core.info(progressLine(results.length, undefined, results[results.length - 1]))
  }
  return { results, listingError: undefined, targetError: undefined, githubRequests: 0 }
}

function listedResult(repository: BitbucketRepository): RepositoryResult {
  return {
    ...resultBase(repository),
    status: 'listed',
    detail: repository.mainBranch ? `main branch ${repository.mainBranch}` : 'no commits'
  }
}

/** Mirrors first, then the targets that read them; state is written last, with what they did. */
async function backUpAndKeep(
  settings: Settings,
  listing: AsyncIterable<BitbucketRepository>,
  auth: BitbucketAuth,
  isSelected: (slug: string) => boolean
) {
  const toArtifacts = settings.targets.includes('artifact')
  const github = settings.github
  const now = new Date()
  const due = (state: RepositoryState | undefined) =>
    toArtifacts && uploadDue(state, settings.artifact.retentionDays, now)
  const githubDue = (state: RepositoryState | undefined) =>
    github !== undefined && githubPushDue(github, state, settings.lfs)
  const backup = await runBackup(settings, listing, auth, isSelected, {
    wantsMirror: state => due(state) || githubDue(state)
  })
  let targetError: Error | undefined
  if (toArtifacts) {
    await publishArtifacts({
      settings: settings.artifact,
      candidates: backup.ready.filter(
        item => SUCCESS_STATUSES.has(item.result.status) && due(item.state)
      ),
      states: backup.states,
      git: createGit(),
      lfs: settings.lfs,
      workDir: settings.workDir,
      uploader: createArtifactUploader(),
      log: core
    }).catch((error: unknown) => {
      targetError = error instanceof Error ? error : new Error(String(error))
    })
  }
  let githubRequests = 0
  if (github) {
    const mirrored = await mirrorToGitHub({
      settings: github,
      candidates: backup.ready.filter(
        item => SUCCESS_STATUSES.has(item.result.status) && githubDue(item.state)
      ),
      lfs: settings.lfs,
      concurrency: settings.concurrency,
      log: core
    })
    githubRequests = mirrored.restRequests
  }
  if (settings.verify) {
    await verifyAllMirrors({
      git: createGit(),
      mirrors: mirrorsToVerify(backup.ready, backup.storedMirrors),
      results: backup.results,
      log: core
    })
  }
  await backup.saveState()
  return { ...backup, targetError, githubRequests }
}

export async function run(): Promise<void> {
  const started = Date.now()
  try {
    const settings = readSettingsFromInputs()
    const auth = createBitbucketAuth(settings.credential, { oauthTokenUrl: settings.oauthTokenUrl })
    const client = createBitbucketClient({ apiUrl: settings.apiUrl, auth, log: core })
    const isSelected = createSlugFilter(settings.include, settings.exclude)
    const doing =
      settings.mode === 'plan'
        ? `Planning ${settings.shards} shards of`
        : settings.mode === 'index'
          ? 'Indexing the shards of'
          : settings.dryRun
            ? 'Listing'
            : settings.shard
              ? `Backing up shard ${settings.shard.index}/${settings.shard.count} of`
              : 'Backing up'
    core.info(`${doing} ${settings.workspaces.join(', ')} as ${auth.description}`)

    if (settings.mode === 'index') {
      await runIndexMerge(settings, createArtifactUploader(), listRunArtifacts)
      return
    }
    const { results, listingError, targetError, githubRequests } =
      settings.mode === 'plan'
        ? {
            results: await runPlan(settings, listedRepositories(settings, client), isSelected),
            listingError: undefined,
            targetError: undefined,
            githubRequests: 0
          }
        : settings.dryRun
          ? await listOnly(settings, client, isSelected)
          : await backUpAndKeep(settings, shardListing(settings, client), auth, isSelected)
    if (listingError && results.length === 0) throw listingError

    const totals = computeTotals(results, (Date.now() - started) / 1000, client.requestCount)
    core.info(totalsLine(totals))
    await publishReport(results, totals, settings.reportPath, {
      workspaces: settings.workspaces,
      // The action's own peak memory (git runs in child processes): benchmarks read it here.
      peakRssBytes: peakRssBytes(),
      githubRequests
    })
    if (listingError) {
      core.setFailed(`Listing stopped early: ${listingError.message}`)
    } else if (targetError) {
      core.setFailed(`The artifact index was not uploaded: ${targetError.message}`)
    } else if (totals.byStatus.failed > 0) {
      core.setFailed(
        `${totals.byStatus.failed} of ${totals.repositories} repositories were not backed up; see the job summary.`
      )
    }
  } catch (error) {
    core.setFailed(error instanceof Error ? error.message : String(error))
  }
}
