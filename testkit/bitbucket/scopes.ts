// Bitbucket's privilege scopes (swagger.v3.json, x-atlassian-narrative "authentication"): API tokens
// carry Forge-style scopes that never imply one another; access tokens and OAuth carry OAuth 2.0 scopes,
// some of which imply others. Each REST operation needs the scope its `security` entries name.

export type Access = 'read' | 'write' | 'admin'

/** Scopes of API tokens: `write:repository:bitbucket` does not grant `read:repository:bitbucket`. */
export const API_TOKEN_SCOPES: Record<Access, string> = {
  read: 'read:repository:bitbucket',
  write: 'write:repository:bitbucket',
  admin: 'admin:repository:bitbucket'
}

/** Scopes of access tokens and OAuth consumers (the spec's `oauth2` security scheme). */
export const OAUTH_SCOPES: Record<Access, string> = {
  read: 'repository',
  write: 'repository:write',
  admin: 'repository:admin'
}

/** What an OAuth 2.0 scope implicitly grants; `repository:admin` grants neither read nor write. */
const IMPLIES: Record<string, string[]> = {
  'repository:write': ['repository'],
  project: ['repository'],
  pullrequest: ['repository'],
  'pullrequest:write': ['pullrequest', 'repository:write', 'repository'],
  'snippet:write': ['snippet']
}

export type ScopeKind = 'api-token' | 'oauth'

export function requiredScope(kind: ScopeKind, access: Access): string {
  return (kind === 'api-token' ? API_TOKEN_SCOPES : OAUTH_SCOPES)[access]
}

export function grants(kind: ScopeKind, scopes: string[], access: Access): boolean {
  return grantsAll(kind, scopes, [requiredScope(kind, access)])
}

/** Every scope of `needed`, each held or (OAuth 2.0 only) implied by one that is held. */
export function grantsAll(kind: ScopeKind, scopes: string[], needed: string[]): boolean {
  if (kind === 'api-token') return needed.every(scope => scopes.includes(scope))
  return needed.every(one =>
    scopes.some(scope => scope === one || (IMPLIES[scope] ?? []).includes(one))
  )
}

/**
 * The access each REST operation the stand-in serves needs, keyed `METHOD path` as the spec spells
 * it (`security` for OAuth, `x-atlassian-oauth2-scopes` for API tokens); the tests compare it with
 * the spec.
 */
export const REST_OPERATIONS: Record<string, Access> = {
  'get /repositories/{workspace}': 'read',
  'get /repositories/{workspace}/{repo_slug}': 'read',
  'post /repositories/{workspace}/{repo_slug}': 'admin',
  'put /repositories/{workspace}/{repo_slug}': 'admin'
}
