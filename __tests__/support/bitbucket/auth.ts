// Bitbucket's authentication rules for REST (REFERENCE.md): email + API token, Bearer tokens, no app passwords.

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
