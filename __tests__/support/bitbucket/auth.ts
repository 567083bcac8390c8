// Bitbucket's authentication rules (REFERENCE.md): REST takes email + API token or Bearer tokens; git takes
// Basic only, with x-bitbucket-api-token-auth or the username for API tokens and x-token-auth for the rest.
import type { Repo } from './types.js'

export type Identity =
  | { kind: 'api-token'; email: string; username: string; scopes: string[] }
  | { kind: 'access-token'; workspace: string; scopes: string[] }
  | { kind: 'oauth' }

export interface Registry {
  apiTokens: { email: string; username: string; token: string; scopes: string[] }[]
  accessTokens: { token: string; workspace: string; scopes: string[] }[]
  consumers: { clientId: string; clientSecret: string; tokenLifetimeSeconds?: number }[]
  /** OAuth access token → expiry (ms since epoch). */
  oauthTokens: Map<string, number>
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
    const expiry = registry.oauthTokens.get(bearer[1])
    if (expiry !== undefined && expiry > Date.now()) return { kind: 'oauth' }
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
  | { kind: 'oauth'; user: string }

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
    const expiry = registry.oauthTokens.get(secret)
    if (expiry !== undefined && expiry > Date.now()) return { kind: 'oauth', user }
    return { status: 401, message: 'Access token expired or invalid' }
  }
  // Git takes an API token with the fixed user name or the Bitbucket username, never the email.
  const token = registry.apiTokens.find(
    t => t.token === secret && (user === API_TOKEN_USER || user === t.username)
  )
  if (!token) return { status: 401, message: 'Invalid credentials' }
  return { kind: 'api-token', user, username: token.username, scopes: token.scopes }
}

/** What an authenticated git identity may do with one repository: undefined when allowed. */
export function authorizeGit(
  identity: GitIdentity,
  repo: Repo,
  write: boolean
): Refusal | undefined {
  if (identity.kind === 'admin') return undefined
  const denied = { status: 403, message: 'You do not have access to this repository.' }
  if (repo.denyGit) return denied
  if (identity.kind === 'access-token') {
    if (identity.workspace !== repo.workspace) return denied
    if (!identity.scopes.some(scope => scope.startsWith('repository'))) return denied
  }
  if (identity.kind === 'api-token' && !identity.scopes.includes('read:repository:bitbucket'))
    return denied
  if (write) return { status: 403, message: 'You do not have write access to this repository.' }
  return undefined
}
