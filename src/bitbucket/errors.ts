// One-line messages for Bitbucket's error answers: which credential, which user name, which scope.
import { APP_PASSWORD_REMOVED } from '../credentials/credentials.js'
import type { BitbucketAuth } from '../credentials/types.js'
import { coded } from '../shared/codes.js'

export class BitbucketError extends Error {
  override name = 'BitbucketError'
  constructor(
    message: string,
    readonly status: number
  ) {
    super(message)
  }
}

const NEEDED_SCOPES =
  'read:repository:bitbucket and read:workspace:bitbucket (API tokens) or repository (access tokens, OAuth)'
/** Pull requests need their own scope: repository read does not imply it. */
const PULL_REQUEST_SCOPES =
  'read:pullrequest:bitbucket (API tokens) or pullrequest (access tokens, OAuth)'
/** POST and PUT of a repository (restores): the spec's `admin:repository:bitbucket` / `repository:admin`. */
const WRITE_SCOPES =
  'admin:repository:bitbucket (API tokens) or repository:admin (access tokens, OAuth)'

interface ErrorBody {
  message?: string
  /** A string in the spec's `error` schema; an object with `required` in Bitbucket's scope answers. */
  detail?: string
  required?: string[]
}

/** Bitbucket's JSON error body when there is one; gateways answer HTML and rate limits plain text. */
function errorBody(text: string): ErrorBody {
  try {
    const body = JSON.parse(text) as {
      error?: {
        message?: string
        detail?: unknown
        data?: { required?: unknown }
        fields?: Record<string, unknown>
      }
    }
    const error = body.error ?? {}
    const detail = error.detail as { required?: unknown } | string | undefined
    const listed = [
      typeof detail === 'object' ? detail?.required : undefined,
      error.data?.required
    ].find(Array.isArray) as string[] | undefined
    // Bitbucket also answers a rejected field as `fields: {project: ["..."]}`.
    const fields = Object.entries(error.fields ?? {})
      .map(([field, problems]) => `${field}: ${[problems].flat().join(' ')}`)
      .join('; ')
    return {
      message: error.message,
      detail: typeof detail === 'string' ? detail : fields || undefined,
      required: listed
    }
  } catch {
    return {}
  }
}

const oneLine = (text: string) => text.replace(/\s+/g, ' ').trim().replace(/\.$/, '').slice(0, 300)

export function describeFailure(
  status: number,
  bodyText: string,
  url: string,
  auth: BitbucketAuth,
  method = 'GET'
): BitbucketError {
  const body = errorBody(bodyText)
  const endpoint = new URL(url).pathname
  switch (status) {
    case 401: {
      if (/app password/i.test(bodyText))
        return new BitbucketError(coded('BB001', APP_PASSWORD_REMOVED), status)
      const user = auth.restUsername
        ? `the REST API needs the Atlassian account email (${auth.restUsername} was sent) with the API token`
        : 'the REST API needs the token as a Bearer token; check it has not expired or been revoked'
      return new BitbucketError(
        coded(
          'BB401',
          `Bitbucket rejected ${auth.description} for the REST API (HTTP 401): ${user}.`
        ),
        status
      )
    }
    case 403: {
      const writing = method !== 'GET'
      const scopes = body.required?.length
        ? body.required.join(', ')
        : writing
          ? WRITE_SCOPES
          : /\/pullrequests(\/|$)/.test(endpoint)
            ? PULL_REQUEST_SCOPES
            : NEEDED_SCOPES
      // The spec's detail is free text: quoted when no list of scopes says what to grant.
      const said =
        !body.required?.length && body.detail ? ` (Bitbucket: ${oneLine(body.detail)})` : ''
      return new BitbucketError(
        coded(
          writing ? 'BB405' : 'BB403',
          `${auth.description} may not ${writing ? 'create or change' : 'read'} ${endpoint} (${writing ? `${method}, ` : ''}HTTP 403): give it the scope ${scopes}${said}.`
        ),
        status
      )
    }
    case 404: {
      // A create (POST) answers 404 only when the workspace itself is missing.
      const workspace = (
        method === 'GET' ? /\/repositories\/([^/?]+)\/?$/ : /\/repositories\/([^/?]+)\/[^/?]+\/?$/
      ).exec(endpoint)?.[1]
      // Every REST 2.0 endpoint lives under /2.0: a base without it 404s on everything.
      const base = /\/2\.0\//.test(endpoint)
        ? ''
        : ` bitbucket-api-url must be the REST API 2.0 base, e.g. https://api.bitbucket.org/2.0 (this request went to ${endpoint}).`
      return new BitbucketError(
        coded(
          'BB404',
          (workspace
            ? `Workspace "${decodeURIComponent(workspace)}" was not found or ${auth.description} cannot see it (HTTP 404); check the workspace input (bitbucket.org/<workspace>).`
            : `Bitbucket has no ${endpoint} (HTTP 404).`) + base
        ),
        status
      )
    }
    case 410:
      return new BitbucketError(
        coded(
          'BB410',
          `Bitbucket removed the endpoint ${endpoint} (HTTP 410); list repositories per workspace (/2.0/repositories/<workspace>) and workspaces with /2.0/user/workspaces.`
        ),
        status
      )
    default: {
      // The message alone is often just "Bad request"; the detail says which field and why.
      const said = [body.message, body.detail]
        .filter(Boolean)
        .filter((part, index, parts) => parts.indexOf(part) === index)
        .join(': ')
      const detail =
        oneLine(said) ||
        bodyText
          .replace(/<[^>]*>/g, ' ')
          .replace(/\s+/g, ' ')
          .trim()
          .slice(0, 120)
      return new BitbucketError(
        coded(
          'BB006',
          `Bitbucket answered HTTP ${status} for ${endpoint}${detail ? `: ${detail}` : ''}.`
        ),
        status
      )
    }
  }
}
