// The GitHub REST calls of the mirror target and the restore, through @octokit/request, with bounded retries.
import { request } from '@octokit/request'
import { parseRetryAfter, retryDelay, sleep } from '../shared/retry.js'
import { releaseCalls, type ReleaseCalls } from './releases.js'

export type {
  GitHubRelease,
  GitHubReleaseAsset,
  NewAsset,
  NewRelease,
  ReleaseCalls
} from './releases.js'

export interface GitHubOwner {
  login: string
  type: 'Organization' | 'User'
}

export interface GitHubRepository {
  fullName: string
  name: string
  cloneUrl: string
  htmlUrl: string
  defaultBranch: string
  description: string | null
  homepage: string | null
  private: boolean
  /** private, public or internal, as GitHub made it. */
  visibility?: string
}

/** One workflow artifact, as the Actions REST API lists it. */
export interface GitHubArtifact {
  id: number
  name: string
  expired: boolean
  workflow_run?: { id?: number }
}

export interface NewRepository {
  name: string
  description: string
  homepage: string
  visibility: 'private' | 'internal' | 'public'
}

export class GitHubApiError extends Error {
  override name = 'GitHubApiError'
  constructor(
    message: string,
    readonly status: number,
    /** GitHub's own message from the response body. */
    readonly githubMessage: string
  ) {
    super(message)
  }
}

interface RawRepository {
  full_name: string
  name: string
  clone_url: string
  html_url: string
  default_branch?: string
  description: string | null
  homepage: string | null
  private: boolean
  visibility?: string
}

interface OctokitFailure {
  status?: number
  message?: string
  response?: { data?: unknown; headers?: Record<string, string | undefined> }
}

const ATTEMPTS = 4
const MAX_WAIT_MS = 60_000

function toRepository(raw: RawRepository): GitHubRepository {
  return {
    fullName: raw.full_name,
    name: raw.name,
    cloneUrl: raw.clone_url,
    htmlUrl: raw.html_url,
    defaultBranch: raw.default_branch ?? 'main',
    description: raw.description,
    homepage: raw.homepage,
    private: raw.private,
    visibility: raw.visibility ?? (raw.private ? 'private' : 'public')
  }
}

/** The `rel="next"` URL of a Link header, when there is one. */
export function nextLink(header: string | undefined): string | undefined {
  for (const part of (header ?? '').split(',')) {
    const match = /<([^>]+)>\s*;(?:.*;)?\s*rel="?([^";]*)"?/.exec(part.trim())
    if (match && match[2].split(/\s+/).includes('next')) return match[1]
  }
  return undefined
}

function githubMessage(failure: OctokitFailure): string {
  const data = failure.response?.data as { message?: string; errors?: { message?: string }[] }
  const details = (data?.errors ?? []).map(error => error.message).filter(Boolean)
  return [data?.message ?? failure.message ?? 'no message', ...details].join(': ')
}

/** Server errors and rate limits (429, or 403 with Retry-After or no requests left) are worth a wait. */
function waitBeforeRetry(failure: OctokitFailure, attempt: number): number | undefined {
  const status = failure.status ?? 0
  const headers = failure.response?.headers ?? {}
  const limited =
    status === 429 ||
    (status === 403 &&
      (headers['retry-after'] !== undefined || headers['x-ratelimit-remaining'] === '0'))
  if (!limited && status < 500 && status !== 0) return undefined
  const reset = Number(headers['x-ratelimit-reset'])
  const fromReset = Number.isFinite(reset) && reset > 0 ? reset * 1000 - Date.now() : undefined
  const wait =
    parseRetryAfter(headers['retry-after']) ??
    (headers['x-ratelimit-remaining'] === '0' ? fromReset : undefined) ??
    retryDelay(attempt, { baseMs: 1000, maxMs: 16_000 })
  return wait <= MAX_WAIT_MS ? Math.max(0, wait) : undefined
}

/** GitHub's REST API with one token: the calls that make, find and adjust mirrors and their releases. */
export interface GitHubApi extends ReleaseCalls {
  /** REST requests sent so far, retries included. */
  readonly requestCount: number
  /** An organization or user by login; undefined when there is none. */
  owner(login: string): Promise<GitHubOwner | undefined>
  /** The token's own login; undefined for installation tokens, which have no user. */
  authenticatedLogin(): Promise<string | undefined>
  /** One repository of an owner; undefined when the token cannot see one by that name. */
  repository(owner: string, name: string): Promise<GitHubRepository | undefined>
  /** Creates a repository in an organization or in the token's own user account. */
  createRepository(owner: GitHubOwner, spec: NewRepository): Promise<GitHubRepository>
  /** Every repository of an owner the token can read: an organization's, or a user's. */
  listRepositories(owner: GitHubOwner, ownLogin?: string): Promise<GitHubRepository[]>
  /** Makes `branch` the default branch of `owner/name`. */
  setDefaultBranch(fullName: string, branch: string): Promise<void>
  /** One page of a repository's artifacts (newest first) or of one run's; undefined on 404. */
  listArtifacts(
    fullName: string,
    page: number,
    runId?: number
  ): Promise<{ artifacts: GitHubArtifact[]; total_count: number } | undefined>
  /** Where an artifact's zip downloads from for a minute: GitHub's redirect, not followed. */
  artifactDownloadUrl(fullName: string, artifactId: number): Promise<string>
}

export function createGitHubApi(options: {
  apiUrl: string
  token: string
  log?: (line: string) => void
  fetch?: typeof fetch
}): GitHubApi {
  const send = request.defaults({
    baseUrl: options.apiUrl,
    headers: {
      authorization: `token ${options.token}`,
      'user-agent': 'bitbucket-backup',
      'x-github-api-version': '2022-11-28'
    },
    ...(options.fetch ? { request: { fetch: options.fetch } } : {})
  })
  let requestCount = 0

  /**
   * One call with retries, data and headers; resolves undefined on 404 when `missingOk`. Parameters
   * given as a function are made again for each attempt (an upload's body is a stream read once).
   */
  async function respond<T>(
    route: string,
    parameters: Record<string, unknown> | (() => Promise<Record<string, unknown>>),
    missingOk = false
  ): Promise<{ data: T; headers: Record<string, string | number | undefined> } | undefined> {
    for (let attempt = 1; ; attempt++) {
      requestCount++
      try {
        const response = await send(
          route,
          typeof parameters === 'function' ? await parameters() : parameters
        )
        return { data: response.data as T, headers: response.headers }
      } catch (error) {
        const failure = error as OctokitFailure
        if (missingOk && failure.status === 404) return undefined
        const wait = attempt < ATTEMPTS ? waitBeforeRetry(failure, attempt) : undefined
        if (wait === undefined) {
          const message = githubMessage(failure)
          throw new GitHubApiError(
            `${route} answered ${failure.status ?? 'no response'}: ${message}`,
            failure.status ?? 0,
            message
          )
        }
        options.log?.(`${route} answered ${failure.status}; retry in ${Math.round(wait / 1000)} s`)
        await sleep(wait)
      }
    }
  }

  async function call<T>(
    route: string,
    parameters: Record<string, unknown>,
    missingOk = false
  ): Promise<T | undefined> {
    return (await respond<T>(route, parameters, missingOk))?.data
  }

  return {
    get requestCount() {
      return requestCount
    },

    ...releaseCalls(options.apiUrl, respond, nextLink),

    async owner(login: string): Promise<GitHubOwner | undefined> {
      const data = await call<GitHubOwner>('GET /users/{login}', { login }, true)
      return data && { login: data.login, type: data.type }
    },

    async authenticatedLogin(): Promise<string | undefined> {
      try {
        return (await call<{ login: string }>('GET /user', {}))?.login
      } catch (error) {
        if (error instanceof GitHubApiError && error.status === 403) return undefined
        throw error
      }
    },

    async repository(owner: string, name: string): Promise<GitHubRepository | undefined> {
      const data = await call<RawRepository>(
        'GET /repos/{owner}/{repo}',
        { owner, repo: name },
        true
      )
      return data && toRepository(data)
    },

    async createRepository(owner: GitHubOwner, spec: NewRepository): Promise<GitHubRepository> {
      const body = {
        name: spec.name,
        description: spec.description,
        homepage: spec.homepage,
        private: spec.visibility !== 'public',
        ...(owner.type === 'Organization' ? { visibility: spec.visibility } : {}),
        has_issues: false,
        has_wiki: false,
        has_projects: false
      }
      const data =
        owner.type === 'Organization'
          ? await call<RawRepository>('POST /orgs/{org}/repos', { org: owner.login, ...body })
          : await call<RawRepository>('POST /user/repos', body)
      return toRepository(data!)
    },

    /** Every repository of an owner the token can read: an organization's, or the token's own user's. */
    async listRepositories(owner: GitHubOwner, ownLogin?: string): Promise<GitHubRepository[]> {
      const own = owner.type === 'User' && ownLogin?.toLowerCase() === owner.login.toLowerCase()
      const [route, parameters]: [string, Record<string, unknown>] =
        owner.type === 'Organization'
          ? ['GET /orgs/{org}/repos', { org: owner.login, type: 'all' }]
          : own
            ? // Only the owner's own listing includes private repositories.
              ['GET /user/repos', { affiliation: 'owner' }]
            : ['GET /users/{username}/repos', { username: owner.login }]
      const found: GitHubRepository[] = []
      let next: [string, Record<string, unknown>] | undefined = [
        route,
        { ...parameters, per_page: 100, page: 1 }
      ]
      for (let page = 1; next; page++) {
        const response: { data: RawRepository[]; headers: Record<string, unknown> } | undefined =
          await respond<RawRepository[]>(...next)
        const batch: RawRepository[] = response?.data ?? []
        found.push(...batch.map(toRepository))
        // The Link header is GitHub's documented paging (a server may cap per_page below 100).
        const link: unknown = response?.headers.link
        const linked = nextLink(typeof link === 'string' ? link : undefined)
        next = linked
          ? [`GET ${linked}`, {}]
          : link === undefined && batch.length >= 100
            ? [route, { ...parameters, per_page: 100, page: page + 1 }]
            : undefined
      }
      return found
    },

    async setDefaultBranch(fullName: string, branch: string): Promise<void> {
      const [owner, repo] = fullName.split('/')
      await call('PATCH /repos/{owner}/{repo}', { owner, repo, default_branch: branch })
    },

    async listArtifacts(
      fullName: string,
      page: number,
      runId?: number
    ): Promise<{ artifacts: GitHubArtifact[]; total_count: number } | undefined> {
      const [owner, repo] = fullName.split('/')
      const route = runId
        ? 'GET /repos/{owner}/{repo}/actions/runs/{run_id}/artifacts'
        : 'GET /repos/{owner}/{repo}/actions/artifacts'
      const parameters = { owner, repo, run_id: runId, per_page: 100, page }
      return call(route, parameters, true)
    },

    async artifactDownloadUrl(fullName: string, artifactId: number): Promise<string> {
      const [owner, repo] = fullName.split('/')
      const route = 'GET /repos/{owner}/{repo}/actions/artifacts/{artifact_id}/{archive_format}'
      const parameters = { owner, repo, artifact_id: artifactId, archive_format: 'zip' }
      // The blob host takes no token: it must never see the authorization header.
      const response = await respond(route, { ...parameters, request: { redirect: 'manual' } })
      const location = response?.headers.location
      if (typeof location !== 'string') throw new Error(`${route} answered without a Location`)
      return location
    }
  }
}
