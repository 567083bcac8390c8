// A repository's metadata once its mirror is on disk: changed pull requests, Downloads and due settings
// archived into refs/backup/metadata, and the state moved on only as far as what was archived.
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { BudgetSpentError } from '../bitbucket/budget.js'
import type { BitbucketRepository } from '../bitbucket/types.js'
import { firstLineOf } from '../shared/errors.js'
import type { MetadataState, RepositoryState } from '../state/state.js'
import { openArchive, type Archive } from './archive.js'
import { archiveDownloads, downloadsDigest, listDownloads } from './downloads.js'
import {
  ArchivePaths,
  type ArchiveManifest,
  type ArchivedPullRequest,
  type MetadataKind
} from './layout.js'
import {
  archivePullRequest,
  differs,
  probePullRequests,
  type PullRequestSummary
} from './pull-requests.js'
import { countingClient, type MetadataPlan, type MetadataService } from './service.js'
import { archiveSnippet } from './snippets.js'
import { archiveSettings, readSettings } from './settings.js'

/** What a repository's metadata came to in this run (the report's per-repository fields). */
export interface MetadataOutcome {
  /** Pull requests archived (fetched again) in this run. */
  pullRequests: number
  /** Downloads fetched in this run. */
  downloads: number
  /** A snippet's comments archived in this run (its object with them). */
  snippetComments?: number
  /** REST requests its metadata spent. */
  requests: number
  /** Why the REST budget held it back, when it did. */
  deferred?: string
  problems?: string[]
}

export interface CollectWork {
  repository: BitbucketRepository
  /** The mirror on disk, or undefined when it is not (then only the state's clock moves). */
  mirror: string | undefined
  /** The repository's new state: its `metadata` is rewritten here. */
  state: RepositoryState
  log(line: string): void
}

const later = (a: string | undefined, b: string | undefined) => (!a ? b : !b ? a : a > b ? a : b)

interface PullRequestPass {
  archived: number
  /** The newest update up to which every pull request is archived. */
  since: string | undefined
  complete: boolean
}

/** Archives the plan's pull requests oldest update first; the cursor never passes one not archived. */
async function passPullRequests(
  service: MetadataService,
  plan: MetadataPlan,
  work: CollectWork,
  archive: Archive,
  scratch: string,
  since: string | undefined
): Promise<PullRequestPass> {
  const summaries: PullRequestSummary[] = plan.pullRequests ?? []
  const files = summaries.map(summary => ArchivePaths.pullRequest(summary.id))
  const kept = await archive.readMany(files)
  const pass: PullRequestPass = { archived: 0, since, complete: true }
  const client = countingClient(service.options.client, plan)
  for (const [i, summary] of summaries.entries()) {
    const text = kept.get(files[i])
    const previous = text ? (JSON.parse(text) as ArchivedPullRequest) : undefined
    try {
      if (!plan.fullPass || differs(summary, previous)) {
        const git = service.options.git
        const pr = { client, git, gitDir: work.mirror!, base: service.base(work.repository) }
        await archivePullRequest({ ...pr, archive, scratch }, summary, previous)
        pass.archived++
      }
    } catch (error) {
      if (!(error instanceof BudgetSpentError))
        plan.problems.push(`pull request #${summary.id}: ${firstLineOf(error)}`)
      else plan.deferred = error.message
      // Two updates in the same instant: the cursor stops before both, or one would be skipped.
      const stop = summary.updated_on
      pass.since = summaries
        .slice(0, i)
        .map(done => done.updated_on)
        .filter(time => time !== undefined && (!stop || time < stop))
        .reduce(later, since)
      pass.complete = false
      return pass
    }
    pass.since = later(pass.since, summary.updated_on)
  }
  return pass
}

function manifestOf(work: CollectWork, collected: MetadataKind[], at: string) {
  return (previous: unknown): ArchiveManifest => ({
    version: 1,
    repository: {
      workspace: work.repository.workspace,
      slug: work.repository.slug,
      uuid: work.repository.uuid
    },
    collectedAt: {
      ...(previous as ArchiveManifest | undefined)?.collectedAt,
      ...Object.fromEntries(collected.map(kind => [kind, at]))
    }
  })
}

/** Archives what the probe found; never throws (a problem is noted, the state stays behind). */
export async function collectMetadata(
  service: MetadataService,
  plan: MetadataPlan,
  work: CollectWork
): Promise<MetadataOutcome | undefined> {
  if (plan.kinds.size === 0) return undefined
  const at = new Date().toISOString()
  const meta: MetadataState = { ...work.state.metadata }
  const outcome: MetadataOutcome = { pullRequests: 0, downloads: 0, requests: 0 }
  let settingsRead = false
  const finish = () => {
    const deferred = plan.deferred ?? plan.settingsDeferred
    const settingsWaiting =
      (plan.settingsDue || plan.settingsDeferred !== undefined) && !settingsRead
    if (deferred) {
      meta.deferred = {
        since: meta.deferred?.since ?? at,
        ...(plan.fullPass ? { fullPass: true } : {}),
        ...(settingsWaiting ? { settings: true } : {})
      }
      outcome.deferred = deferred
    } else delete meta.deferred
    work.state.metadata = meta
    outcome.requests = plan.requests
    if (plan.problems.length > 0) outcome.problems = plan.problems
    service.settled(work.repository, plan, deferred)
    return outcome
  }
  if (plan.deferred && !plan.needsMirror) return finish()
  if (!plan.needsMirror) {
    if (plan.downloads && plan.problems.length === 0) meta.downloadsCheckedAt = at
    if (plan.fullPass && plan.pullRequests) meta.fullPassAt = at
    return finish()
  }
  if (!work.mirror) return finish()
  const scratch = await fs.mkdtemp(path.join(work.mirror, 'bitbucket-backup-metadata-'))
  try {
    const render = service.options.renderPage
    // A snippet's archive holds no pull request: no page to render.
    const paged = render && work.repository.kind !== 'snippet'
    const archive = await openArchive(service.options.git, work.mirror, {
      renderPage: paged ? pullRequests => render(pullRequests, work.repository) : undefined
    })
    const client = countingClient(service.options.client, plan)
    let since = meta.pullRequestsSince
    // A mirror whose archive is not the one the state knows (an older cached copy): start over.
    if (archive.previous !== meta.commit) {
      work.log(
        'The metadata archive on disk is not the one last recorded: reading everything again.'
      )
      since = undefined
      plan.fullPass = true
      if (plan.kinds.has('pull-requests'))
        plan.pullRequests = await probePullRequests(
          client,
          service.base(work.repository),
          undefined
        )
      if (plan.kinds.has('downloads')) {
        plan.downloads ??= await listDownloads(client, service.base(work.repository))
        plan.downloadsChanged = true
      }
      if (plan.kinds.has('snippets')) plan.snippet = true
      plan.settingsDue ||= plan.kinds.has('settings') && plan.settingsDeferred === undefined
    }
    const collected: MetadataKind[] = []
    // Moved into the state only once the archive holding them is committed.
    const next: MetadataState = {}
    if (plan.pullRequests) {
      const pass = await passPullRequests(service, plan, work, archive, scratch, since)
      outcome.pullRequests = pass.archived
      next.pullRequestsSince = pass.since
      if (pass.complete && plan.fullPass) next.fullPassAt = at
      if (pass.complete) collected.push('pull-requests')
    }
    if (plan.downloads && !plan.deferred) {
      try {
        const base = service.base(work.repository)
        const done = await archiveDownloads(client, base, plan.downloads, archive, scratch)
        outcome.downloads = done.fetched
        plan.problems.push(...done.problems)
        next.downloadsDigest = downloadsDigest(plan.downloads)
        next.downloadsCheckedAt = at
        collected.push('downloads')
      } catch (error) {
        if (error instanceof BudgetSpentError) plan.deferred = error.message
        else plan.problems.push(`Downloads: ${firstLineOf(error)}`)
      }
    }
    if (plan.snippet && !plan.deferred) {
      try {
        const { apiUrl } = service.options
        outcome.snippetComments = await archiveSnippet(client, apiUrl, work.repository, archive)
        next.snippetUpdatedOn = work.repository.updatedOn
        next.snippetCheckedAt = at
        collected.push('snippets')
      } catch (error) {
        if (error instanceof BudgetSpentError) plan.deferred = error.message
        else if (!service.refuse('snippets', error))
          plan.problems.push(`snippet: ${firstLineOf(error)}`)
      }
    }
    // Settings go last: the most requests, and the least likely to have changed.
    if (plan.settingsDue && !plan.deferred) {
      try {
        const apiUrl = service.options.apiUrl
        const answers = await readSettings(client, apiUrl, work.repository, service.settingsMemo)
        service.settingsRead(answers)
        await archiveSettings(archive, answers, at)
        next.settingsCheckedAt = at
        collected.push('settings')
        settingsRead = true
      } catch (error) {
        if (error instanceof BudgetSpentError) plan.deferred = error.message
        else plan.problems.push(`settings: ${firstLineOf(error)}`)
      }
    }
    const what =
      work.repository.kind === 'snippet'
        ? `the snippet and ${outcome.snippetComments ?? 0} comments`
        : `${outcome.pullRequests} pull requests, ${outcome.downloads} Downloads${settingsRead ? ', settings' : ''}`
    const commit = await archive.commit(
      `Metadata of ${work.repository.fullName}: ${what}`,
      manifestOf(work, collected, at)
    )
    Object.assign(meta, next, { commit: commit.commit })
    if (commit.changed) work.log(`Metadata archived as ${commit.commit} (${what} fetched).`)
  } catch (error) {
    if (error instanceof BudgetSpentError) plan.deferred = error.message
    else plan.problems.push(firstLineOf(error))
  } finally {
    await fs.rm(scratch, { recursive: true, force: true })
  }
  return finish()
}
