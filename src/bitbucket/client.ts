// Bitbucket Cloud REST client: authentication, retries within a bounded wait, paging, request count.
import type { BitbucketAuth } from '../credentials/types.js'
import type { Log } from '../shared/log.js'
import { parseRetryAfter, retryDelay, sleep as realSleep } from '../shared/retry.js'
import { BudgetSpentError, type RestBudget, type RestPurpose } from './budget.js'
import { BitbucketError, describeFailure } from './errors.js'
import type { ApiPage, ApiRepository, BitbucketRepository } from './types.js'
import { coded } from '../shared/codes.js'

export interface ClientOptions {
  apiUrl: string
  auth: BitbucketAuth
  log: Log
  fetch?: typeof fetch
  sleep?: (ms: number) => Promise<void>
  /** Longest total time spent waiting between retries in one run (the rate window is an hour). */
  maxTotalWaitMs?: number
  maxAttempts?: number
  baseDelayMs?: number
  /** Counts every request and refuses metadata once it is spent (rest-budget). */
  budget?: RestBudget
}

/** A request's method and body (a write), and what it is for (metadata may be refused). */
export interface RequestInit {
  method?: string
  body?: unknown
  /** A multipart body instead (Downloads); fetch writes its Content-Type with the boundary. */
  form?: FormData
  purpose?: RestPurpose
}

/** A GET that Bitbucket may answer with a redirect to another host (Downloads, diffs). */
export type RawAnswer = { location: string } | { response: Response }

/** Only what the action reads: a fraction of the full repository objects. */
export const REPOSITORY_FIELDS = [
  'next',
  'size',
  'values.uuid',
  'values.slug',
  'values.name',
  'values.full_name',
  'values.scm',
  'values.is_private',
  'values.description',
  'values.mainbranch.name',
  'values.updated_on',
  'values.created_on',
  'values.size',
  'values.language',
  'values.fork_policy',
  'values.project.key',
  'values.project.name',
  'values.workspace.slug',
  'values.links.clone',
  'values.links.html'
].join(',')

const RETRYABLE = new Set([429, 500, 502, 503, 504])

export function stripUser(url: string): string {
  const parsed = new URL(url)
  parsed.username = ''
  parsed.password = ''
  return parsed.href
}

function normalizeRepository(api: ApiRepository, workspace: string): BitbucketRepository {
  const https = api.links?.clone?.find(link => link.name === 'https')?.href
  const slug = api.slug ?? api.full_name?.split('/')[1] ?? ''
  return {
    uuid: api.uuid ?? '',
    slug,
    name: api.name ?? slug,
    fullName: api.full_name ?? `${workspace}/${slug}`,
    workspace: api.workspace?.slug ?? api.full_name?.split('/')[0] ?? workspace,
    scm: api.scm ?? 'git',
    isPrivate: api.is_private ?? true,
    description: api.description ?? '',
    mainBranch: api.mainbranch?.name ?? null,
    updatedOn: api.updated_on ?? '',
    size: api.size ?? 0,
    projectKey: api.project?.key ?? null,
    projectName: api.project?.name ?? null,
    httpsCloneUrl: https ? stripUser(https) : '',
    htmlUrl: api.links?.html?.href ?? '',
    raw: api as Record<string, unknown>
  }
}

function transientReason(error: unknown): string | undefined {
  const cause = (error as { cause?: { code?: string } })?.cause?.code
  if (error instanceof TypeError || cause) return cause ?? 'connection failed'
  return undefined
}

/** Bitbucket Cloud's REST API with one credential. */
export interface BitbucketClient {
  /** One REST call (a GET, or a write with `init`), with the client's retries and waits. */
  getJson<T>(url: string, init?: RequestInit): Promise<T>
  /**
   * A GET whose redirect is not followed: the Location to fetch without the credential, or the
   * answer itself when there is none.
   */
  getRaw(url: string, purpose?: RestPurpose): Promise<RawAnswer>
  /** Every page of a paged collection, following `next` as an opaque URL. */
  pages<T>(url: string, purpose?: RestPurpose): AsyncGenerator<T[]>
  /** Every git repository of a workspace (of some projects only, when given), page by page. */
  listRepositories(
    workspace: string,
    filter?: { projects?: string[] }
  ): AsyncGenerator<BitbucketRepository>
  /** REST requests sent so far, retries included. */
  readonly requestCount: number
}

export function createBitbucketClient(options: ClientOptions): BitbucketClient {
  const doFetch = options.fetch ?? fetch
  const sleep = options.sleep ?? realSleep
  const maxTotalWaitMs = options.maxTotalWaitMs ?? 5 * 60 * 1000
  const maxAttempts = options.maxAttempts ?? 8
  const baseDelayMs = options.baseDelayMs ?? 3000
  let waitedMs = 0
  let requestCount = 0
  const apiOrigin = new URL(options.apiUrl).origin

  /** One REST call with the client's retries; the answer once it is 2xx (or 3xx when `raw`). */
  async function send(
    url: string,
    init: RequestInit,
    raw: boolean
  ): Promise<{ response: Response; text?: string }> {
    // The credential goes to the API's origin only, whatever a `next` link names.
    if (new URL(url).origin !== apiOrigin) {
      throw new BitbucketError(
        coded(
          'BB005',
          `A request to ${new URL(url).origin} was not sent: the Bitbucket credential goes only to its API at ${apiOrigin}.`
        ),
        0
      )
    }
    const purpose = init.purpose ?? 'git'
    let refreshedToken = false
    for (let attempt = 1; ; attempt++) {
      options.budget?.take(purpose)
      requestCount++
      let status: number
      let text: string
      let retryAfter: string | null = null
      try {
        const response = await doFetch(url, {
          method: init.method ?? 'GET',
          headers: {
            Authorization: await options.auth.restAuthorization(),
            Accept: 'application/json',
            ...(init.body === undefined ? {} : { 'Content-Type': 'application/json' })
          },
          ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
          ...(init.form ? { body: init.form } : {}),
          ...(raw ? { redirect: 'manual' as const } : {})
        })
        status = response.status
        options.budget?.observe(status, response.headers)
        if (raw && status >= 200 && status < 400) return { response }
        retryAfter = response.headers.get('retry-after')
        text = await response.text()
        if (status >= 200 && status < 300) return { response, text }
      } catch (error) {
        const reason = transientReason(error)
        if (!reason || error instanceof BitbucketError) throw error
        status = 0
        text = reason
      }
      if (status === 401 && !refreshedToken && options.auth.restUsername === undefined) {
        // An OAuth token may have been revoked or expired early: fetch a new one once.
        refreshedToken = true
        options.auth.invalidate()
        continue
      }
      // Waiting out a rolling hour for metadata would hold up git backups: it goes next run.
      if (status === 429 && purpose === 'metadata') {
        throw new BudgetSpentError('Bitbucket answered 429 (rate limit exceeded)')
      }
      if ((status === 0 || RETRYABLE.has(status)) && attempt < maxAttempts) {
        const delay =
          parseRetryAfter(retryAfter) ?? retryDelay(attempt, { baseMs: baseDelayMs, maxMs: 60_000 })
        if (waitedMs + delay <= maxTotalWaitMs) {
          const what = status === 0 ? `a connection error (${text})` : `HTTP ${status}`
          options.log.info(
            `Bitbucket answered ${what}; retrying in ${Math.ceil(delay / 1000)} s (attempt ${attempt + 1}).`
          )
          waitedMs += delay
          await sleep(delay)
          continue
        }
      }
      if (status === 0) {
        throw new BitbucketError(
          coded(
            'BB004',
            `Bitbucket could not be reached at ${new URL(url).origin} (${text}) after ${attempt} attempts.`
          ),
          0
        )
      }
      if (status === 429) {
        throw new BitbucketError(
          coded(
            'BB429',
            `Bitbucket's REST rate limit (1,000 requests per rolling hour) was still exceeded after waiting ${Math.round(waitedMs / 1000)} s; run again later or shard the backup.`
          ),
          429
        )
      }
      throw describeFailure(status, text, url, options.auth, init.method)
    }
  }

  async function getJson<T>(url: string, init: RequestInit = {}): Promise<T> {
    const { text } = await send(url, init, false)
    return (text ? JSON.parse(text) : undefined) as T
  }

  async function getRaw(url: string, purpose: RestPurpose = 'git'): Promise<RawAnswer> {
    const { response } = await send(url, { purpose }, true)
    const location = response.headers.get('location')
    if (response.status < 300) return { response }
    await response.body?.cancel()
    if (!location)
      throw new BitbucketError(
        coded('BB006', `Bitbucket redirected ${url} nowhere.`),
        response.status
      )
    return { location: new URL(location, url).href }
  }

  /**
   * Keeps our fields, page size and project filter on a `next` URL that dropped them (a page 2
   * without `q` would be a page of every project); everything else stays opaque.
   */
  function withListingParams(next: string, current: string, first: URLSearchParams): string {
    // `next` is an absolute URI in the spec; a relative one is read against the page it came from.
    const url = new URL(next, current)
    // The credential goes to the API's origin only: a link naming another host (a proxy's inner
    // name, localhost for 127.0.0.1) is read as the same page on the API's origin.
    if (url.origin !== apiOrigin) {
      options.log.debug(`next link on ${url.origin}, read on ${apiOrigin}`)
      const api = new URL(apiOrigin)
      url.protocol = api.protocol
      url.host = api.host
    }
    for (const name of new Set(first.keys())) {
      if (!url.searchParams.has(name))
        for (const value of first.getAll(name)) url.searchParams.append(name, value)
    }
    return url.href
  }

  async function* pages<T>(first: string, purpose: RestPurpose = 'git'): AsyncGenerator<T[]> {
    const params = new URL(first).searchParams
    let url: string | undefined = first
    while (url) {
      const page: ApiPage<T> = await getJson<ApiPage<T>>(url, { purpose })
      yield page.values ?? []
      url = page.next ? withListingParams(page.next, url, params) : undefined
    }
  }

  async function* listRepositories(
    workspace: string,
    filter: { projects?: string[] } = {}
  ): AsyncGenerator<BitbucketRepository> {
    const params = new URLSearchParams({ pagelen: '100', fields: REPOSITORY_FIELDS })
    if (filter.projects?.length) {
      params.set('q', filter.projects.map(key => `project.key = "${key}"`).join(' OR '))
    }
    let url: string | undefined =
      `${options.apiUrl}/repositories/${encodeURIComponent(workspace)}?${params}`
    // Page-number pages shift when a repository is created mid-listing: one may come twice.
    const listed = new Set<string>()
    let pages = 0
    while (url) {
      const page: ApiPage<ApiRepository> = await getJson<ApiPage<ApiRepository>>(url)
      // The pages still to come are the listing's: metadata never takes them.
      pages++
      if (page.size !== undefined)
        options.budget?.reserveForListing(Math.ceil(page.size / 100) - pages)
      for (const api of page.values ?? []) {
        const repository = normalizeRepository(api, workspace)
        const key = repository.uuid || repository.fullName
        if (listed.has(key)) continue
        listed.add(key)
        if (repository.scm !== 'git') {
          options.log.info(
            `${repository.fullName}: skipped, it is a ${repository.scm} repository, not git.`
          )
          continue
        }
        yield repository
      }
      url = page.next ? withListingParams(page.next, url, params) : undefined
    }
  }

  return {
    getJson,
    getRaw,
    pages,
    listRepositories,
    get requestCount() {
      return requestCount
    }
  }
}
