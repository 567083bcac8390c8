// A run's metadata work: the cheap probe before any mirror is needed (which pull requests changed,
// whether Downloads did, whether settings are due), asked of the REST budget first, and what the run
// says about it at the end.
import { BudgetSpentError, type RestBudget } from '../bitbucket/budget.js'
import type { BitbucketClient, RawAnswer } from '../bitbucket/client.js'
import { BitbucketError } from '../bitbucket/errors.js'
import type { BitbucketRepository } from '../bitbucket/types.js'
import type { Git } from '../git/git.js'
import { coded, withoutCode } from '../shared/codes.js'
import { firstLineOf } from '../shared/errors.js'
import type { RepositoryState, WorkspaceState } from '../state/state.js'
import { DOWNLOADS_DAYS, FULL_PASS_DAYS, SETTINGS_DAYS, rotationDue } from './cadence.js'
import { downloadsDigest, listDownloads, type ApiDownload } from './downloads.js'
import type { ArchivedPullRequest, MetadataKind } from './layout.js'
import { probePullRequests, type PullRequestSummary } from './pull-requests.js'
import { snippetDue } from './snippets.js'
import {
  SETTINGS_REQUESTS,
  SETTINGS_SCOPES,
  type SettingsAnswer,
  type SettingsMemo
} from './settings.js'

/** The kinds this action collects today; the others are accepted and named as not collected yet. */
const COLLECTED: readonly MetadataKind[] = ['pull-requests', 'downloads', 'settings', 'snippets']
/** How the run's warnings name each kind. */
const KIND_NAMES: Record<MetadataKind, string> = {
  'pull-requests': 'Pull requests',
  downloads: 'Downloads',
  snippets: 'Snippets',
  settings: 'Settings'
}
/** What one probe of a repository costs: pull requests, and Downloads when due. */
const PROBE_COST = 2

export interface MetadataPlan {
  kinds: ReadonlySet<MetadataKind>
  /** Changed pull requests (all of them on a full pass), oldest update first; undefined: not probed. */
  pullRequests?: PullRequestSummary[]
  fullPass: boolean
  /** The Downloads listing, when they were checked. */
  downloads?: ApiDownload[]
  downloadsChanged: boolean
  /** A snippet whose object and comments are to be archived. */
  snippet?: boolean
  /** Settings are to be read (first run, their rotation, or held back before) and the budget affords them. */
  settingsDue: boolean
  /** Why the budget held settings back while the rest went on. */
  settingsDeferred?: string
  /** Something is to be archived: the mirror must be on disk. */
  needsMirror: boolean
  /** Why the budget held this repository's metadata back. */
  deferred?: string
  /** REST requests spent on this repository's metadata. */
  requests: number
  problems: string[]
}

/** A client that counts the requests one repository's metadata spends. */
export function countingClient(client: BitbucketClient, plan: { requests: number }) {
  return {
    ...client,
    getJson: <T>(url: string, init?: Parameters<BitbucketClient['getJson']>[1]) => {
      plan.requests++
      return client.getJson<T>(url, init)
    },
    getRaw: (url: string, purpose?: 'git' | 'metadata'): Promise<RawAnswer> => {
      plan.requests++
      return client.getRaw(url, purpose)
    },
    async *pages<T>(url: string, purpose?: 'git' | 'metadata') {
      for await (const page of client.pages<T>(url, purpose)) {
        plan.requests++
        yield page
      }
    }
  } as BitbucketClient
}

export interface MetadataServiceOptions {
  client: BitbucketClient
  budget: RestBudget
  apiUrl: string
  kinds: readonly MetadataKind[]
  /** Git without credentials: the archive lives in the mirror on disk. */
  git: Git
  now?: () => Date
  /** The offline page of a repository's archive (index.html); not written when absent. */
  renderPage?: (
    pullRequests: ArchivedPullRequest[],
    repository: { workspace: string; slug: string }
  ) => string
}

export type MetadataService = ReturnType<typeof createMetadataService>

export function createMetadataService(options: MetadataServiceOptions) {
  const { budget } = options
  const now = options.now ?? (() => new Date())
  /** Kinds a 403 turned off for the rest of the run, with the line that says why. */
  const refused = new Map<MetadataKind, string>()
  const deferredRepositories: string[] = []
  const problems: string[] = []
  let staleLeft = 0
  let requests = 0
  /** Project and workspace settings, read once a run for every repository that reads settings. */
  const settingsMemo: SettingsMemo = new Map()
  /** Settings endpoints that answered 403 this run, by archive file: one warning names the scopes. */
  const refusedSettings = new Map<string, string>()
  /** The run's first pull request probe goes alone: a missing scope costs one 403, not one per check. */
  let firstProbe: Promise<void> | undefined

  const base = (repository: BitbucketRepository) =>
    `${options.apiUrl}/repositories/${encodeURIComponent(repository.workspace)}/${encodeURIComponent(repository.slug)}`

  /** A 403 names the missing scope: said once, and that kind is left alone for the run. */
  function refusedKind(kind: MetadataKind, error: unknown): boolean {
    if (!(error instanceof BitbucketError) || error.status !== 403) return false
    if (!refused.has(kind)) refused.set(kind, firstLineOf(error))
    return true
  }

  async function probe(
    repository: BitbucketRepository,
    prior: RepositoryState | undefined,
    gitChanged: boolean
  ): Promise<MetadataPlan> {
    // A snippet has only snippet metadata; a repository has everything else.
    const isSnippet = repository.kind === 'snippet'
    const kinds = new Set(
      options.kinds.filter(
        kind =>
          COLLECTED.includes(kind) && !refused.has(kind) && (kind === 'snippets') === isSnippet
      )
    )
    const plan: MetadataPlan = {
      kinds,
      fullPass: false,
      downloadsChanged: false,
      settingsDue: false,
      needsMirror: false,
      requests: 0,
      problems: []
    }
    if (kinds.size === 0) return plan
    const meta = prior?.metadata ?? {}
    const stale = meta.deferred !== undefined
    if (stale) staleLeft--
    budget.reserveForStale(staleLeft * PROBE_COST)
    const spent = () =>
      budget.halted ?? `the REST budget of ${budget.perHour} requests an hour is spent`
    if (isSnippet) {
      // The listing said whether it changed: deciding costs nothing, archiving a page of comments.
      if (!snippetDue(repository, meta, gitChanged || stale, now())) return plan
      if (!budget.affords(1, stale)) {
        plan.deferred = spent()
        return plan
      }
      plan.snippet = plan.needsMirror = true
      return plan
    }
    const pulls = kinds.has('pull-requests')
    plan.fullPass =
      pulls &&
      (meta.deferred?.fullPass === true ||
        rotationDue(repository.uuid, meta.fullPassAt, FULL_PASS_DAYS, now()))
    let downloadsDue =
      kinds.has('downloads') &&
      (gitChanged ||
        stale ||
        rotationDue(repository.uuid, meta.downloadsCheckedAt, DOWNLOADS_DAYS, now()))
    // Settings cost nothing here: they are read after the mirror, when due and affordable.
    const settingsDue =
      kinds.has('settings') &&
      (meta.deferred?.settings === true ||
        rotationDue(repository.uuid, meta.settingsCheckedAt, SETTINGS_DAYS, now()))
    if (!budget.affords((pulls ? 1 : 0) + (downloadsDue ? 1 : 0), stale)) {
      plan.deferred = spent()
      if (settingsDue) plan.settingsDeferred = plan.deferred
      return plan
    }
    const client = countingClient(options.client, plan)
    try {
      let opened = () => {}
      if (pulls && firstProbe) await firstProbe
      else if (pulls) firstProbe = new Promise<void>(resolve => (opened = resolve))
      if (pulls && refused.has('pull-requests')) kinds.delete('pull-requests')
      else if (pulls) {
        try {
          const since = plan.fullPass ? undefined : meta.pullRequestsSince
          plan.pullRequests = await probePullRequests(client, base(repository), since)
          // Changed pull requests often come with new release files: Downloads are looked at too.
          if (plan.pullRequests.length > 0 && !plan.fullPass)
            downloadsDue ||= kinds.has('downloads')
        } catch (error) {
          if (!refusedKind('pull-requests', error)) throw error
          kinds.delete('pull-requests')
        } finally {
          opened()
        }
      }
      if (downloadsDue && budget.affords(1, stale)) {
        try {
          plan.downloads = await listDownloads(client, base(repository))
          // A repository that never had a Download has nothing to archive: no archive at all.
          const known = meta.downloadsDigest ?? downloadsDigest([])
          plan.downloadsChanged = downloadsDigest(plan.downloads) !== known
        } catch (error) {
          if (!refusedKind('downloads', error)) throw error
          kinds.delete('downloads')
        }
      }
    } catch (error) {
      if (error instanceof BudgetSpentError) plan.deferred = error.message
      else plan.problems.push(firstLineOf(error))
    }
    if (settingsDue) {
      if (!plan.deferred && budget.affords(SETTINGS_REQUESTS, stale)) plan.settingsDue = true
      else plan.settingsDeferred = plan.deferred ?? spent()
    }
    plan.needsMirror =
      (plan.pullRequests?.length ?? 0) > 0 || plan.downloadsChanged || plan.settingsDue
    return plan
  }

  return {
    options,
    probe,
    base,
    /** A 403 that names a missing scope turns its kind off for the run (true), said once. */
    refuse: refusedKind,
    settingsMemo,
    /** Notes the endpoints that refused: the run warns once, naming the scopes settings need. */
    settingsRead(answers: SettingsAnswer[]) {
      for (const answer of answers)
        if (answer.status === 403 && !refusedSettings.has(answer.file))
          refusedSettings.set(answer.file, answer.note ?? 'HTTP 403')
    },
    /** Learns which repositories were deferred last run: they are served before the rest. */
    prepare(states: WorkspaceState[]) {
      staleLeft = states
        .flatMap(state => Object.values(state.repositories))
        .filter(repository => repository.metadata?.deferred).length
      budget.reserveForStale(staleLeft * PROBE_COST)
    },
    /** What one repository's metadata came to, for the run's closing lines. */
    settled(repository: BitbucketRepository, plan: MetadataPlan, deferred: string | undefined) {
      requests += plan.requests
      if (deferred) deferredRepositories.push(`${repository.workspace}/${repository.slug}`)
      for (const problem of plan.problems)
        problems.push(`${repository.workspace}/${repository.slug}: ${problem}`)
    },
    get requests() {
      return requests
    },
    get deferred() {
      return deferredRepositories.length
    },
    /** The run's warnings about metadata, one line each. */
    warnings(): string[] {
      const lines: string[] = []
      const notYet = options.kinds.filter(kind => !COLLECTED.includes(kind))
      if (notYet.length > 0)
        lines.push(
          coded(
            'MD001',
            `metadata: ${notYet.join(' and ')} ${notYet.length > 1 ? 'are' : 'is'} not collected yet; this version keeps pull requests, Downloads, settings and snippets.`
          )
        )
      for (const [kind, why] of refused)
        lines.push(
          coded(
            'MD403',
            `${KIND_NAMES[kind]} were not backed up: ${withoutCode(why)} Or leave ${kind} out of the metadata input.`
          )
        )
      if (refusedSettings.size > 0) {
        const first = [...refusedSettings.values()][0]
        lines.push(
          coded(
            'MD403',
            `Some settings were not backed up: ${refusedSettings.size} endpoints answered HTTP 403, e.g. ${withoutCode(first)} Settings need ${SETTINGS_SCOPES}; each archive's settings/index.json lists what was refused. Or leave settings out of the metadata input.`
          )
        )
      }
      if (deferredRepositories.length > 0) {
        const names = deferredRepositories.slice(0, 5).join(', ')
        lines.push(
          coded(
            'MD002',
            `Metadata of ${deferredRepositories.length} repositories (${names}${deferredRepositories.length > 5 ? ', ...' : ''}) was deferred: ${budget.halted ?? `the REST budget (rest-budget: ${budget.perHour} an hour) was spent`}; their git is backed up, and the next run starts with them.`
          )
        )
      }
      for (const problem of problems.slice(0, 20))
        lines.push(coded('MD003', `Metadata of ${problem}`))
      return lines
    }
  }
}
