// The github target: each changed repository's mirror goes to a GitHub repository (created when
// missing), refs first within the server's limits, then LFS objects, then the default branch.
import type { BitbucketRepository } from '../../bitbucket/types.js'
import { messageOf } from '../../shared/errors.js'
import type { Log } from '../../shared/log.js'
import type { Git } from '../../git/git.js'
import type { RepositoryResult } from '../../report/results.js'
import type { BackupTarget } from '../contract/target.js'
import type { GitHubSettings } from '../../settings/types.js'
import { GITHUB_REPOSITORY_NAME, mirrorName } from '../../settings/github.js'
import { metadataCommitOf, type RepositoryState } from '../../state/state.js'
import { METADATA_REF } from '../../metadata/layout.js'
import { holdBackLargeArchive } from './archive.js'
import {
  createGitHubApi,
  GitHubApiError,
  type GitHubApi,
  type GitHubOwner,
  type GitHubRepository
} from '../../github/api.js'
import { githubGitFor } from '../../github/git.js'
import { findOversizedFiles, pushLfsObjects } from '../../git/lfs-push.js'
import { planMirrorPush, pushMirror, type PushDestination } from '../../git/push.js'
import { Inputs } from '../../shared/constants.js'
import { describeMirrorFailure, OWNER_PROBLEMS, creationRefused } from './failure.js'
import { coded } from '../../shared/codes.js'

/** How the generic push code names this destination in logs and errors. */
const GITHUB_PUSH: PushDestination = { name: 'GitHub', sizeLimitInput: Inputs.GitHubPushSizeLimit }

export interface GitHubCandidate {
  repository: BitbucketRepository
  mirror: string
  state: RepositoryState
  result: RepositoryResult
}

/** Whether the mirror on GitHub lags the backup: new refs, a new name, or LFS objects it lacks. */
export function githubPushDue(
  settings: GitHubSettings,
  state: RepositoryState | undefined,
  lfs: boolean
): boolean {
  const record = state?.github
  if (!state || !record) return true
  const name = `${settings.owner}/${mirrorName(settings.nameTemplate, state)}`.toLowerCase()
  return (
    (record.requested ?? record.repository).toLowerCase() !== name ||
    record.fingerprint !== state.fingerprint ||
    record.metadataCommit !== metadataCommitOf(state) ||
    (lfs && state.lfsComplete && !record.lfs)
  )
}

function mirrorDescription(repository: BitbucketRepository): string {
  const text = `Mirror of ${repository.htmlUrl}${repository.description ? `: ${repository.description}` : ''}`
  return text.replace(/[\r\n]+/g, ' ').slice(0, 350)
}

/** Ours: made by this action (homepage points back), recorded in state, or empty. */
function mayPushInto(
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

interface RunContext {
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

async function ensureRepository(
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

async function mirrorOne(
  context: RunContext,
  candidate: GitHubCandidate,
  log: (line: string) => void
): Promise<string> {
  const { settings } = context
  const ownerName = context.owner.login
  const name = mirrorName(settings.nameTemplate, candidate.repository)
  if (!GITHUB_REPOSITORY_NAME.test(name)) {
    throw new Error(
      coded(
        'GH007',
        `"${name}" is not a valid GitHub repository name; change github-repository-name`
      )
    )
  }
  const { repository, created } = await ensureRepository(context, candidate, name, log)
  const git = context.gitFor(repository.cloneUrl)
  const { mirror, state } = candidate
  // The metadata archive goes along as a ref outside branches and tags; the rest of refs/backup/ never.
  const plan = await planMirrorPush(git, mirror, repository.cloneUrl, undefined, [METADATA_REF])
  if (!created && !settings.overwrite && !mayPushInto(repository, candidate, plan.remoteRefs)) {
    throw new Error(
      coded(
        'GH008',
        `${ownerName}/${name} already exists with ${plan.remoteRefs} ref(s) and was not created by bitbucket-backup (its homepage is not ${candidate.repository.htmlUrl}); choose another github-repository-name, or set github-overwrite: true to replace its branches and tags`
      )
    )
  }
  await holdBackLargeArchive(git, mirror, plan, settings.maxFileBytes, log)
  const sets = plan.updates.flatMap(update => (update.oid ? [update.oid] : []))
  const oversized = await findOversizedFiles(git, mirror, sets, plan.known, settings.maxFileBytes)
  if (oversized.length > 0) {
    const files = oversized
      .slice(0, 5)
      .map(file => `${file.path} (${(file.bytes / 1e6).toFixed(1)} MB)`)
      .join(', ')
    throw new Error(
      coded(
        'GH001',
        `${oversized.length} file(s) over GitHub's ${(settings.maxFileBytes / 1e6).toFixed(0)} MB limit: ${files}${oversized.length > 5 ? ', ...' : ''}; move them to Git LFS upstream (git lfs migrate import --include=<pattern> --everything), or raise github-file-size-limit where the server allows more`
      )
    )
  }
  const mainBranch = candidate.repository.mainBranch
  let defaultBranchSet = false
  const setDefaultBranch = async () => {
    if (defaultBranchSet || !mainBranch || repository.defaultBranch === mainBranch) return
    const local = await git.exec(['rev-parse', '--verify', '--quiet', `refs/heads/${mainBranch}`], {
      cwd: mirror
    })
    if (local.exitCode !== 0) return
    await context.api.setDefaultBranch(repository.fullName, mainBranch)
    defaultBranchSet = true
    log(`default branch set to ${mainBranch}`)
  }
  // LFS objects first: GitHub refuses a push whose pointers name objects it does not have (GH008).
  const withLfs = context.lfs && state.lfsObjects > 0
  if (withLfs)
    await pushLfsObjects(git, mirror, repository.cloneUrl, state.lfsComplete, GITHUB_PUSH)
  const pushed = await pushMirror(plan, {
    git,
    mirror,
    url: repository.cloneUrl,
    destination: GITHUB_PUSH,
    maxPushBytes: settings.maxPushBytes,
    refsPerPush: settings.refsPerPush,
    log,
    beforeDeletes: setDefaultBranch
  })
  await setDefaultBranch()
  state.github = {
    repository: repository.fullName,
    requested: `${settings.owner}/${name}`,
    fingerprint: state.fingerprint,
    ...(state.metadata?.commit ? { metadataCommit: state.metadata.commit } : {}),
    pushedAt: context.now().toISOString(),
    lfs: context.lfs && state.lfsComplete
  }
  candidate.result.github = repository.htmlUrl
  const lfsNote = withLfs ? `, ${state.lfsObjects} LFS object(s)` : ''
  return `${pushed.refsSet} ref(s) set and ${pushed.refsDeleted} deleted in ${pushed.pushes} push(es)${lfsNote}`
}

/** Resolves the owner once per run: a wrong owner or token is one line, before any push. */
async function openContext(
  settings: GitHubSettings,
  lfs: boolean,
  now: () => Date
): Promise<RunContext> {
  const api = createGitHubApi({ apiUrl: settings.apiUrl, token: settings.token })
  let owner: GitHubOwner | undefined
  try {
    owner = await api.owner(settings.owner)
  } catch (error) {
    if (error instanceof GitHubApiError && error.status === 401)
      throw new Error(OWNER_PROBLEMS.badToken(settings), { cause: error })
    throw error
  }
  if (!owner) throw new Error(OWNER_PROBLEMS.notFound(settings))
  let cannotCreate: string | undefined
  if (owner.type === 'User') {
    const login = await api.authenticatedLogin()
    if (login?.toLowerCase() !== owner.login.toLowerCase()) {
      cannotCreate = OWNER_PROBLEMS.otherUser(settings, login)
    }
  }
  const gitFor = githubGitFor(settings.token)
  return { settings, api, owner, cannotCreate, gitFor, lfs, now }
}

/**
 * With nothing to push, the owner and token are still checked: an expired token is a warning today
 * instead of a failure on the day something changes.
 */
async function checkAccessOnly(settings: GitHubSettings, lfs: boolean, log: Log): Promise<number> {
  try {
    const context = await openContext(settings, lfs, () => new Date())
    return context.api.requestCount
  } catch (error) {
    log.warning(
      `GitHub mirrors are up to date, but the next change cannot be mirrored: ${describeMirrorFailure(error, settings)}`
    )
    return 0
  }
}

/** Pushes each due repository as it finishes; the owner and token are resolved once, at the first. */
export function createGitHubTarget(options: {
  settings: GitHubSettings
  lfs: boolean
  log: Log
  now?: () => Date
}): BackupTarget {
  const { settings, lfs, log } = options
  let opened: Promise<RunContext> | undefined
  let resolved: RunContext | undefined
  let checkedRequests = 0
  const contextOnce = () =>
    (opened ??= openContext(settings, lfs, options.now ?? (() => new Date())).then(
      context => {
        if (settings.visibility === 'internal' && context.owner.type === 'User') {
          log.warning(
            coded(
              'GH009',
              `github-visibility: internal exists only in organizations of an enterprise; mirrors created in the user account ${settings.owner} are private`
            )
          )
        }
        log.info(`Mirroring to ${settings.owner} on ${settings.apiUrl}`)
        resolved = context
        return context
      },
      (error: unknown) => {
        log.info(`GitHub mirrors: ${messageOf(error)}`)
        throw error
      }
    ))
  return {
    kind: 'github',
    costly: true,
    diskPerMirrorByte: 0,
    due: state => githubPushDue(settings, state, lfs),
    async publish(work) {
      try {
        const done = await mirrorOne(await contextOnce(), work, work.log)
        work.result.detail = `${work.result.detail}; mirrored to ${work.result.github}`
        work.log(`GitHub mirror: ${done}`)
      } catch (error) {
        throw new Error(`GitHub mirror: ${describeMirrorFailure(error, settings)}`, {
          cause: error
        })
      }
    },
    async finish() {
      if (!opened) checkedRequests = await checkAccessOnly(settings, lfs, log)
    },
    figures: () => ({
      githubRequests: checkedRequests + (resolved?.api.requestCount ?? 0)
    })
  }
}
