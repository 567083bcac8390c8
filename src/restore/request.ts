// One destination request, from the command line or the restore action, turned into a Destination;
// the secrets for each kind of destination are checked before anything is read or written.
import { createBitbucketClient } from '../bitbucket/client.js'
import {
  basic,
  createBitbucketAuth,
  maskGitHubToken,
  maskGitPassword
} from '../credentials/credentials.js'
import type { DestinationRequest } from '../settings/restore.js'
import { defaultOAuthTokenUrl } from '../settings/credential.js'
import type { BitbucketCredentialInput } from '../settings/types.js'
import {
  bitbucketDestination,
  githubDestination,
  isGitUrl,
  urlDestination,
  type Destination
} from './destination.js'
import { coded } from '../shared/codes.js'

export type { DestinationRequest }

export class DestinationError extends Error {
  override name = 'DestinationError'
  constructor(message: string) {
    // Every destination problem is one entry: what the three kinds of destination need.
    super(coded('RS006', message))
  }
}

function bitbucketCredential(secrets: DestinationRequest['secrets']): BitbucketCredentialInput {
  if (secrets.bitbucketAccessToken) {
    return { kind: 'access-token', token: secrets.bitbucketAccessToken }
  }
  if (secrets.bitbucketEmail && secrets.bitbucketApiToken) {
    return { kind: 'api-token', email: secrets.bitbucketEmail, token: secrets.bitbucketApiToken }
  }
  throw new DestinationError(
    'a Bitbucket destination needs bitbucket-email + bitbucket-api-token (scopes read:repository:bitbucket, write:repository:bitbucket and admin:repository:bitbucket) or bitbucket-access-token (BITBUCKET_EMAIL + BITBUCKET_API_TOKEN or BITBUCKET_ACCESS_TOKEN for the command line)'
  )
}

/** A `scheme://user:password@host/...` template (its placeholders do not matter). */
function hasPassword(template: string): boolean {
  if (!isGitUrl(template)) return false
  try {
    return new URL(template.replace(/\{(workspace|slug|project)\}/g, 'x')).password !== ''
  } catch {
    return false
  }
}

/**
 * @param mask registers each secret and every form it is sent in (the restore action's log masking);
 * the command line has no log to mask
 */
export function openDestination(
  request: DestinationRequest,
  log: (line: string) => void,
  mask: (secret: string) => void = () => undefined
): Destination {
  const chosen = [request.to, request.bitbucketWorkspace, request.githubOwner].filter(Boolean)
  if (chosen.length !== 1) {
    throw new DestinationError('give exactly one of --to, --bitbucket-workspace, --github-owner')
  }
  const { secrets } = request
  if (request.to) {
    if (hasPassword(request.to)) {
      throw new DestinationError(
        'the destination URL holds a password, which would be printed and handed to git in the URL; remove it and give it in RESTORE_GIT_USERNAME + RESTORE_GIT_PASSWORD (to-username + to-password for the action)'
      )
    }
    const { toUsername: user, toPassword: password } = secrets
    if (user && password) maskGitPassword(user, password, mask)
    return urlDestination(
      request.to,
      user && password ? async () => basic(user, password) : undefined
    )
  }
  if (request.bitbucketWorkspace) {
    const apiUrl = request.bitbucketApiUrl.replace(/\/+$/, '')
    const auth = createBitbucketAuth(bitbucketCredential(secrets), {
      oauthTokenUrl: defaultOAuthTokenUrl(new URL(apiUrl)),
      mask
    })
    const client = createBitbucketClient({
      apiUrl,
      auth,
      log: { info: log, warning: log, debug: () => undefined }
    })
    return bitbucketDestination({ workspace: request.bitbucketWorkspace, apiUrl, auth, client })
  }
  if (!secrets.githubToken) {
    throw new DestinationError(
      'a GitHub destination needs a token that may create repositories there (GITHUB_TOKEN for the command line, destination-github-token for the action)'
    )
  }
  maskGitHubToken(secrets.githubToken, mask)
  return githubDestination({
    token: secrets.githubToken,
    owner: request.githubOwner!,
    apiUrl: request.githubApiUrl.replace(/\/+$/, ''),
    nameTemplate: '{slug}',
    visibility: 'private',
    overwrite: false,
    maxPushBytes: 2e9,
    maxFileBytes: 100e6,
    refsPerPush: 0
  })
}
