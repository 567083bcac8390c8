// One-line messages for Bitbucket's error answers: which credential, which user name, which scope.
import { APP_PASSWORD_REMOVED } from '../credentials.js'
import type { BitbucketAuth } from '../credentials-types.js'

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

/** Bitbucket's JSON error body when there is one; gateways answer HTML and rate limits plain text. */
function errorBody(text: string): { message?: string; required?: string[] } {
  try {
    const body = JSON.parse(text) as {
      error?: { message?: string; detail?: { required?: string[] } }
    }
    return { message: body.error?.message, required: body.error?.detail?.required }
  } catch {
    return {}
  }
}

export function describeFailure(
  status: number,
  bodyText: string,
  url: string,
  auth: BitbucketAuth
): BitbucketError {
  const body = errorBody(bodyText)
  const endpoint = new URL(url).pathname
  switch (status) {
    case 401: {
      if (/app password/i.test(bodyText)) return new BitbucketError(APP_PASSWORD_REMOVED, status)
      const user = auth.restUsername
        ? `the REST API needs the Atlassian account email (${auth.restUsername} was sent) with the API token`
        : 'the REST API needs the token as a Bearer token; check it has not expired or been revoked'
      return new BitbucketError(
        `Bitbucket rejected ${auth.description} for the REST API (HTTP 401): ${user}.`,
        status
      )
    }
    case 403: {
      const scopes = body.required?.length ? body.required.join(', ') : NEEDED_SCOPES
      return new BitbucketError(
        `${auth.description} may not read ${endpoint} (HTTP 403): give it the scope ${scopes}.`,
        status
      )
    }
    case 404: {
      const workspace = /\/repositories\/([^/?]+)\/?$/.exec(endpoint)?.[1]
      // Every REST 2.0 endpoint lives under /2.0: a base without it 404s on everything.
      const base = /\/2\.0\//.test(endpoint)
        ? ''
        : ` bitbucket-api-url must be the REST API 2.0 base, e.g. https://api.bitbucket.org/2.0 (this request went to ${endpoint}).`
      return new BitbucketError(
        (workspace
          ? `Workspace "${decodeURIComponent(workspace)}" was not found or ${auth.description} cannot see it (HTTP 404); check the workspace input (bitbucket.org/<workspace>).`
          : `Bitbucket has no ${endpoint} (HTTP 404).`) + base,
        status
      )
    }
    case 410:
      return new BitbucketError(
        `Bitbucket removed the endpoint ${endpoint} (HTTP 410); list repositories per workspace (/2.0/repositories/<workspace>) and workspaces with /2.0/user/workspaces.`,
        status
      )
    default: {
      const detail =
        body.message ??
        bodyText
          .replace(/<[^>]*>/g, ' ')
          .replace(/\s+/g, ' ')
          .trim()
          .slice(0, 120)
      return new BitbucketError(
        `Bitbucket answered HTTP ${status} for ${endpoint}${detail ? `: ${detail}` : ''}.`,
        status
      )
    }
  }
}
