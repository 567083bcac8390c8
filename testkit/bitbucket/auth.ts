// Bitbucket's authentication rules (REFERENCE.md): REST takes email + API token or Bearer tokens; git takes
// Basic only, with x-bitbucket-api-token-auth or the username for API tokens and x-token-auth for the rest.
import { grants, type ScopeKind } from './scopes.js'
import type { Repo } from './types.js'

export type Identity =
  | { kind: 'api-token'; email: string; username: string; scopes: string[] }
  | { kind: 'access-token'; workspace: string; scopes: string[] }
  | { kind: 'oauth'; scopes: string[] }

export interface Registry {
  apiTokens: { email: string; username: string; token: string; scopes: string[] }[]
  accessTokens: { token: string; workspace: string; scopes: string[] }[]
  consumers: {
    clientId: string
    clientSecret: string
    tokenLifetimeSeconds?: number
    scopes?: string[]
  }[]
  /** OAuth access token → expiry (ms since epoch) and the consumer's scopes. */
  oauthTokens: Map<string, { expires: number; scopes: string[] }>
  appPasswords: { username: string; password: string }[]
  /** The fixture admin's `Basic ...` header: reads and pushes every repository. */
  adminAuthorization: string
}

const unauthorized = (message: string) => ({
  status: 401,
  body: JSON.stringify({ type: 'error', error: { message } })
})

export function authenticate(
  header: string | undefined,
  registry: Registry
): Identity | { status: number; body: string } {
  if (!header) return unauthorized('Authentication required')
  const bearer = /^Bearer (.+)$/.exec(header)
  if (bearer) {
    const access = registry.accessTokens.find(t => t.token === bearer[1])
    if (access) return { kind: 'access-token', workspace: access.workspace, scopes: access.scopes }
    const oauth = registry.oauthTokens.get(bearer[1])
    if (oauth && oauth.expires > Date.now()) return { kind: 'oauth', scopes: oauth.scopes }
    return unauthorized('Access token expired or invalid')
  }
  const basic = /^Basic (.+)$/.exec(header)
  if (!basic) return unauthorized('Unsupported authentication scheme')
  const decoded = Buffer.from(basic[1], 'base64').toString('utf8')
  const user = decoded.slice(0, decoded.indexOf(':'))
  const secret = decoded.slice(decoded.indexOf(':') + 1)
  if (registry.appPasswords.some(p => p.password === secret)) {
    return unauthorized('App passwords are no longer supported. Use API tokens instead.')
  }
  // REST takes the Atlassian account email with an API token; the username is rejected.
  const token = registry.apiTokens.find(t => t.token === secret && t.email === user)
  if (!token) return unauthorized('Invalid credentials')
  return { kind: 'api-token', email: token.email, username: token.username, scopes: token.scopes }
}

export type GitIdentity =
  | { kind: 'admin'; user: string }
  | { kind: 'api-token'; user: string; username: string; scopes: string[] }
  | { kind: 'access-token'; user: string; workspace: string; scopes: string[] }
  | { kind: 'oauth'; user: string; scopes: string[] }

export interface Refusal {
  status: number
  message: string
}

export const ADMIN_USER = 'fixture-admin'
export const API_TOKEN_USER = 'x-bitbucket-api-token-auth'
export const TOKEN_USER = 'x-token-auth'

/** Git over HTTPS and LFS: HTTP Basic only. A Bearer header or the account email as user name is a 401. */
export function authenticateGit(
  header: string | undefined,
  registry: Registry
): GitIdentity | Refusal {
  if (!header) return { status: 401, message: 'Authentication required' }
  if (header === registry.adminAuthorization) return { kind: 'admin', user: ADMIN_USER }
  const basic = /^Basic\s+(\S+)$/i.exec(header)
  if (!basic) return { status: 401, message: 'Git over HTTPS takes HTTP Basic authentication only' }
  const decoded = Buffer.from(basic[1], 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  if (colon < 0) return { status: 401, message: 'Invalid credentials' }
  const user = decoded.slice(0, colon)
  const secret = decoded.slice(colon + 1)
  if (registry.appPasswords.some(p => p.password === secret)) {
    return {
      status: 401,
      message: 'App passwords are no longer supported. Use an API token or an access token instead.'
    }
  }
  if (user === TOKEN_USER) {
    const access = registry.accessTokens.find(t => t.token === secret)
    if (access)
      return { kind: 'access-token', user, workspace: access.workspace, scopes: access.scopes }
    const oauth = registry.oauthTokens.get(secret)
    if (oauth && oauth.expires > Date.now()) return { kind: 'oauth', user, scopes: oauth.scopes }
    return { status: 401, message: 'Access token expired or invalid' }
  }
  // Git takes an API token with the fixed user name or the Bitbucket username, never the email.
  const token = registry.apiTokens.find(
    t => t.token === secret && (user === API_TOKEN_USER || user === t.username)
  )
  if (!token) return { status: 401, message: 'Invalid credentials' }
  return { kind: 'api-token', user, username: token.username, scopes: token.scopes }
}

/** The scope vocabulary of an identity: Forge-style for API tokens, OAuth 2.0 for the rest. */
export const scopeKind = (identity: { kind: string }): ScopeKind =>
  identity.kind === 'api-token' ? 'api-token' : 'oauth'

/**
 * What an authenticated git identity may do with one repository: undefined when allowed. Reading
 * needs the read scope (`repository` or a scope implying it for access tokens and OAuth); pushing
 * needs the write scope, which for API tokens does not need the read scope beside it.
 */
export function authorizeGit(
  identity: GitIdentity,
  repo: Repo,
  write: boolean
): Refusal | undefined {
  if (identity.kind === 'admin') return undefined
  const denied = { status: 403, message: 'You do not have access to this repository.' }
  if (repo.denyGit) return denied
  if (identity.kind === 'access-token' && identity.workspace !== repo.workspace) return denied
  const kind = scopeKind(identity)
  if (write && grants(kind, identity.scopes, 'write')) return undefined
  if (!grants(kind, identity.scopes, 'read')) return denied
  if (write) return { status: 403, message: 'You do not have write access to this repository.' }
  return undefined
}
