// Unsigned runtime tokens shaped like the runner's ACTIONS_RUNTIME_TOKEN, and their validation.

/** The identity a runtime token grants: one job of one workflow run. */
export interface RunIdentity {
  runId: string
  jobId: string
}

export interface RuntimeTokenOptions {
  /** Lifetime in seconds; default 6 hours. Negative values make an already expired token. */
  expiresInSeconds?: number
  /** Replaces the `scp` claim entirely (to test malformed scopes). */
  scp?: string
}

const base64url = (value: string | Buffer) => Buffer.from(value).toString('base64url')

/**
 * A JWT (`alg: none`, fixed fake signature) whose `scp` claim holds
 * `Actions.Results:<runId>:<jobId>` among other scopes, as the runner's token does.
 * `@actions/artifact` decodes it without checking the signature; this service does the same.
 */
export function makeRuntimeToken(
  runId: string | number,
  jobId: string,
  options: RuntimeTokenOptions = {}
): string {
  const now = Math.floor(Date.now() / 1000)
  const scp =
    options.scp ??
    [
      'Actions.ExampleScope',
      `Actions.Results:${runId}:${jobId}`,
      `Actions.UploadArtifacts:${runId}:${jobId}`
    ].join(' ')
  const payload = {
    iss: 'vstoken.actions.githubusercontent.com',
    aud: 'vso:local-results-service',
    nbf: now - 60,
    iat: now,
    exp: now + (options.expiresInSeconds ?? 6 * 3600),
    scp,
    ac: JSON.stringify([{ Scope: 'refs/heads/main', Permission: 3 }])
  }
  const header = { typ: 'JWT', alg: 'none' }
  return [base64url(JSON.stringify(header)), base64url(JSON.stringify(payload)), 'unsigned'].join(
    '.'
  )
}

/** Why a token was refused; the text goes into the 401 twirp error. */
export class TokenError extends Error {}

/**
 * Reads `Authorization: Bearer <jwt>` and returns the run and job of its `Actions.Results` scope.
 * Throws TokenError for a missing header, an undecodable token, an expired token or a missing /
 * malformed `Actions.Results:<run>:<job>` scope.
 */
export function identityFromAuthorization(header: string | undefined): RunIdentity {
  const match = /^Bearer\s+(\S+)$/i.exec(header ?? '')
  if (!match) throw new TokenError('missing bearer token')
  const parts = match[1].split('.')
  if (parts.length !== 3) throw new TokenError('token is not a JWT')
  let payload: { scp?: unknown; exp?: unknown }
  try {
    payload = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'))
  } catch {
    throw new TokenError('token payload is not JSON')
  }
  if (typeof payload.exp === 'number' && payload.exp * 1000 < Date.now()) {
    throw new TokenError('token expired')
  }
  if (typeof payload.scp !== 'string') throw new TokenError('token has no scp claim')
  for (const scope of payload.scp.split(' ')) {
    const pieces = scope.split(':')
    if (pieces[0] !== 'Actions.Results') continue
    if (pieces.length !== 3 || !pieces[1] || !pieces[2]) {
      throw new TokenError('malformed Actions.Results scope')
    }
    return { runId: pieces[1], jobId: pieces[2] }
  }
  throw new TokenError('token has no Actions.Results scope')
}
