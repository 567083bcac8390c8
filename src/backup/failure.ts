// One line for the report that says why a repository failed, in the user's terms.
import { gitUserAdvice } from '../credentials/credentials.js'
import type { BitbucketAuth } from '../credentials/types.js'
import { GitError } from '../git/git.js'
import { firstLineOf } from '../shared/errors.js'
import { coded, ensureCoded } from '../shared/codes.js'

/** The line, ending with its code: a cause this module knows, the error's own code, or a generic one. */
export function describeRepositoryFailure(error: unknown, auth: BitbucketAuth): string {
  const message = firstLineOf(error)
  if (!(error instanceof GitError)) return ensureCoded('RUN001', message)
  const text = `${error.message}\n${error.stderr}`
  if (
    /returned error: 401|Authentication failed|Authorization error|could not read Username/i.test(
      text
    )
  ) {
    return coded(
      'GIT401',
      `Bitbucket rejected ${auth.description} for git (user name "${auth.gitUsername}"): ${message}; ${gitUserAdvice(auth)}`
    )
  }
  if (/returned error: 403|Access denied|Forbidden/i.test(text)) {
    return coded(
      'GIT403',
      'the credential may not read this repository (403): grant it read access or exclude the repository'
    )
  }
  if (/returned error: 30[1278]\b/.test(text)) {
    return coded(
      'GIT301',
      `Bitbucket redirected git elsewhere; git follows no redirect with the credential, so it cannot reach another host: ${message}`
    )
  }
  if (/returned error: 404|not found/i.test(text)) {
    return coded(
      'GIT404',
      'the repository was not found over git (404); it may have been deleted during the run'
    )
  }
  return ensureCoded('GIT001', message)
}
