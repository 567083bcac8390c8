// Who a request is and what it may do, by GitHub's rules for the three token kinds the action meets:
// a classic PAT, a GitHub App installation token and a workflow's GITHUB_TOKEN.
import { fullName, type Repo, type State, type Token } from './types.js'

export type Caller = { token?: Token } | { status: 401; message: string }

export const BAD_CREDENTIALS = 'Bad credentials'
export const REQUIRES_AUTH = 'Requires authentication'
export const GIT_BAD_CREDENTIALS =
  'Invalid username or token. Password authentication is not supported for Git operations.'

const lower = (names: string[]) => names.map(name => name.toLowerCase())

/** REST: `token X`, `Bearer X` or Basic with the token as password; no header is anonymous. */
export function authenticateRest(state: State, header: string | undefined): Caller {
  if (!header) return {}
  const scheme = /^(token|bearer)\s+(\S+)\s*$/i.exec(header)
  const secret = scheme ? scheme[2] : basicPassword(header)
  const token = secret === undefined ? undefined : state.tokens.get(secret)
  return token ? { token } : { status: 401, message: BAD_CREDENTIALS }
}

/** Git and LFS: HTTP Basic with any user name and the token as password; no header is anonymous. */
export function authenticateGit(state: State, header: string | undefined): Caller {
  if (!header) return {}
  const secret = basicPassword(header)
  const token = secret === undefined ? undefined : state.tokens.get(secret)
  return token ? { token } : { status: 401, message: GIT_BAD_CREDENTIALS }
}

function basicPassword(header: string): string | undefined {
  const basic = /^basic\s+(\S+)\s*$/i.exec(header)
  if (!basic) return undefined
  const decoded = Buffer.from(basic[1], 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  return colon < 0 ? undefined : decoded.slice(colon + 1)
}

/** ghs_ tokens act as an integration: no /user, and GitHub's "Resource not accessible" refusals. */
export const isIntegration = (token: Token): boolean => token.kind !== 'pat'

/** Where a token may create repositories: never for a GITHUB_TOKEN. */
export function mayCreateIn(token: Token, owner: string): boolean {
  const target = owner.toLowerCase()
  if (token.kind === 'actions') return false
  if (token.kind === 'pat' && token.login.toLowerCase() === target) return true
  return lower(token.canCreateIn).includes(target)
}

export interface Permissions {
  admin: boolean
  push: boolean
  pull: boolean
}

/** A repository's permissions for a caller; anonymous callers read public repositories only. */
export function permissionsOf(token: Token | undefined, repo: Repo): Permissions {
  const pull = repo.visibility === 'public'
  if (!token) return { admin: false, push: false, pull }
  const name = fullName(repo).toLowerCase()
  if (lower(token.cannotSee).includes(name)) return { admin: false, push: false, pull }
  const admin = mayCreateIn(token, repo.owner)
  const push = admin || lower(token.canPushTo).includes(name)
  return { admin, push, pull: pull || push || lower(token.canReadFrom).includes(name) }
}

export const canSee = (token: Token | undefined, repo: Repo): boolean =>
  permissionsOf(token, repo).pull
