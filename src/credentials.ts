// The one module that knows Bitbucket credentials: user names for REST and git, OAuth tokens, masking.
import * as core from '@actions/core'
import type { BitbucketAuth } from './credentials-types.js'
import type { BitbucketCredentialInput } from './settings-types.js'

export const APP_PASSWORD_REMOVED =
  'Bitbucket removed app passwords on 2026-07-28; create an Atlassian API token instead ' +
  '(id.atlassian.com > Security > Create API token with scopes, app Bitbucket, scopes ' +
  'read:repository:bitbucket and read:workspace:bitbucket) and pass it as bitbucket-api-token with ' +
  'bitbucket-email, or use bitbucket-access-token'

export const API_TOKEN_GIT_USER = 'x-bitbucket-api-token-auth'
export const BEARER_GIT_USER = 'x-token-auth'
/** Refresh an OAuth token this long before it expires, so a long clone never starts with a stale one. */
const OAUTH_REFRESH_MARGIN_MS = 5 * 60 * 1000

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
}

export class CredentialError extends Error {
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
  let token: { value: string; expiresAt: number } | undefined
  let inFlight: Promise<string> | undefined

  const requestToken = async (): Promise<string> => {
    options.onTokenRequest?.()
    const response = await doFetch(options.oauthTokenUrl, {
      method: 'POST',
      headers: {
        Authorization: basic(clientId, clientSecret),
        'Content-Type': 'application/x-www-form-urlencoded'
      },
      body: 'grant_type=client_credentials'
    })
    const text = await response.text()
    if (!response.ok) {
      throw new CredentialError(
        `The OAuth consumer (bitbucket-oauth-client-id) was rejected by ${options.oauthTokenUrl} ` +
          `(HTTP ${response.status}); check the key and secret, and that the consumer is private (client credentials)`
      )
    }
    const body = JSON.parse(text) as { access_token?: string; expires_in?: number }
    if (!body.access_token)
      throw new CredentialError(`${options.oauthTokenUrl} answered without an access_token`)
    mask(body.access_token)
    mask(Buffer.from(`${BEARER_GIT_USER}:${body.access_token}`).toString('base64'))
    token = { value: body.access_token, expiresAt: now() + (body.expires_in ?? 3600) * 1000 }
    return body.access_token
  }

  const accessToken = async (): Promise<string> => {
    if (token && token.expiresAt - now() > OAUTH_REFRESH_MARGIN_MS) return token.value
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
