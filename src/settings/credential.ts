// The Bitbucket credential and endpoints: exactly one kind of credential, checked before any request.
import { DEFAULT_API_URL, Inputs } from '../shared/constants.js'
import { APP_PASSWORD_REMOVED, looksLikeAppPassword } from '../credentials/credentials.js'
import type { BitbucketCredentialInput } from './types.js'
import { fail, parseUrl, readSecret, type InputSource } from './parse.js'

/** Real Bitbucket serves REST on api.bitbucket.org and OAuth on bitbucket.org; other hosts serve both. */
export function defaultOAuthTokenUrl(apiUrl: URL): string {
  const host = apiUrl.host.replace(/^api\./, '')
  return `${apiUrl.protocol}//${host}/site/oauth2/access_token`
}

export function parseCredential(source: InputSource): BitbucketCredentialInput {
  const email = source.get(Inputs.Email).trim()
  const apiToken = readSecret(source, Inputs.ApiToken)
  const gitUsername = source.get(Inputs.GitUsername).trim()
  const accessToken = readSecret(source, Inputs.AccessToken)
  const clientId = readSecret(source, Inputs.OAuthClientId)
  const clientSecret = readSecret(source, Inputs.OAuthClientSecret)

  const given = [
    apiToken || email ? Inputs.ApiToken : '',
    accessToken ? Inputs.AccessToken : '',
    clientId || clientSecret ? 'bitbucket-oauth-client-id/secret' : ''
  ].filter(Boolean)
  if (given.length === 0) {
    fail(
      Inputs.ApiToken,
      'no Bitbucket credential was given',
      `set ${Inputs.Email} + ${Inputs.ApiToken}, or ${Inputs.AccessToken}, or ${Inputs.OAuthClientId} + ${Inputs.OAuthClientSecret} from secrets`,
      'IN002'
    )
  }
  if (given.length > 1) {
    fail(
      given[1],
      `more than one kind of credential was given (${given.join(', ')})`,
      'set only one',
      'IN003'
    )
  }
  for (const [name, secret] of [
    [Inputs.ApiToken, apiToken],
    [Inputs.AccessToken, accessToken],
    [Inputs.OAuthClientSecret, clientSecret]
  ]) {
    if (secret && looksLikeAppPassword(secret))
      fail(name, 'this is an app password', APP_PASSWORD_REMOVED, 'BB001')
  }
  if (apiToken || email) {
    if (!email)
      fail(
        Inputs.Email,
        'is empty',
        `the Atlassian account email is required with ${Inputs.ApiToken}`,
        'IN002'
      )
    if (!apiToken)
      fail(
        Inputs.ApiToken,
        'is empty',
        `an Atlassian API token is required with ${Inputs.Email}`,
        'IN002'
      )
    if (!/^[^@\s]+@[^@\s]+$/.test(email)) {
      fail(
        Inputs.Email,
        `"${email}" is not an email address`,
        `the REST API needs the Atlassian account email; a Bitbucket username goes in ${Inputs.GitUsername}`
      )
    }
    if (gitUsername.includes('@')) {
      fail(
        Inputs.GitUsername,
        'git rejects an email as user name',
        'use the Bitbucket username (Personal settings > Account settings), or leave it empty'
      )
    }
    return { kind: 'api-token', email, token: apiToken, ...(gitUsername ? { gitUsername } : {}) }
  }
  if (accessToken) return { kind: 'access-token', token: accessToken }
  if (!clientId)
    fail(
      Inputs.OAuthClientId,
      'is empty',
      `the OAuth consumer key is required with ${Inputs.OAuthClientSecret}`,
      'IN002'
    )
  if (!clientSecret)
    fail(
      Inputs.OAuthClientSecret,
      'is empty',
      `the OAuth consumer secret is required with ${Inputs.OAuthClientId}`,
      'IN002'
    )
  return { kind: 'oauth', clientId, clientSecret }
}

/** The REST API root (no trailing slash) and the OAuth token endpoint that goes with it. */
export function parseBitbucketEndpoints(source: InputSource): {
  apiUrl: string
  oauthTokenUrl: string
} {
  const apiUrl = parseUrl(Inputs.ApiUrl, source.get(Inputs.ApiUrl).trim() || DEFAULT_API_URL)
  const tokenUrlRaw = source.get(Inputs.OAuthTokenUrl).trim()
  const oauthTokenUrl = tokenUrlRaw
    ? parseUrl(Inputs.OAuthTokenUrl, tokenUrlRaw).href
    : defaultOAuthTokenUrl(apiUrl)
  return { apiUrl: apiUrl.href.replace(/\/+$/, ''), oauthTokenUrl }
}
