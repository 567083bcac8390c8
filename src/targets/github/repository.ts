// The mirror repository on GitHub for a Bitbucket repository: found under the name GitHub gave it,
// the name asked for or GitHub's form of it, or created (private, pointing back to Bitbucket); and
// whether the action may push into one it finds.
import type { BitbucketRepository } from '../../bitbucket/types.js'
import type { Git } from '../../git/git.js'
import {
  GitHubApiError,
  type GitHubApi,
  type GitHubOwner,
  type GitHubRepository
} from '../../github/api.js'
import type { RepositoryResult } from '../../report/results.js'
import type { GitHubSettings } from '../../settings/types.js'
import type { RepositoryState } from '../../state/state.js'
import { creationRefused, OWNER_PROBLEMS } from './failure.js'

export interface GitHubCandidate {
  repository: BitbucketRepository
  mirror: string
  state: RepositoryState
  result: RepositoryResult
}

function mirrorDescription(repository: BitbucketRepository): string {
  const text = `Mirror of ${repository.htmlUrl}${repository.description ? `: ${repository.description}` : ''}`
  return text.replace(/[\r\n]+/g, ' ').slice(0, 350)
}

/** Ours: made by this action (homepage points back), recorded in state, or empty. */
export function mayPushInto(
  existing: GitHubRepository,
  candidate: GitHubCandidate,
  remoteRefs: number
): boolean {
  return (
    existing.homepage === candidate.repository.htmlUrl ||
    candidate.state.github?.repository.toLowerCase() === existing.fullName.toLowerCase() ||
    remoteRefs === 0
  )
}

export interface RunContext {
  settings: GitHubSettings
  api: GitHubApi
  owner: GitHubOwner
  /** Set when the owner is a user other than the token's: repositories cannot be created there. */
  cannotCreate?: string
  gitFor(url: string): Git
  lfs: boolean
  now: () => Date
}

/** GitHub drops a trailing ".git" from a new repository's name; the name asked for then answers 404. */
function nameGitHubGives(name: string): string {
  return name.replace(/\.git$/i, '') || name
}

/** The mirror if it exists: under the name GitHub gave it last time, the name asked for, or GitHub's form of it. */
async function findRepository(
  context: RunContext,
  candidate: GitHubCandidate,
  name: string
): Promise<GitHubRepository | undefined> {
  const { api, owner, settings } = context
  const record = candidate.state.github
  const recorded =
    record &&
    (record.requested ?? record.repository).toLowerCase() ===
      `${settings.owner}/${name}`.toLowerCase()
      ? [record.repository.slice(record.repository.indexOf('/') + 1)]
      : []
  for (const each of new Set([...recorded, name, nameGitHubGives(name)])) {
    const found = await api.repository(owner.login, each)
    if (found) return found
  }
  return undefined
}

export async function ensureRepository(
  context: RunContext,
  candidate: GitHubCandidate,
  name: string,
  log: (line: string) => void
): Promise<{ repository: GitHubRepository; created: boolean }> {
  const { api, owner, settings } = context
  const existing = await findRepository(context, candidate, name)
  if (existing) return { repository: existing, created: false }
  if (context.cannotCreate) throw new Error(context.cannotCreate)
  try {
    const repository = await api.createRepository(owner, {
      name,
      description: mirrorDescription(candidate.repository),
      homepage: candidate.repository.htmlUrl,
      visibility: settings.visibility
    })
    log(`created ${repository.htmlUrl} (${repository.visibility ?? settings.visibility})`)
    return { repository, created: true }
  } catch (error) {
    if (error instanceof GitHubApiError && error.status === 422) {
      const raced = await findRepository(context, candidate, name)
      if (raced) return { repository: raced, created: false }
      if (/already exists/i.test(error.githubMessage)) {
        throw new Error(OWNER_PROBLEMS.hidden(settings, nameGitHubGives(name)), { cause: error })
      }
    }
    if (error instanceof GitHubApiError && [403, 404, 422].includes(error.status)) {
      throw new Error(creationRefused(settings, error), { cause: error })
    }
    throw error
  }
}
