// The github target: each changed repository's mirror goes to a GitHub repository (created when
// missing), refs first within the server's limits, then LFS objects, then the default branch.
import { messageOf } from '../../shared/errors.js'
import type { Log } from '../../shared/log.js'
import type { BackupTarget } from '../contract/target.js'
import type { GitHubSettings } from '../../settings/types.js'
import { GITHUB_REPOSITORY_NAME, mirrorName } from '../../settings/github.js'
import { metadataCommitOf, type RepositoryState } from '../../state/state.js'
import { METADATA_REF } from '../../metadata/layout.js'
import { fitArchiveToFileLimit } from './archive.js'
import { keepDownloads } from './downloads-release.js'
import { keepReleaseTag } from './release-tag.js'
import { createGitHubApi, GitHubApiError, type GitHubOwner } from '../../github/api.js'
import { githubGitFor } from '../../github/git.js'
import { findOversizedFiles, pushLfsObjects } from '../../git/lfs-push.js'
import { planMirrorPush, pushMirror, type PushDestination } from '../../git/push.js'
import { Inputs } from '../../shared/constants.js'
import { describeMirrorFailure, OWNER_PROBLEMS } from './failure.js'
import {
  ensureRepository,
  mayPushInto,
  type GitHubCandidate,
  type RunContext
} from './repository.js'
import { coded } from '../../shared/codes.js'

/** How the generic push code names this destination in logs and errors. */
const GITHUB_PUSH: PushDestination = { name: 'GitHub', sizeLimitInput: Inputs.GitHubPushSizeLimit }

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

async function mirrorOne(
  context: RunContext,
  candidate: GitHubCandidate,
  log: (line: string) => void
): Promise<{ summary: string; warnings: string[]; reportNote?: string }> {
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
  keepReleaseTag(plan)
  if (!created && !settings.overwrite && !mayPushInto(repository, candidate, plan.remoteRefs)) {
    throw new Error(
      coded(
        'GH008',
        `${ownerName}/${name} already exists with ${plan.remoteRefs} ref(s) and was not created by bitbucket-backup (its homepage is not ${candidate.repository.htmlUrl}); choose another github-repository-name, or set github-overwrite: true to replace its branches and tags`
      )
    )
  }
  const archive = await fitArchiveToFileLimit(git, mirror, plan, settings.maxFileBytes, log)
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
  const downloads = await keepDownloads({
    api: context.api,
    fullName: repository.fullName,
    git,
    mirror,
    bitbucketUrl: candidate.repository.htmlUrl,
    state,
    log
  })
  const metadataCommit = metadataCommitOf(state)
  state.github = {
    repository: repository.fullName,
    requested: `${settings.owner}/${name}`,
    fingerprint: state.fingerprint,
    // Left out when the Downloads did not reach the release: the mirror is due again next run.
    ...(metadataCommit && downloads.done
      ? { metadataCommit, downloadsRelease: state.metadata?.downloadsDigest }
      : {}),
    pushedAt: context.now().toISOString(),
    lfs: context.lfs && state.lfsComplete
  }
  candidate.result.github = repository.htmlUrl
  const lfsNote = withLfs ? `, ${state.lfsObjects} LFS object(s)` : ''
  // An archive left out is a warning; one without its big Downloads loses nothing (they are assets).
  const warnings = [...(archive?.heldBack ? [archive.line] : []), ...downloads.warnings]
  const archiveNote = archive?.without ? `; ${archive.line}` : ''
  return {
    summary: `${pushed.refsSet} ref(s) set and ${pushed.refsDeleted} deleted in ${pushed.pushes} push(es)${lfsNote}${downloads.note ?? ''}${archiveNote}`,
    warnings,
    ...(archive?.without
      ? {
          reportNote: `metadata archive without ${archive.without.length} Download(s) over the file limit, kept as release assets`
        }
      : {})
  }
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
        work.log(`GitHub mirror: ${done.summary}`)
        const name = `${work.repository.workspace}/${work.repository.slug}`
        for (const warning of done.warnings) log.warning(`${name}: GitHub mirror: ${warning}`)
        if (done.reportNote) work.result.detail = `${work.result.detail} (${done.reportNote})`
        if (done.warnings.length > 0)
          work.result.detail = `${work.result.detail} (${done.warnings.length} warning(s) about its metadata archive or Downloads)`
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
