// Git for GitHub: one client per origin a repository's clone URL names, the token bound to it alone.
import { githubGitAuthorization } from '../credentials/credentials.js'
import { createGit, type Git } from '../git/git.js'

/** Returns the git client for a GitHub clone URL, created once per origin. */
export function githubGitFor(token: string): (cloneUrl: string) => Git {
  const gits = new Map<string, Git>()
  return cloneUrl => {
    const origin = new URL(cloneUrl).origin
    if (!gits.has(origin)) {
      gits.set(
        origin,
        createGit(
          [{ origin, authorization: async () => githubGitAuthorization(token) }],
          // Lock verification is for working copies; a mirror push has nothing to verify.
          [['lfs.locksverify', 'false']]
        )
      )
    }
    return gits.get(origin)!
  }
}
