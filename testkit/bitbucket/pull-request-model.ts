// Pull requests of the local Bitbucket and what happens to them: opened from a branch (its diff and
// patch kept from then on, as Bitbucket keeps a pull request's change after its source branch is
// gone), edited, declined, merged with a real merge commit, superseded; each an activity entry that
// moves `updated_on`. The conversation on them is in pull-request-conversation.ts.
import type { Account, MetadataState } from './metadata-state.js'
import { makeAccount, stamp } from './metadata-state.js'
import { mainBranchOf } from './repository.js'
import { branchTip, deleteBranchRef, mergeInto, pullRequestChange } from './server-git.js'
import { findRepo, gitDirOf, type Repo, type State } from './types.js'

export type PullRequestState = 'OPEN' | 'MERGED' | 'DECLINED' | 'SUPERSEDED'

export interface PullRequestComment {
  id: number
  user: Account
  raw: string
  createdOn: string
  updatedOn: string
  inline?: { path: string; from?: number; to?: number }
  parentId?: number
  deleted: boolean
}

export interface PullRequestTask {
  id: number
  creator: Account
  raw: string
  createdOn: string
  updatedOn: string
  commentId?: number
  resolvedOn?: string
  resolvedBy?: Account
}

export type ActivityEntry =
  | {
      kind: 'update'
      date: string
      user: Account
      state: PullRequestState
      title: string
      description: string
      reason: string
      source: string
      destination: string
    }
  | { kind: 'approval' | 'changes_requested'; date: string; user: Account }
  | { kind: 'comment'; date: string; commentId: number }

export interface Participant {
  user: Account
  role: 'PARTICIPANT' | 'REVIEWER'
  approved: boolean
  state: 'approved' | 'changes_requested' | null
  participatedOn: string | null
}

export interface PullRequest {
  id: number
  title: string
  description: string
  state: PullRequestState
  author: Account
  source: { branch: string; commit: string }
  destination: { branch: string; commit: string }
  mergeCommit?: string
  closeSourceBranch: boolean
  closedBy?: Account
  reason: string
  draft: boolean
  createdOn: string
  updatedOn: string
  participants: Participant[]
  comments: PullRequestComment[]
  tasks: PullRequestTask[]
  /** Newest last; the API answers newest first. */
  activity: ActivityEntry[]
  /** Kept when the pull request is opened: its source branch may be deleted later. */
  diff: string
  patch: string
}

export function pullRequestsOf(meta: MetadataState, repo: Repo): PullRequest[] {
  let list = meta.pullRequests.get(repo.uuid)
  if (!list) meta.pullRequests.set(repo.uuid, (list = []))
  return list
}

export function findPullRequest(state: State, workspace: string, slug: string, id: number) {
  const repo = findRepo(state, workspace, slug)
  if (!repo) throw new Error(`local Bitbucket: no repository ${workspace}/${slug}`)
  const pr = pullRequestsOf(state.metadata, repo).find(candidate => candidate.id === id)
  if (!pr) throw new Error(`local Bitbucket: ${workspace}/${slug} has no pull request #${id}`)
  return { repo, pr }
}

function recordUpdate(pr: PullRequest, user: Account, date: string) {
  pr.updatedOn = date
  pr.activity.push({
    kind: 'update',
    date,
    user,
    state: pr.state,
    title: pr.title,
    description: pr.description,
    reason: pr.reason,
    source: pr.source.commit,
    destination: pr.destination.commit
  })
}

export interface NewPullRequest {
  title: string
  source: string
  /** Defaults to the repository's main branch. */
  destination?: string
  description?: string
  author: Account
  reviewers?: Account[]
  closeSourceBranch?: boolean
  draft?: boolean
  at?: string
}

export async function openPullRequest(state: State, repo: Repo, opts: NewPullRequest) {
  const gitDir = gitDirOf(state, repo)
  const destination = opts.destination ?? mainBranchOf(state, repo) ?? 'main'
  const [source, target] = await Promise.all([
    branchTip(state, gitDir, opts.source),
    branchTip(state, gitDir, destination)
  ])
  if (!source || !target)
    throw new Error(
      `local Bitbucket: ${repo.slug} has no branch ${source ? destination : opts.source}`
    )
  const change = await pullRequestChange(state, gitDir, source, target)
  const list = pullRequestsOf(state.metadata, repo)
  const date = stamp(state.metadata, opts.at)
  const pr: PullRequest = {
    id: list.length + 1,
    title: opts.title,
    description: opts.description ?? '',
    state: 'OPEN',
    author: opts.author,
    source: { branch: opts.source, commit: source },
    destination: { branch: destination, commit: target },
    closeSourceBranch: opts.closeSourceBranch ?? false,
    reason: '',
    draft: opts.draft ?? false,
    createdOn: date,
    updatedOn: date,
    participants: (opts.reviewers ?? []).map(user => ({
      user,
      role: 'REVIEWER',
      approved: false,
      state: null,
      participatedOn: null
    })),
    comments: [],
    tasks: [],
    activity: [],
    ...change
  }
  recordUpdate(pr, opts.author, date)
  list.push(pr)
  return pr
}

export function editPullRequest(
  state: State,
  pr: PullRequest,
  change: { title?: string; description?: string; state?: 'SUPERSEDED'; by?: Account; at?: string }
) {
  if (change.title !== undefined) pr.title = change.title
  if (change.description !== undefined) pr.description = change.description
  if (change.state) {
    if (pr.state !== 'OPEN')
      throw new Error(`local Bitbucket: pull request #${pr.id} is ${pr.state}`)
    pr.state = change.state
    pr.closedBy = change.by ?? pr.author
  }
  recordUpdate(pr, change.by ?? pr.author, stamp(state.metadata, change.at))
}

/** Declines or merges; with `close_source_branch` the source branch is deleted afterwards. */
export async function closePullRequest(
  state: State,
  repo: Repo,
  pr: PullRequest,
  how: { merge: boolean; by?: Account; reason?: string; message?: string; at?: string }
): Promise<void> {
  if (pr.state !== 'OPEN') throw new Error(`local Bitbucket: pull request #${pr.id} is ${pr.state}`)
  const gitDir = gitDirOf(state, repo)
  const by = how.by ?? makeAccount('fixture-admin', 'Fixture Admin')
  const date = stamp(state.metadata, how.at)
  if (how.merge) {
    const tip = await branchTip(state, gitDir, pr.destination.branch)
    if (!tip)
      throw new Error(`local Bitbucket: ${repo.slug} has no branch ${pr.destination.branch}`)
    const message =
      how.message ?? `Merged in ${pr.source.branch} (pull request #${pr.id})\n\n${pr.title}\n`
    const who = { name: by.displayName, email: `${by.nickname}@users.bitbucket.example`, date }
    pr.mergeCommit = await mergeInto(
      state,
      gitDir,
      { branch: pr.destination.branch, commit: tip },
      pr.source.commit,
      message,
      who
    )
  }
  pr.state = how.merge ? 'MERGED' : 'DECLINED'
  pr.reason = how.reason ?? ''
  pr.closedBy = by
  recordUpdate(pr, by, date)
  if (pr.closeSourceBranch && (await branchTip(state, gitDir, pr.source.branch)))
    await deleteBranchRef(state, gitDir, pr.source.branch)
}
