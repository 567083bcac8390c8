// The conversation on a pull request: comments (inline, replies, deleted as Bitbucket shows them),
// approvals and requested changes, tasks. Each one is an activity entry; whether it moves the pull
// request's `updated_on` is UNCONFIRMED on the real service, so the stand-in is told (options).
import type { Account } from './metadata-state.js'
import { stamp } from './metadata-state.js'
import type { Participant, PullRequest, PullRequestComment } from './pull-request-model.js'
import type { State } from './types.js'

export function participant(pr: PullRequest, user: Account): Participant {
  let found = pr.participants.find(p => p.user.uuid === user.uuid)
  if (!found) {
    found = { user, role: 'PARTICIPANT', approved: false, state: null, participatedOn: null }
    pr.participants.push(found)
  }
  return found
}

export function addComment(
  state: State,
  pr: PullRequest,
  c: {
    raw: string
    user: Account
    inline?: PullRequestComment['inline']
    parent?: number
    at?: string
  }
): number {
  if (c.parent !== undefined && !pr.comments.some(comment => comment.id === c.parent))
    throw new Error(`local Bitbucket: pull request #${pr.id} has no comment ${c.parent}`)
  const date = stamp(state.metadata, c.at)
  const id = state.metadata.nextId++
  pr.comments.push({
    id,
    user: c.user,
    raw: c.raw,
    createdOn: date,
    updatedOn: date,
    inline: c.inline,
    parentId: c.parent,
    deleted: false
  })
  participant(pr, c.user).participatedOn = date
  pr.activity.push({ kind: 'comment', date, commentId: id })
  if (state.metadata.options.commentsMovePullRequestUpdatedOn) pr.updatedOn = date
  return id
}

/** As Bitbucket shows a deleted comment: still listed, `deleted: true`, its text gone. */
export function deleteComment(state: State, pr: PullRequest, commentId: number, at?: string) {
  const comment = pr.comments.find(candidate => candidate.id === commentId)
  if (!comment)
    throw new Error(`local Bitbucket: pull request #${pr.id} has no comment ${commentId}`)
  const date = stamp(state.metadata, at)
  Object.assign(comment, { deleted: true, raw: '', updatedOn: date })
  if (state.metadata.options.commentsMovePullRequestUpdatedOn) pr.updatedOn = date
}

export function review(
  state: State,
  pr: PullRequest,
  user: Account,
  kind: 'approval' | 'changes_requested',
  at?: string
) {
  const date = stamp(state.metadata, at)
  const who = participant(pr, user)
  Object.assign(who, {
    approved: kind === 'approval',
    state: kind === 'approval' ? 'approved' : 'changes_requested',
    participatedOn: date
  })
  pr.activity.push({ kind, date, user })
  if (state.metadata.options.approvalsMovePullRequestUpdatedOn) pr.updatedOn = date
}

export function addTask(
  state: State,
  pr: PullRequest,
  t: { raw: string; creator: Account; commentId?: number; resolved?: boolean; at?: string }
): number {
  const date = stamp(state.metadata, t.at)
  const id = state.metadata.nextId++
  pr.tasks.push({
    id,
    creator: t.creator,
    raw: t.raw,
    createdOn: date,
    updatedOn: date,
    commentId: t.commentId,
    ...(t.resolved ? { resolvedOn: date, resolvedBy: t.creator } : {})
  })
  return id
}
