// One line for the report that says why a repository failed, in the user's terms.
import { gitUserAdvice } from '../credentials/credentials.js'
import type { BitbucketAuth } from '../credentials/types.js'
import { GitError } from '../git/git.js'
import { firstLineOf } from '../shared/errors.js'

export function describeRepositoryFailure(error: unknown, auth: BitbucketAuth): string {
  const message = firstLineOf(error)
  if (!(error instanceof GitError)) return message
  const text = `${error.message}\n${error.stderr}`
  if (
    /returned error: 401|Authentication failed|Authorization error|could not read Username/i.test(
      text
    )
  ) {
    return `Bitbucket rejected ${auth.description} for git (user name "${auth.gitUsername}"): ${message}; ${gitUserAdvice(auth)}`
  }
  if (/returned error: 403|Access denied|Forbidden/i.test(text)) {
    return `the credential may not read this repository (403): grant it read access or exclude the repository`
  }
  if (/returned error: 30[1278]\b/.test(text)) {
    return `Bitbucket redirected git elsewhere; git follows no redirect with the credential, so it cannot reach another host: ${message}`
  }
  if (/returned error: 404|not found/i.test(text)) {
    return `the repository was not found over git (404); it may have been deleted during the run`
  }
  return message
}
