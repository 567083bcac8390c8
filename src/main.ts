// run(): settings → listing → backup → report. Every failure ends in one core.setFailed line.
import * as core from '@actions/core'
import { runBackup, type BackupRun } from './backup/run.js'
import { createRunClock, type RunClock } from './backup/stop.js'
import { createRestBudget } from './bitbucket/budget.js'
import { createBitbucketClient, type BitbucketClient } from './bitbucket/client.js'
import { createBitbucketAuth } from './credentials/credentials.js'
import { firstLineOf, messageOf } from './shared/errors.js'
import { coded, ensureCoded } from './shared/codes.js'
import { listedRepositories, listForBackup } from './backup/listing.js'
import { peakRssBytes } from './shared/memory.js'
import {
  computeTotals,
  progressLine,
  publishReport,
  totalsLine,
  type RunTotals
} from './report/report.js'
import { Outputs } from './shared/constants.js'
import { formatBytes, formatDuration } from './shared/format.js'
import type { StepLog } from './shared/log.js'
import { resultBase, resultCode, type RepositoryResult } from './report/results.js'
import { createSlugFilter } from './settings/selection.js'
import { parseSettings } from './settings/settings.js'
import type { Settings } from './settings/types.js'
import { runIndexMerge, runPlan } from './shard/modes.js'
import { shardMatrix } from './shard/plan.js'
import { useCacheRoot } from './state/actions-cache.js'
import { cacheRoot } from './state/store.js'
import { createArtifactUploader, listRunArtifacts } from './targets/artifact/uploader.js'

/** The step's log, handed to every service: @actions/core, a repository's details in a group. */
const stepLog: StepLog = {
  info: message => core.info(message),
  warning: message => core.warning(message),
  debug: message => core.debug(message),
  group(title, lines) {
    core.startGroup(title)
    for (const line of lines) core.info(line)
    core.endGroup()
  }
}

/** The runner sends SIGINT, then SIGTERM about 7.5 s later, then kills: be gone before that. */
const EXIT_AFTER_SIGNAL_MS = 9000

export function readSettingsFromInputs(): Settings {
  return parseSettings({ get: name => core.getInput(name), mask: core.setSecret, env: process.env })
}

/** A cancel or timeout-minutes: stop starting work, save what finished, exit before the kill. */
function cancelOnSignals(clock: RunClock) {
  const onSignal = (signal: NodeJS.Signals) => {
    if (!clock.stopped) core.info(`${signal} received: starting nothing new and saving the state.`)
    clock.cancel()
    setTimeout(() => process.exit(1), EXIT_AFTER_SIGNAL_MS).unref()
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
}

function notesOf(settings: Settings, backup: BackupRun | undefined, clock: RunClock | undefined) {
  if (!backup || !clock) return []
  const notes: string[] = []
  const deferred = backup.results.filter(result => result.status === 'deferred').length
  if (settings.timeLimitSeconds !== undefined) {
    notes.push(
      `Time limit ${formatDuration(settings.timeLimitSeconds)}: ran ${formatDuration(clock.elapsed())}${deferred ? `; ${deferred} repositories deferred to the next run, which starts with them` : ''}.`
    )
  } else if (deferred) {
    notes.push(`${deferred} repositories deferred to the next run, which starts with them.`)
  }
  notes.push(
    `Peak disk used: ${formatBytes(backup.figures.peakDiskBytes)} of ${formatBytes(backup.figures.freeDiskBytes)} free at the start.`
  )
  const { metadataRequests, metadataDeferred } = backup.figures
  if (metadataRequests !== undefined) {
    notes.push(
      `Pull requests and Downloads took ${metadataRequests} REST requests (rest-budget: ${settings.metadata.restBudget} an hour)${metadataDeferred ? `; the metadata of ${metadataDeferred} repositories waits for the next run` : ''}.`
    )
  }
  return notes
}

async function listOnly(settings: Settings, client: BitbucketClient) {
  const isSelected = createSlugFilter(settings.include, settings.exclude)
  const results: RepositoryResult[] = []
  for await (const repository of listedRepositories(settings, client, stepLog)) {
    if (!isSelected(repository.slug)) continue
    const detail =
      repository.kind === 'snippet'
        ? `snippet "${repository.description}"`
        : repository.mainBranch
          ? `main branch ${repository.mainBranch}`
          : 'no commits'
    results.push({ ...resultBase(repository), status: 'listed', detail })
    core.info(progressLine(results.length, undefined, results[results.length - 1]))
  }
  return results
}

function describeRun(settings: Settings): string {
  if (settings.mode === 'plan') return `Planning ${settings.shards} shards of`
  if (settings.mode === 'index') return 'Indexing the shards of'
  if (settings.dryRun) return 'Listing'
  if (settings.shard) return `Backing up shard ${settings.shard.index}/${settings.shard.count} of`
  return 'Backing up'
}

export async function run(): Promise<void> {
  const started = Date.now()
  try {
    const settings = readSettingsFromInputs()
    const auth = createBitbucketAuth(settings.credential, { oauthTokenUrl: settings.oauthTokenUrl })
    const budget = createRestBudget(settings.metadata.restBudget)
    const client = createBitbucketClient({ apiUrl: settings.apiUrl, auth, log: stepLog, budget })
    const isSelected = createSlugFilter(settings.include, settings.exclude)
    core.info(`${describeRun(settings)} ${settings.workspaces.join(', ')} as ${auth.description}`)

    if (settings.mode === 'index') {
      await runIndexMerge(settings, createArtifactUploader(), listRunArtifacts, stepLog)
      return
    }
    let backup: BackupRun | undefined
    let clock: RunClock | undefined
    let listingError: Error | undefined
    let results: RepositoryResult[]
    if (settings.mode === 'plan') {
      await useCacheRoot(cacheRoot(settings))
      // The shards learn which workspaces refused their snippets: those are not gone.
      const snippetsRefused = new Set<string>()
      results = await runPlan(
        settings,
        listedRepositories(settings, client, stepLog, snippetsRefused),
        isSelected,
        stepLog,
        snippetsRefused
      )
      core.setOutput(Outputs.Matrix, JSON.stringify(shardMatrix(settings.shards)))
    } else if (settings.dryRun) {
      results = await listOnly(settings, client)
    } else {
      clock = createRunClock(settings.timeLimitSeconds)
      cancelOnSignals(clock)
      // A shard reads the plan's listing from the cache; anyone else creates nothing before listing.
      if (settings.shard) await useCacheRoot(cacheRoot(settings))
      const snippetsRefused = new Set<string>()
      backup = await runBackup({
        settings,
        listing: listForBackup(settings, client, stepLog, snippetsRefused),
        snippetsRefused,
        auth,
        isSelected,
        clock,
        log: stepLog,
        rest: { client, budget }
      })
      listingError = backup.listingError
      results = backup.results
    }

    const totals = computeTotals(results, (Date.now() - started) / 1000, client.requestCount)
    core.info(totalsLine(totals))
    await publishReport(
      results,
      totals,
      settings.reportPath,
      {
        workspaces: settings.workspaces,
        // The action's own peak memory (git runs in child processes): benchmarks read it here.
        peakRssBytes: peakRssBytes(),
        ...(settings.timeLimitSeconds !== undefined
          ? { timeLimitSeconds: settings.timeLimitSeconds }
          : {}),
        ...(backup ? { ...backup.figures, cancelled: backup.cancelled } : {})
      },
      notesOf(settings, backup, clock)
    )
    concludeRun(settings, totals, { listingError, backup }, results)
  } catch (error) {
    core.setFailed(ensureCoded('RUN001', messageOf(error)))
  }
}

/** The step's verdict, in one line; a cancelled run exits now, before the runner kills it. */
function concludeRun(
  settings: Settings,
  totals: RunTotals,
  run: { listingError?: Error; backup?: BackupRun },
  results: RepositoryResult[]
) {
  const { byStatus, repositories } = totals
  const done = byStatus['backed-up'] + byStatus.unchanged + byStatus.empty + byStatus.incomplete
  if (run.backup?.cancelled) {
    core.setFailed(
      coded(
        'TIME002',
        `Cancelled: ${done} of ${repositories} repositories were backed up and recorded; the next run continues from there.`
      )
    )
    process.exit(1)
  }
  if (byStatus.deferred > 0) {
    core.warning(
      coded(
        'TIME001',
        `${byStatus.deferred} of ${repositories} repositories were not reached within time-limit and are deferred; the next run starts with them.`
      )
    )
  }
  if (run.listingError) {
    core.setFailed(ensureCoded('RUN001', `Listing stopped early: ${firstLineOf(run.listingError)}`))
  } else if (run.backup?.targetError) {
    core.setFailed(ensureCoded('RUN001', firstLineOf(run.backup.targetError)))
  } else if (byStatus.failed > 0) {
    // The step's last line leads to the entry of the first failure, as the summary's verdict does.
    const first = results.find(result => result.status === 'failed')
    core.setFailed(
      coded(
        (first && resultCode(first)) ?? 'RUN001',
        `${byStatus.failed} of ${repositories} repositories were not backed up; see the job summary.`
      )
    )
  } else if (byStatus.incomplete > 0 && settings.failOnIncomplete) {
    core.setFailed(
      coded(
        'LFS002',
        `${byStatus.incomplete} of ${repositories} repositories are incomplete (LFS objects missing on Bitbucket) and fail-on-incomplete is set; see the job summary.`
      )
    )
  }
}
