// The one module that knows Bitbucket credentials: user names for REST and git, OAuth tokens, masking.
import * as core from '@actions/core'
import type { BitbucketAuth, BitbucketCredentialInput } from './types.js'
import { parseRetryAfter, retryDelay, sleep as realSleep } from '../shared/retry.js'
import { CodedError } from '../shared/codes.js'

export const APP_PASSWORD_REMOVED =
  'Bitbucket removed app passwords on 2026-07-28; create an Atlassian API token instead ' +
  '(id.atlassian.com > Security > Create API token with scopes, app Bitbucket, scopes ' +
  'read:repository:bitbucket and read:workspace:bitbucket) and pass it as bitbucket-api-token with ' +
  'bitbucket-email, or use bitbucket-access-token'

export const API_TOKEN_GIT_USER = 'x-bitbucket-api-token-auth'
export const BEARER_GIT_USER = 'x-token-auth'
/** Refresh an OAuth token this long before it expires, so a long clone never starts with a stale one. */
const OAUTH_REFRESH_MARGIN_MS = 5 * 60 * 1000
/** Token requests tried on a rate limit, a gateway error or a dropped connection (about a minute). */
const OAUTH_TOKEN_ATTEMPTS = 5
const OAUTH_TRANSIENT = new Set([429, 500, 502, 503, 504])

/** Bitbucket app passwords start with ATBB (API tokens with ATATT, access tokens with ATCTT). */
export function looksLikeAppPassword(secret: string): boolean {
  return /^ATBB[A-Za-z0-9]/.test(secret.trim())
}

export function basic(user: string, secret: string): string {
  return `Basic ${Buffer.from(`${user}:${secret}`).toString('base64')}`
}

export interface AuthOptions {
  oauthTokenUrl: string
  fetch?: typeof fetch
  now?: () => number
  mask?: (secret: string) => void
  /** Counts OAuth token requests (they are REST traffic too). */
  onTokenRequest?: () => void
  sleep?: (ms: number) => Promise<void>
}

export class CredentialError extends CodedError {
  override name = 'CredentialError'
}

function staticAuth(
  description: string,
  restUsername: string | undefined,
  restAuthorization: string,
  gitUsername: string,
  gitAuthorization: string
): BitbucketAuth {
  return {
    description,
    gitUsername,
    restUsername,
    restAuthorization: async () => restAuthorization,
    gitAuthorization: async () => gitAuthorization,
    invalidate: () => undefined
  }
}

function oauthAuth(clientId: string, clientSecret: string, options: AuthOptions): BitbucketAuth {
  const doFetch = options.fetch ?? fetch
  const now = options.now ?? Date.now
  const mask = options.mask ?? core.setSecret
  let token: { value: string; refreshAt: number } | undefined
  let inFlight: Promise<string> | undefined

  /** One POST to the token URL: the response, or the reason it could not be read (network). */
  const postForToken = async (): Promise<Response | string> => {
    options.onTokenRequest?.()
    try {
      return await doFetch(options.oauthTokenUrl, {
        method: 'POST',
        headers: {
          Authorization: basic(clientId, clientSecret),
          'Content-Type': 'application/x-www-form-urlencoded'
        },
        body: 'grant_type=client_credentials'
      })
    } catch (error) {
      if (!(error instanceof TypeError)) throw error
      return (error.cause as { code?: string } | undefined)?.code ?? 'connection failed'
    }
  }

  const requestToken = async (): Promise<string> => {
    const sleep = options.sleep ?? realSleep
    let answer: Response | string
    let text: string
    // The token endpoint sits behind the same gateways and rate limits as REST: retry those.
    for (let attempt = 1; ; attempt++) {
      answer = await postForToken()
      text = typeof answer === 'string' ? '' : await answer.text()
      const transient = typeof answer === 'string' || OAUTH_TRANSIENT.has(answer.status)
      if (!transient || attempt >= OAUTH_TOKEN_ATTEMPTS) break
      const retryAfter = typeof answer === 'string' ? null : answer.headers.get('retry-after')
      await sleep(
        parseRetryAfter(retryAfter) ?? retryDelay(attempt, { baseMs: 2000, maxMs: 30_000 })
      )
    }
    if (typeof answer === 'string' || OAUTH_TRANSIENT.has(answer.status)) {
      const what = typeof answer === 'string' ? answer : `HTTP ${answer.status}`
      throw new CredentialError(
        'BB003',
        `No OAuth token could be obtained from ${options.oauthTokenUrl} (${what} after ${OAUTH_TOKEN_ATTEMPTS} attempts); run again later`
      )
    }
    if (!answer.ok) {
      throw new CredentialError(
        'BB002',
        `The OAuth consumer (bitbucket-oauth-client-id) was rejected by ${options.oauthTokenUrl} ` +
          `(HTTP ${answer.status}); check the key and secret, and that the consumer is private (client credentials)`
      )
    }
    let body: { access_token?: string; refresh_token?: string; expires_in?: number } = {}
    try {
      body = JSON.parse(text) as typeof body
    } catch {
      // Not JSON: reported below as an answer without a token.
    }
    if (!body.access_token)
      throw new CredentialError(
        'BB003',
        `${options.oauthTokenUrl} answered without an access_token`
      )
    mask(body.access_token)
    // Never used, but a secret all the same: masked in case anything ever prints the answer.
    if (body.refresh_token) mask(body.refresh_token)
    mask(Buffer.from(`${BEARER_GIT_USER}:${body.access_token}`).toString('base64'))
    const lifetimeMs = (body.expires_in ?? 3600) * 1000
    // A token shorter-lived than the margin is still used for half its life, not asked for anew each call.
    const refreshAt = now() + lifetimeMs - Math.min(OAUTH_REFRESH_MARGIN_MS, lifetimeMs / 2)
    token = { value: body.access_token, refreshAt }
    return body.access_token
  }

  const accessToken = async (): Promise<string> => {
    if (token && now() < token.refreshAt) return token.value
    // Concurrent callers share one token request.
    inFlight ??= requestToken().finally(() => (inFlight = undefined))
    return inFlight
  }

  return {
    description: 'the OAuth consumer (bitbucket-oauth-client-id)',
    gitUsername: BEARER_GIT_USER,
    restUsername: undefined,
    restAuthorization: async () => `Bearer ${await accessToken()}`,
    gitAuthorization: async () => basic(BEARER_GIT_USER, await accessToken()),
    invalidate: () => (token = undefined)
  }
}

/** What git needs with this credential, for the line that explains a git 401. */
export function gitUserAdvice(auth: Pick<BitbucketAuth, 'restUsername'>): string {
  return auth.restUsername === undefined
    ? `git takes this token with the user name ${BEARER_GIT_USER}; check it has the repository scope and has not expired or been revoked`
    : `git takes an API token with the user name ${API_TOKEN_GIT_USER} or your Bitbucket username (bitbucket-git-username), never the email`
}

/** Builds the credential's REST and git identities; every derived secret is masked before use. */
export function createBitbucketAuth(
  input: BitbucketCredentialInput,
  options: AuthOptions
): BitbucketAuth {
  const mask = options.mask ?? core.setSecret
  switch (input.kind) {
    case 'api-token': {
      const gitUser = input.gitUsername || API_TOKEN_GIT_USER
      const rest = basic(input.email, input.token)
      const git = basic(gitUser, input.token)
      for (const secret of [input.token, rest.slice(6), git.slice(6)]) mask(secret)
      return staticAuth(
        `the Atlassian API token of ${input.email}`,
        input.email,
        rest,
        gitUser,
        git
      )
    }
    case 'access-token': {
      const git = basic(BEARER_GIT_USER, input.token)
      for (const secret of [input.token, git.slice(6)]) mask(secret)
      return staticAuth(
        'the access token (bitbucket-access-token)',
        undefined,
        `Bearer ${input.token}`,
        BEARER_GIT_USER,
        git
      )
    }
    case 'oauth':
      mask(input.clientSecret)
      mask(Buffer.from(`${input.clientId}:${input.clientSecret}`).toString('base64'))
      return oauthAuth(input.clientId, input.clientSecret, { ...options, mask })
  }
}

/**
 * The git credential for HTTP requests the action makes itself (not through git): only for URLs of
 * `origin`, the way the environment-scoped `http.<origin>.extraheader` binds it for git.
 */
export function originBoundGitAuthorization(
  auth: Pick<BitbucketAuth, 'gitAuthorization'>,
  origin: string
): (url: string) => Promise<string | undefined> {
  const bound = new URL(origin).origin
  return async url => (new URL(url).origin === bound ? auth.gitAuthorization() : undefined)
}

/** GitHub takes any user name with a token as the password; x-access-token is the documented one. */
export const GITHUB_GIT_USER = 'x-access-token'

export function githubGitAuthorization(token: string): string {
  return basic(GITHUB_GIT_USER, token)
}

/** Masks a GitHub token and the Basic value git sends it in, as soon as it is read. */
export function maskGitHubToken(token: string, mask: (secret: string) => void): void {
  mask(token)
  mask(githubGitAuthorization(token).slice(6))
}

/** Masks a user name and password given for git, and the Basic value git sends them in. */
export function maskGitPassword(user: string, password: string, mask: (secret: string) => void) {
  mask(password)
  mask(basic(user, password).slice(6))
}

/** Installation tokens (GitHub Apps and the workflow's own GITHUB_TOKEN) start with ghs_. */
export function isInstallationToken(token: string): boolean {
  return token.startsWith('ghs_')
}
